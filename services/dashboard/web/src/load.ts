// Loading one resource into a component: its value (the last one, kept while it reloads),
// the error of the last attempt, whether a load is under way, and a reload.

import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

interface Result<T> {
  key: string | null;
  data: T | null;
  error: Error | null;
}

/** `load` runs again whenever one of `deps` (plain values) changes or `reload` is called;
 * null loads nothing. */
export function useLoad<T>(load: (() => Promise<T>) | null, deps: readonly unknown[]): Loaded<T> {
  const [tick, setTick] = useState(0);
  const key = JSON.stringify([...deps, tick, load === null]);
  const [result, setResult] = useState<Result<T>>({ key: null, data: null, error: null });
  useEffect(() => {
    if (load === null) return;
    let live = true;
    load().then(
      (data) => live && setResult({ key, data, error: null }),
      (err: unknown) =>
        live && setResult((old) => ({ key, data: old.data, error: err instanceof Error ? err : new Error(String(err)) })),
    );
    return () => {
      live = false;
    };
    // `load` is a new closure each render; `key` says when it means something new
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: result.data, error: result.error, loading: load !== null && result.key !== key, reload };
}
