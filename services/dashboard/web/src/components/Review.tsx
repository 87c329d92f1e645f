import { useId, useState, type SyntheticEvent } from "react";
import { errorText, ingestPath, runPath, send } from "../api";
import { mayReview } from "../session";
import type { Annotation, Finding, LineageNode, Me } from "../types";
import { ExportForm } from "./Export";
import { SealForm } from "./Seal";

// The reviewer's commands on a run (ingest): annotate a node or a finding, document a
// dataset diff a finding asks for, approve or reject with a comment; then seal and export.
// Who acts comes from the key: no form field names a person.

export interface ReviewProps {
  me: Me;
  runId: string;
  sealed: boolean;
  nodes: readonly LineageNode[];
  selected: string | null;
  findings: readonly Finding[];
  onChanged: () => void; // something was recorded: reload what shows it
  onAnnotated: (a: Annotation) => void; // shown at once, before lineage has folded it
}


export function ReviewPanel({ me, runId, sealed, nodes, selected, findings, onChanged, onAnnotated }: ReviewProps) {
  const id = useId();
  const reviewer = mayReview(me);
  const readOnly = sealed || !reviewer;
  return (
    <section className="card review" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Review</h2>
      {sealed ? <p className="muted">This run is sealed: nothing about it can be changed any more. Its packages can still be exported.</p> : null}
      {!reviewer && !sealed ? (
        <p className="note-box" role="note">
          This is a <strong>{me.role}</strong> key: it can read this run but not annotate, approve, reject or seal it.
        </p>
      ) : null}
      {!sealed ? (
        <>
          <AnnotateForm
            runId={runId}
            nodes={nodes}
            findings={findings.filter((f) => f.resolved_at === null && ANNOTATION_RESOLVES.has(f.kind))}
            selected={selected}
            disabled={readOnly}
            onChanged={onChanged}
            onAnnotated={(id, node, text) =>
              onAnnotated({
                annotation_id: id,
                node_id: node,
                text,
                author: { name: me.person.name, role: me.person.title ?? me.role },
                time: new Date().toISOString(),
              })
            }
          />
          {findings
            .filter((f) => f.kind === "dataset-changed" && f.resolved_at === null && f.subject)
            .map((f) => (
              <DiffForm key={f.id} runId={runId} finding={f} disabled={readOnly} onChanged={onChanged} />
            ))}
          <DecisionForm runId={runId} disabled={readOnly} onChanged={onChanged} />
          <SealForm runId={runId} disabled={readOnly} onChanged={onChanged} />
        </>
      ) : null}
      <ExportForm me={me} runId={runId} />
    </section>
  );
}

// Findings a reviewer resolves by annotating the finding itself (lineage: provenance.py,
// sequence.py): ingest accepts the finding's id as the annotated node.
export const ANNOTATION_RESOLVES = new Set(["provenance-incomplete", "sequence-conflict"]);

