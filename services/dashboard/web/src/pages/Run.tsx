import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, getJson, lineagePath, prefetchJson, runPath } from "../api";
import { LockIcon, StatusBadge } from "../components/Badges";
import { MetricsPanel } from "../components/Charts";
import { LineageGraph } from "../components/LineageGraph";
import { NodeDetails } from "../components/NodeDetails";
import { ReviewPanel } from "../components/Review";
import { ChainPanel, ConfigPanel, EvaluationsPanel, FindingsPanel, SummaryPanel } from "../components/RunPanels";
import { configOf } from "../lib/events";
import { findingCounts } from "../lib/graph";
import { preloadLayout } from "../lib/layout";
import { type HashProgress, type LiveEvent, useLive } from "../live";
import { useLoad } from "../load";
import { Link } from "../router";
import { useSession } from "../session";
import type { Annotation, Approval, EventPage, Lineage, MetricSeries, RunSummary, StoredEvent } from "../types";
import { NotFound } from "./NotFound";

const FIRST_EVENTS = 200; // enough for the configuration, which a run records first
const ALL_EVENTS = 10_000; // the read API's page limit

/** The reads the page's first paint needs (the paths `preloadRunPage` asks for early). */
function firstReads(runId: string) {
  const base = lineagePath(runPath(runId));
  return { base, lineage: `${base}/lineage`, head: `${base}/events?limit=${FIRST_EVENTS}` };
}

/** Opened at a run's address: its graph, summary and first events asked for, and the layout
 * engine loaded, while the session is (App.tsx). */
export function preloadRunPage(runId: string): void {
  void preloadLayout();
  const reads = firstReads(runId);
  for (const path of [reads.lineage, reads.base, reads.head]) prefetchJson(path);
}

