import { useId, type ReactNode } from "react";
import { keyHyperparameters } from "../lib/events";
import { benchmarkKey } from "../lib/graph";
import { cell, count, metric, time } from "../lib/format";
import type { Approval, Chain, Finding, LineageNode, RunSummary } from "../types";
import { ApprovalBadge, StatusBadge } from "./Badges";
import { LazyDetails } from "./Lazy";
import { FindingList } from "./NodeDetails";
import { FullHash } from "./FullHash";

function Region({ title, children, className }: { title: string; children: ReactNode; className?: string }) {
  const id = useId();
  return (
    <section className={`card ${className ?? ""}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

export function SummaryPanel({ run, approvals }: { run: RunSummary; approvals: readonly Approval[] | null }) {
  const end = run["end"] as Record<string, unknown> | undefined;
  const system = run["system"] as Record<string, unknown> | undefined;
  const last = approvals && approvals.length > 0 ? approvals[approvals.length - 1] : undefined;
  return (
    <Region title="Run summary">
      <dl className="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={run.status} />
        </dd>
        <dt>Project</dt>
        <dd>{run.project}</dd>
        {run.name ? (
          <>
            <dt>Name</dt>
            <dd>{run.name}</dd>
          </>
        ) : null}
        <dt>Started</dt>
        <dd>{time(run.started_at)}</dd>
        <dt>Ended</dt>
        <dd>{time(typeof end?.["ended_at"] === "string" ? end["ended_at"] : null)}</dd>
        <dt>Last event</dt>
        <dd>{time(run.last_event_at)}</dd>
        {run.sealed_at ? (
          <>
            <dt>Sealed</dt>
            <dd>{time(run.sealed_at)}</dd>
          </>
        ) : null}
        <dt>Events</dt>
        <dd>
          {run.seq_high === null ? "—" : `${count(run.seq_high)} (highest sequence number)`}
          {run.sequence_gaps.length > 0 ? (
            <strong className="error">
              {" "}
              — sequence gaps: {run.sequence_gaps.map((g) => (g.from === g.to ? g.from : `${g.from}–${g.to}`)).join(", ")}
            </strong>
          ) : null}
        </dd>
        <dt>Approval</dt>
        <dd>
          {last ? (
            <>
              <ApprovalBadge approval={last.decision.includes("reject") ? "rejected" : "approved"} /> by {last.reviewer.name} ({last.reviewer.role}),{" "}
              {time(last.time)}
              {last.comment ? <q className="small"> {last.comment}</q> : null}
            </>
          ) : (
            <ApprovalBadge approval="pending" />
          )}
        </dd>
        {Object.keys(run.tags).length > 0 ? (
          <>
            <dt>Tags</dt>
            <dd>
              <ul className="tags">
                {Object.entries(run.tags).map(([k, v]) => (
                  <li key={k}>
                    {k}:{v}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
        {system ? (
          <>
            <dt>System</dt>
            <dd className="small">
              {["host", "os", "python_version", "gpu_model", "gpu_count", "cuda_version"]
                .filter((k) => system[k] !== null && system[k] !== undefined)
                .map((k) => `${k.replace(/_/g, " ")}: ${cell(system[k])}`)
                .join(" · ")}
            </dd>
          </>
        ) : null}
      </dl>
      {approvals && approvals.length > 1 ? (
        <details>
          <summary>All decisions ({approvals.length})</summary>
          <ol className="thread">
            {approvals.map((a) => (
              <li key={a.event_id}>
                {a.decision} by {a.reviewer.name} ({a.reviewer.role}), {time(a.time)}
                {a.comment ? `: ${a.comment}` : ""}
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </Region>
  );
}

export function ConfigPanel({ config, loading }: { config: Record<string, unknown> | null; loading: boolean }) {
  const hp = keyHyperparameters(config);
  return (
    <Region title="Hyperparameters">
      {config === null ? (
        <p className="muted">{loading ? "Loading the configuration…" : "No configuration was captured."}</p>
      ) : (
        <>
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">Parameter</th>
                <th scope="col">Value</th>
                <th scope="col">Source key</th>
              </tr>
            </thead>
            <tbody>
              {hp.map((h) => (
                <tr key={h.source}>
                  <th scope="row">{h.label}</th>
                  <td className="num">{typeof h.value === "number" ? metric(h.value) : cell(h.value)}</td>
                  <td>
                    <code className="small">{h.source}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <LazyDetails summary="Full configuration">{() => <pre className="json">{JSON.stringify(config, null, 2)}</pre>}</LazyDetails>
        </>
      )}
    </Region>
  );
}

const SHOWN_BENCHMARKS = 20;

export function EvaluationsPanel({ nodes, onSelect }: { nodes: readonly LineageNode[]; onSelect: (id: string) => void }) {
  const evals = nodes.filter((n) => n.type === "eval");
  const groups = new Map<string, LineageNode[]>();
  for (const n of evals) {
    const key = benchmarkKey(n);
    const list = groups.get(key);
    if (list) list.push(n);
    else groups.set(key, [n]);
  }
  return (
    <Region title="Evaluations">
      {evals.length === 0 ? <p className="muted">No evaluation recorded.</p> : null}
      {[...groups].slice(0, SHOWN_BENCHMARKS).map(([key, list]) => {
        const metricNames = [...new Set(list.flatMap((n) => Object.keys(n["metrics"] ?? {})))].slice(0, 8);
        const shown = list.slice(-50);
        return (
          <div className="table-wrap" key={key}>
            <table className="compact">
              <caption>
                {key} ({list.length.toLocaleString("en-US")}){list.length > shown.length ? `, the last ${shown.length} shown` : ""}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Evaluation</th>
                  <th scope="col">Step</th>
                  <th scope="col">Checkpoint</th>
                  {metricNames.map((m) => (
                    <th scope="col" key={m}>
                      {m}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {shown.map((n) => {
                  const metrics = (n["metrics"] ?? {}) as Record<string, unknown>;
                  return (
                    <tr key={n.id}>
                      <th scope="row">
                        <button type="button" className="link" onClick={() => onSelect(n.id)}>
                          {n.id}
                        </button>
                      </th>
                      <td className="num">{n.step ?? "—"}</td>
                      <td>{n.evaluated_checkpoint ?? "—"}</td>
                      {metricNames.map((m) => (
                        <td className="num" key={m}>
                          {metric(metrics[m])}
                        </td>
                      ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        );
      })}
      {groups.size > SHOWN_BENCHMARKS ? (
        <p className="muted small">
          {(groups.size - SHOWN_BENCHMARKS).toLocaleString("en-US")} more benchmark versions: select their nodes in the graph (grouped by benchmark), or compare runs.
        </p>
      ) : null}
    </Region>
  );
}

export function FindingsPanel({ findings }: { findings: readonly Finding[] }) {
  const open = findings.filter((f) => f.resolved_at === null).length;
  return (
    <section className="card" aria-label="Findings">
      <h2>
        Findings{" "}
        <span className="muted small">
          ({open} open, {findings.length - open} resolved)
        </span>
      </h2>
      {findings.length === 0 ? <p className="muted">No finding: no dataset change, sequence gap, failed hash or event after the seal.</p> : <FindingList findings={findings} />}
    </section>
  );
}

export function ChainPanel({ chain, error }: { chain: Chain | null; error: string | null }) {
  return (
    <section className="card" aria-label="Event chain">
      <h2>Event chain</h2>
      {error ? (
        <p className="error">The chain could not be read: {error}</p>
      ) : chain === null ? (
        <p className="muted">Verifying the chain…</p>
      ) : (
        <>
          <p className={chain.valid ? "ok" : "error"}>
            <span aria-hidden="true">{chain.valid ? "✓ " : "✕ "}</span>
            <strong>{chain.valid ? "Chain verified" : "Chain BROKEN"}</strong>: {chain.message}
          </p>
          <dl className="facts small">
            <dt>Events</dt>
            <dd>{count(chain.length)}</dd>
            <dt>Head</dt>
            <dd>
              {chain.head ? <FullHash hash={chain.head} /> : <code>—</code>}
            </dd>
            {chain.checked_at ? (
              <>
                <dt>Checked</dt>
                <dd>{time(chain.checked_at)}</dd>
              </>
            ) : null}
            {!chain.valid ? (
              <>
                <dt>Broken at</dt>
                <dd>
                  event {chain.broken_index ?? "?"} ({chain.broken_event_id ?? "?"}): {chain.reason}
                </dd>
              </>
            ) : null}
          </dl>
        </>
      )}
    </section>
  );
}