function AnnotateForm({
  runId,
  nodes,
  findings,
  selected,
  disabled,
  onChanged,
  onAnnotated,
}: {
  runId: string;
  nodes: readonly LineageNode[];
  findings: readonly Finding[];
  selected: string | null;
  disabled: boolean;
  onChanged: () => void;
  onAnnotated: (annotationId: string, node: string, text: string) => void;
}) {
  const id = useId();
  const [node, setNode] = useState(selected ?? runId);
  const [text, setText] = useState("");
  const [state, setState] = useState<{ busy: boolean; ok: string | null; error: string | null }>({ busy: false, ok: null, error: null });
  const [following, setFollowing] = useState(selected);
  if (selected !== following) {
    // a node picked in the graph becomes the one to annotate
    setFollowing(selected);
    if (selected) setNode(selected);
  }
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setState({ busy: true, ok: null, error: null });
    try {
      const done = await send<{ annotation_id: string }>("POST", ingestPath(`v1/${runPath(runId)}/annotations`), { node_id: node, text });
      if (done?.annotation_id) onAnnotated(done.annotation_id, node, text);
      setText("");
      setState({ busy: false, ok: `Annotation on ${node} recorded.`, error: null });
      onChanged();
    } catch (err) {
      setState({ busy: false, ok: null, error: errorText(err) });
    }
  };
  return (
    <form className="stack" onSubmit={(e) => void submit(e)} aria-labelledby={`${id}-t`}>
      <h3 id={`${id}-t`}>Annotate</h3>
      <div className="field">
        <label htmlFor={`${id}-node`}>Node to annotate</label>
        <select id={`${id}-node`} value={node} disabled={disabled} onChange={(e) => setNode(e.target.value)}>
          <option value={runId}>the run itself ({runId})</option>
          {findings.map((f) => (
            <option key={f.id} value={f.id}>
              finding to resolve: {f.kind} ({f.subject ?? f.id})
            </option>
          ))}
          {nodes.length <= 2_000
            ? nodes.map((n) => (
                <option key={n.id} value={n.id}>
                  {n.type}: {n.id}
                </option>
              ))
            : selected && selected !== runId ? <option value={selected}>{selected}</option> : null}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-text`}>Annotation</label>
        <textarea id={`${id}-text`} rows={3} maxLength={16_384} value={text} disabled={disabled} onChange={(e) => setText(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" disabled={disabled || state.busy || text.trim() === ""}>
          Annotate
        </button>
        <Outcome {...state} />
      </div>
    </form>
  );
}

function DiffForm({ runId, finding, disabled, onChanged }: { runId: string; finding: Finding; disabled: boolean; onChanged: () => void }) {
  const id = useId();
  const [text, setText] = useState("");
  const [state, setState] = useState<{ busy: boolean; ok: string | null; error: string | null }>({ busy: false, ok: null, error: null });
  const dataset = finding.subject ?? "";
  const submit = async (e: SyntheticEvent) => {
    e.preventDefault();
    setState({ busy: true, ok: null, error: null });
    try {
      await send("POST", ingestPath(`v1/${runPath(runId)}/datasets/${encodeURIComponent(dataset)}/diff`), { description: text });
      setState({ busy: false, ok: "Dataset diff documented.", error: null });
      setText("");
      onChanged();
    } catch (err) {
      setState({ busy: false, ok: null, error: errorText(err) });
    }
  };
  return (
    <form className="stack attention" onSubmit={(e) => void submit(e)}>
      <h3>Dataset changed: {dataset}</h3>
      <p className="small">
        Its root differs from the last registration ({typeof finding.detail["previous_run_id"] === "string" ? finding.detail["previous_run_id"] : "an earlier run"}). Document what changed before
        the run can be sealed.
      </p>
      <div className="field">
        <label htmlFor={`${id}-d`}>Dataset diff for {dataset}</label>
        <textarea id={`${id}-d`} rows={3} value={text} disabled={disabled} onChange={(e) => setText(e.target.value)} />
      </div>
      <div className="row">
        <button type="submit" disabled={disabled || state.busy || text.trim() === ""}>
          Document diff
        </button>
        <Outcome {...state} />
      </div>
    </form>
  );
}

function DecisionForm({ runId, disabled, onChanged }: { runId: string; disabled: boolean; onChanged: () => void }) {
  const id = useId();
  const [comment, setComment] = useState("");
  const [state, setState] = useState<{ busy: boolean; ok: string | null; error: string | null }>({ busy: false, ok: null, error: null });
  const decide = async (decision: "approve" | "reject") => {
    setState({ busy: true, ok: null, error: null });
    try {
      await send("POST", ingestPath(`v1/${runPath(runId)}/${decision}`), comment.trim() ? { comment } : {});
      setState({ busy: false, ok: decision === "approve" ? "Approval recorded." : "Rejection recorded.", error: null });
      setComment("");
      onChanged();
    } catch (err) {
      setState({ busy: false, ok: null, error: errorText(err) });
    }
  };
  return (
    <div className="stack" role="group" aria-labelledby={`${id}-t`}>
      <h3 id={`${id}-t`}>Decision</h3>
      <div className="field">
        <label htmlFor={`${id}-c`}>Comment</label>
        <textarea id={`${id}-c`} rows={2} maxLength={16_384} value={comment} disabled={disabled} onChange={(e) => setComment(e.target.value)} />
      </div>
      <div className="row">
        <button type="button" className="approve" disabled={disabled || state.busy} onClick={() => void decide("approve")}>
          <span aria-hidden="true">✓ </span>Approve
        </button>
        <button type="button" className="reject" disabled={disabled || state.busy} onClick={() => void decide("reject")}>
          <span aria-hidden="true">✕ </span>Reject
        </button>
        <Outcome {...state} />
      </div>
    </div>
  );
}

function Outcome({ ok, error }: { ok: string | null; error: string | null }) {
  if (error)
    return (
      <span role="alert" className="error">
        {error}
      </span>
    );
  if (ok)
    return (
      <span role="status" className="ok">
        <span aria-hidden="true">✓ </span>
        {ok}
      </span>
    );
  return null;
}
