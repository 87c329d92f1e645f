import { useEffect, useId, useRef, useState, type ReactNode } from "react";
import { datasetOf, filesOf } from "../lib/events";
import { bytes, cell, count, metric, time } from "../lib/format";
import { stateText } from "../lib/graph";
import type { Annotation, Finding, LineageNode, StoredEvent } from "../types";
import { HashState } from "./Badges";
import { FullHash } from "./FullHash";

const SHOWN = new Set(["type", "id", "hash", "timestamp", "hash_status", "hash_error", "metrics", "files"]);

export interface DetailsProps {
  node: LineageNode;
  findings: readonly Finding[];
  annotations: readonly Annotation[];
  events: readonly StoredEvent[] | null; // null while loading
  eventsError: string | null;
  onClose: () => void;
  onSelect: (id: string) => void;
}

export function NodeDetails({ node, findings, annotations, events, eventsError, onClose, onSelect }: DetailsProps) {
  const id = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [copied, setCopied] = useState<string | null>(null);
  useEffect(() => {
    heading.current?.focus();
  }, [node.id]);

  const copy = async () => {
    if (!node.hash) return;
    try {
      await navigator.clipboard.writeText(node.hash);
      setCopied("Hash copied to the clipboard.");
    } catch {
      const el = document.getElementById(`${id}-hash`);
      if (el) window.getSelection()?.selectAllChildren(el);
      setCopied("Select-and-copy: the hash is selected, press Ctrl+C.");
    }
  };

  const attrs = Object.entries(node).filter(([k, v]) => !SHOWN.has(k) && v !== null && v !== undefined && v !== "");
  const metrics = node["metrics"] as Record<string, unknown> | undefined;
  const mine = findings.filter((f) => f.subject === node.id);
  const notes = annotations.filter((a) => a.node_id === node.id);
  const withFiles = node.type === "checkpoint" || node.type === "model";
  const files = withFiles && events ? filesOf(events, node.id) : null;
  const registration = node.type === "dataset" && events ? datasetOf(events, node.id) : null;
  const provenance = (registration?.["provenance"] ?? null) as Record<string, unknown> | null;

  return (
    <section className="details card" aria-label="Node details">
      <div className="details-head">
        <h2 id={`${id}-title`} ref={heading} tabIndex={-1}>
          <span className="muted">{node.type}</span> {node.id}
        </h2>
        <button type="button" className="secondary" onClick={onClose}>
          Close details
        </button>
      </div>
      <dl className="facts">
        <dt>Hash</dt>
        <dd>
          {node.hash ? (
            <>
              <FullHash id={`${id}-hash`} hash={node.hash} />
              <button type="button" className="secondary small" onClick={() => void copy()}>
                Copy hash
              </button>
              <span role="status" className="muted small">
                {copied}
              </span>
            </>
          ) : (
            <span>none</span>
          )}
        </dd>
        <dt>Hash state</dt>
        <dd>
          <HashState state={node.hash_status} text={stateText(node)} />
        </dd>
        <dt>Recorded</dt>
        <dd>{time(node.timestamp)}</dd>
        {attrs.map(([k, v]) => (
          <Fact key={k} name={k} value={v} onSelect={onSelect} />
        ))}
      </dl>

      {metrics && Object.keys(metrics).length > 0 ? (
        <table className="compact">
          <caption>Results</caption>
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(metrics).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="num">{metric(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      {provenance ? (
        <dl className="facts">
          <dt className="span">Provenance</dt>
          {Object.entries(provenance).map(([k, v]) => (
            <Fact key={k} name={k} value={v} />
          ))}
        </dl>
      ) : null}

      {withFiles ? (
        files === null ? (
          <p className="muted">{eventsError ? `Files could not be loaded: ${eventsError}` : "Loading the file manifest…"}</p>
        ) : (
          <div className="table-wrap">
            <table aria-label="Files" className="compact files">
              <caption>Files ({files.length.toLocaleString("en-US")})</caption>
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Size</th>
                  <th scope="col">sha256</th>
                </tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr key={f.path}>
                    <th scope="row">
                      <code>{f.path}</code>
                    </th>
                    <td className="num">{bytes(f.size)}</td>
                    <td>{f.sha256 ? <FullHash hash={f.sha256} /> : <span className="hash-state hs-pending">not hashed</span>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}

      <h3>Findings on this node</h3>
      {mine.length === 0 ? <p className="muted">None.</p> : <FindingList findings={mine} />}

      <h3>Annotations</h3>
      {notes.length === 0 ? (
        <p className="muted">No annotation yet. Use “Annotate” in the Review panel.</p>
      ) : (
        <ol className="thread">
          {notes.map((a) => (
            <li key={a.annotation_id}>
              <p className="who-line">
                <strong>{a.author.name}</strong> <span className="muted">({a.author.role}) · {time(a.time)}</span>
              </p>
              <p className="note">{a.text}</p>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Fact({ name, value, onSelect }: { name: string; value: unknown; onSelect?: (id: string) => void }) {
  const label = name.replace(/_/g, " ");
  let shown: ReactNode = cell(value);
  if (name === "record_count" && typeof value === "number") shown = count(value);
  if ((name === "total_bytes" || name === "bytes_hashed") && typeof value === "number") shown = bytes(value);
  if ((name === "evaluated_checkpoint" || name === "checkpoint_id") && typeof value === "string" && onSelect) {
    shown = (
      <button type="button" className="link" onClick={() => onSelect(value)}>
        {value}
      </button>
    );
  }
  if (Array.isArray(value) && value.length === 0) shown = "none";
  return (
    <>
      <dt>{label}</dt>
      <dd>{shown}</dd>
    </>
  );
}

export function FindingList({ findings }: { findings: readonly Finding[] }) {
  return (
    <ul className="findings">
      {findings.map((f) => (
        <li key={f.id} className={f.resolved_at ? "resolved" : "open"}>
          <p>
            <span className={`badge ${f.resolved_at ? "approval-approved" : "approval-rejected"}`}>
              <span aria-hidden="true">{f.resolved_at ? "✓ " : "⚑ "}</span>
              {f.resolved_at ? "resolved" : "open"}
            </span>{" "}
            <strong>{f.kind}</strong>
            {f.subject ? <> on <code>{f.subject}</code></> : null} <span className="muted small">since {time(f.opened_at)}</span>
          </p>
          <FindingDetail detail={f.detail} />
          {f.resolution ? (
            <p className="small">
              Resolution ({time(f.resolved_at)}): {Object.entries(f.resolution).map(([k, v]) => `${k}: ${cell(v)}`).join("; ")}
            </p>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function FindingDetail({ detail }: { detail: Record<string, unknown> }) {
  const entries = Object.entries(detail).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length === 0) return null;
  return (
    <details>
      <summary>Detail</summary>
      <dl className="facts small">
        {entries.map(([k, v]) => (
          <Fact key={k} name={k} value={v} />
        ))}
      </dl>
    </details>
  );
}
