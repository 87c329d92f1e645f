// Live updates: the BFF's server-sent events (GET /api/live), fed from Kafka.

import { useEffect, useRef } from "react";

export interface LiveEvent {
  event_type: string;
  seq: number | null;
  time: string;
  event_id: string;
  run_id: string;
}

export interface HashProgress {
  job_id: string;
  node_id: string;
  bytes_done: number;
  bytes_total: number;
  state: string;
}

export interface LiveHandlers {
  onEvent?: (e: LiveEvent) => void;
  onHash?: (h: HashProgress) => void;
  onStatus?: (connected: boolean) => void;
}

/** Subscribe to the live stream of one run (or the whole workspace when runId is null). */
export function useLive(runId: string | null, handlers: LiveHandlers, enabled = true): void {
  const ref = useRef(handlers);
  useEffect(() => {
    ref.current = handlers;
  });
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const url = runId === null ? "/api/live" : `/api/live?run_id=${encodeURIComponent(runId)}`;
    const source = new EventSource(url, { withCredentials: true });
    const parse = (msg: MessageEvent<unknown>): unknown => {
      try {
        return typeof msg.data === "string" ? JSON.parse(msg.data) : null;
      } catch {
        return null;
      }
    };
    source.addEventListener("event", (msg: MessageEvent<unknown>) => {
      const e = parse(msg) as LiveEvent | null;
      if (e) ref.current.onEvent?.(e);
    });
    source.addEventListener("hash", (msg: MessageEvent<unknown>) => {
      const h = parse(msg) as HashProgress | null;
      if (h) ref.current.onHash?.(h);
    });
    source.onopen = () => ref.current.onStatus?.(true);
    source.onerror = () => ref.current.onStatus?.(false);
    return () => source.close();
  }, [runId, enabled]);
}