export function RunPage({ runId }: { runId: string }) {
  const { me } = useSession();
  useEffect(() => void preloadLayout(), []);
  const reads = firstReads(runId);
  const base = reads.base;
  const summary = useLoad(() => getJson<RunSummary>(base), [base]);
  const lineage = useLoad(() => getJson<Lineage>(reads.lineage), [base]);
  const metrics = useLoad(() => getJson<MetricSeries>(`${base}/metrics`), [base]);
  const annotations = useLoad(() => getJson<{ annotations: Annotation[] }>(`${base}/annotations`), [base]);
  const approvals = useLoad(() => getJson<{ approvals: Approval[] }>(`${base}/approvals`), [base]);
  const head = useLoad(() => getJson<EventPage>(reads.head), [base]);
  const [wantAll, setWantAll] = useState(false);
  const all = useLoad(wantAll ? () => getJson<EventPage>(`${base}/events?limit=${ALL_EVENTS}`) : null, [base, wantAll]);
  const [selected, setSelectedId] = useState<string | null>(null);
  const [progress, setProgress] = useState<ReadonlyMap<string, HashProgress>>(new Map());
  const [live, setLive] = useState<LiveEvent[]>([]);
  const [connected, setConnected] = useState(false);
  const [recorded, setRecorded] = useState<Annotation[]>([]); // annotated here, maybe not folded yet

  const reloadAll = useCallback(() => {
    summary.reload();
    lineage.reload();
    annotations.reload();
    approvals.reload();
    head.reload();
    if (wantAll) all.reload();
  }, [summary, lineage, annotations, approvals, head, all, wantAll]);

  // A command is answered before lineage folds what it recorded: look again shortly after
  // (the live stream also triggers a reload when the event arrives).
  const timers = useRef<number[]>([]);
  const afterChange = useCallback(() => {
    reloadAll();
    for (const ms of [800, 2_500, 6_000, 12_000, 20_000]) timers.current.push(window.setTimeout(reloadAll, ms));
  }, [reloadAll]);
  useEffect(() => () => timers.current.forEach((t) => window.clearTimeout(t)), []);

  const pendingReload = useRef<number | null>(null);
  useLive(runId, {
    onEvent: (e) => {
      setLive((old) => [e, ...old].slice(0, 20));
      if (pendingReload.current !== null) return;
      pendingReload.current = window.setTimeout(() => {
        pendingReload.current = null;
        reloadAll();
        metrics.reload();
      }, (lineage.data?.nodes.length ?? 0) > 500 ? 5_000 : 1_500); // a big graph is a big read
    },
    onHash: (h) => setProgress((old) => new Map(old).set(h.node_id, h)),
    onStatus: setConnected,
  });

  const nodesById = useMemo(() => new Map((lineage.data?.nodes ?? []).map((n) => [n.id, n])), [lineage.data]);
  const setSelected = useCallback(
    (id: string | null) => {
      setSelectedId(id);
      // the file manifest and provenance live in the events: load them all when a node asks
      const type = id === null ? undefined : nodesById.get(id)?.type;
      if (type !== undefined && type !== "eval") setWantAll(true);
    },
    [nodesById],
  );
  const findings = useMemo(() => summary.data?.findings ?? [], [summary.data]);
  const counts = useMemo(() => findingCounts(findings), [findings]);
  const selectedNode = selected ? nodesById.get(selected) : undefined;
  const notes = useMemo(() => {
    const loaded = annotations.data?.annotations ?? [];
    const known = new Set(loaded.map((a) => a.annotation_id));
    return [...loaded, ...recorded.filter((a) => !known.has(a.annotation_id))];
  }, [annotations.data, recorded]);

  const notFound = [summary.error, lineage.error].some((e) => e instanceof ApiError && (e.status === 404 || e.status === 422));
  if (notFound) return <NotFound what={`No run ${runId} in this workspace.`} />;
  const error = summary.error ?? lineage.error;

  const run = summary.data;
  const sealed = run?.status === "AUDIT_SEALED" || lineage.data?.status === "AUDIT_SEALED";
  const events: StoredEvent[] | null = all.data?.events ?? null;
  const config = configOf(all.data?.events ?? head.data?.events ?? []);

  return (
    <main id="main" className={`page run${sealed ? " is-sealed" : ""}`}>
      <p className="crumbs">
        <Link to="/runs">Runs</Link> / {run?.project ?? "…"}
      </p>
      <div className="title-row">
        <h1>{runId}</h1>
        {run ? <StatusBadge status={run.status} /> : null}
        {sealed ? (
          <p className="sealed-banner" role="status">
            <LockIcon /> Sealed — read-only
          </p>
        ) : null}
        <span className={`live-dot ${connected ? "on" : "off"}`} role="status">
          {connected ? "Live" : "Not live"}
        </span>
        <Link className="button secondary" to={`/compare?a=${encodeURIComponent(runId)}${run ? `&project=${encodeURIComponent(run.project)}` : ""}`}>
          Compare with…
        </Link>
      </div>
      {error ? (
        <p role="alert" className="error">
          Could not load the run: {error.message}
        </p>
      ) : null}
      <div className={`run-top${selectedNode ? " with-details" : ""}`}>
        {lineage.data ? (
          <LineageGraph lineage={lineage.data} findings={counts} selected={selected} onSelect={setSelected} progress={progress} />
        ) : (
          <section className="graph-region" aria-busy="true">
            <div className="graph" role="region" aria-label="Lineage graph">
              <p className="muted pad">Loading the lineage graph…</p>
            </div>
          </section>
        )}
        {selectedNode ? (
          <NodeDetails
            key={selectedNode.id}
            node={selectedNode}
            findings={findings}
            annotations={notes}
            events={events}
            eventsError={all.error?.message ?? null}
            onClose={() => setSelected(null)}
            onSelect={setSelected}
          />
        ) : null}
      </div>
      <div className="run-grid">
        <div className="col">
          {run ? <SummaryPanel run={run} approvals={approvals.data?.approvals ?? null} /> : null}
          <ConfigPanel config={config} loading={head.loading} />
          <section className="card" aria-label="Metrics">
            <h2>Metrics</h2>
            <MetricsPanel series={metrics.data?.series ?? null} />
          </section>
          <EvaluationsPanel nodes={lineage.data?.nodes ?? []} onSelect={setSelected} />
        </div>
        <div className="col">
          {run ? (
            <ReviewPanel
              me={me}
              runId={runId}
              sealed={sealed}
              nodes={lineage.data?.nodes ?? []}
              selected={selected}
              findings={findings}
              onChanged={afterChange}
              onAnnotated={(a) => setRecorded((old) => [...old, a])}
            />
          ) : null}
          <FindingsPanel findings={findings} />
          <ChainPanel chain={head.data?.chain ?? null} error={head.error?.message ?? null} />
          <AnnotationsPanel annotations={notes} onSelect={setSelected} />
          {live.length > 0 ? (
            <section className="card" aria-label="Live events">
              <h2>Live events</h2>
              <ol className="live-list small">
                {live.map((e) => (
                  <li key={e.event_id}>
                    <code>{e.event_type}</code> {e.seq !== null ? `#${e.seq}` : ""} <span className="muted">{e.time}</span>
                  </li>
                ))}
              </ol>
            </section>
          ) : null}
        </div>
      </div>
    </main>
  );
}

function AnnotationsPanel({ annotations, onSelect }: { annotations: readonly Annotation[]; onSelect: (id: string) => void }) {
  return (
    <section className="card" aria-label="Review thread">
      <h2>Annotations</h2>
      {annotations.length === 0 ? (
        <p className="muted">No annotation yet.</p>
      ) : (
        <ol className="thread">
          {annotations.map((a) => (
            <li key={a.annotation_id}>
              <p className="who-line">
                <strong>{a.author.name}</strong> <span className="muted">({a.author.role})</span> on{" "}
                <button type="button" className="link" onClick={() => onSelect(a.node_id)}>
                  {a.node_id}
                </button>{" "}
                <span className="muted small">{new Date(a.time).toISOString().slice(0, 16).replace("T", " ")} UTC</span>
              </p>
              <p className="note">{a.text}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
