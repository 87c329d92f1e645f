import { useId, useState, type SyntheticEvent } from "react";
import { ApiError, getJson, ingestPath, query, send } from "../api";
import { plural, time } from "../lib/format";
import { useLoad } from "../load";
import { useSession } from "../session";
import { EXPORT_FORMATS, EXPORT_TEMPLATES } from "../types";

const LOG_PAGE = 50;

interface AccessEntry {
  event_id: string;
  actor: string;
  role: string;
  action: string;
  object_id: string;
  address: string | null;
  allowed: boolean;
  time: string;
}

interface Retention {
  retention_years: number;
  archive_after_days: number;
  auto_export_on_seal: boolean;
  auto_export_format: string;
  auto_export_template?: string;
  floor_years?: number;
  template_floor_years?: number;
}

// The organisation documentation the templates use; the issue's four first, then the rest
// of ingest's DocumentationPatch fields.
const DOC_FIELDS: { key: string; label: string; url?: boolean }[] = [
  { key: "intended_use", label: "Intended use" },
  { key: "known_limitations", label: "Known limitations" },
  { key: "deployment_restrictions", label: "Deployment restrictions" },
  { key: "incident_policy_url", label: "Incident policy URL", url: true },
];
const MORE_DOC_FIELDS = [
  "acceptable_use_policy",
  "data_source_categories",
  "human_oversight",
  "risk_management",
  "standards_applied",
  "declaration_of_conformity",
  "post_market_monitoring",
  "phi_handling",
  "encryption_at_rest",
];

export function AdminPage() {
  const { me } = useSession();
  const ws = encodeURIComponent(me.workspace_id);
  return (
    <main id="main" className="page">
      <h1>Admin: {me.workspace_id}</h1>
      <div className="admin-grid">
        <RetentionPanel ws={ws} />
        <DocumentationPanel ws={ws} />
      </div>
      <AccessLogPanel ws={ws} />
    </main>
  );
}

function AccessLogPanel({ ws }: { ws: string }) {
  const [page, setPage] = useState(0);
  const log = useLoad(
    () =>
      getJson<{ entries: AccessEntry[]; total: number }>(
        `/api/lineage/v2/workspaces/${ws}/access-log${query({ limit: LOG_PAGE, offset: page * LOG_PAGE })}`,
      ),
    [ws, page],
  );
  const total = log.data?.total ?? 0;
  return (
    <section className="card" aria-label="Access log">
      <h2>Access log</h2>
      <p className="muted small">Who read, annotated, approved, sealed and exported what, from which address; newest first.</p>
      {log.error ? (
        <p role="alert" className="error">
          {log.error.message}
        </p>
      ) : null}
      <div className="table-wrap">
        <table aria-label="Access log" className="compact">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Object</th>
              <th scope="col">Address</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {log.data?.entries.map((e) => (
              <tr key={e.event_id}>
                <td className="nowrap">{time(e.time)}</td>
                <td>
                  {e.actor}
                  {/* A key labelled with its role ("Dana Reyes (reviewer)") names it once. */}
                  {e.actor.endsWith(`(${e.role})`) ? null : <span className="muted"> ({e.role})</span>}
                </td>
                <td>{e.action}</td>
                <td>
                  <code className="small">{e.object_id}</code>
                </td>
                <td>{e.address ?? "—"}</td>
                <td>{e.allowed ? "allowed" : <strong className="error">refused</strong>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Access log pages">
        <button type="button" className="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
          Newer entries
        </button>
        <span>
          {total === 0 ? "No entry" : `${page * LOG_PAGE + 1}–${Math.min(total, (page + 1) * LOG_PAGE)} of ${total.toLocaleString("en-US")}`}
        </span>
        <button type="button" className="secondary" disabled={(page + 1) * LOG_PAGE >= total} onClick={() => setPage(page + 1)}>
          Older entries
        </button>
      </nav>
    </section>
  );
}

function RetentionPanel({ ws }: { ws: string }) {
  const id = useId();
  const path = ingestPath(`v2/workspaces/${ws}/retention`);
  const current = useLoad(() => getJson<Retention>(path), [path]);
  const [edited, setForm] = useState<Retention | null>(null);
  const form = edited ?? current.data;
  const [state, setState] = useState<Saved>({ ok: null, error: null });

  const save = async (e: SyntheticEvent) => {
    e.preventDefault();
    if (!form) return;
    setState({ ok: null, error: null });
    try {
      const saved = await send<Retention>("PATCH", path, {
        retention_years: form.retention_years,
        archive_after_days: form.archive_after_days,
        auto_export_on_seal: form.auto_export_on_seal,
        auto_export_format: form.auto_export_format,
        ...(form.auto_export_template ? { auto_export_template: form.auto_export_template } : {}),
      });
      if (saved) setForm(saved);
      setState({ ok: "Retention settings saved.", error: null });
    } catch (err) {
      setState({ ok: null, error: err instanceof ApiError ? err.message : String(err) });
    }
  };

  return (
    <section className="card" aria-label="Retention">
      <h2>Retention</h2>
      {current.error ? <p className="error">{current.error.message}</p> : null}
      {form ? (
        <form className="stack" onSubmit={(e) => void save(e)}>
          <div className="row">
            <div className="field">
              <label htmlFor={`${id}-y`}>Retention (years)</label>
              <input
                id={`${id}-y`}
                type="number"
                min={form.floor_years ?? 1}
                max={100}
                value={form.retention_years}
                aria-describedby={`${id}-floor`}
                onChange={(e) => setForm({ ...form, retention_years: Number(e.target.value) })}
              />
            </div>
            <div className="field">
              <label htmlFor={`${id}-d`}>Archive after (days)</label>
              <input id={`${id}-d`} type="number" min={0} max={36_500} value={form.archive_after_days} onChange={(e) => setForm({ ...form, archive_after_days: Number(e.target.value) })} />
            </div>
          </div>
          <p id={`${id}-floor`} className="hint">
            The workspace's floor is {plural(form.floor_years ?? 1, "year")}
            {form.template_floor_years ? `; the auto-export template's floor is ${plural(form.template_floor_years, "year")}` : ""}.
          </p>
          <label className="check">
            <input type="checkbox" checked={form.auto_export_on_seal} onChange={(e) => setForm({ ...form, auto_export_on_seal: e.target.checked })} />
            Export automatically on seal
          </label>
          <div className="row">
            <div className="field">
              <label htmlFor={`${id}-f`}>Auto-export format</label>
              <select id={`${id}-f`} value={form.auto_export_format} onChange={(e) => setForm({ ...form, auto_export_format: e.target.value })}>
                {[...EXPORT_FORMATS, "cyclonedx"].map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-t`}>Auto-export template</label>
              <select id={`${id}-t`} value={form.auto_export_template ?? "default"} onChange={(e) => setForm({ ...form, auto_export_template: e.target.value })}>
                {EXPORT_TEMPLATES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <SaveRow label="Save retention" state={state} />
        </form>
      ) : current.loading ? (
        <p className="muted">Loading…</p>
      ) : null}
    </section>
  );
}

type Docs = Record<string, string>;

/** The documentation's current text: the exporter's {"fields": {name: {"text", ...}}} (it
 * folds documentation.updated as a seal cites it); a flat object of strings is read too. */
function readDocs(body: unknown): Docs {
  const root = (body ?? {}) as Record<string, unknown>;
  const fields = (typeof root["fields"] === "object" && root["fields"] !== null ? root["fields"] : root) as Record<string, unknown>;
  const out: Docs = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === "string") out[k] = v;
    else if (v && typeof v === "object" && typeof (v as { text?: unknown }).text === "string") out[k] = (v as { text: string }).text;
  }
  return out;
}

function DocumentationPanel({ ws }: { ws: string }) {
  const id = useId();
  const path = ingestPath(`v2/workspaces/${ws}/documentation`); // changes go to ingest
  const readPath = `/api/exporter/v2/workspaces/${ws}/documentation`; // the exporter folds them
  const current = useLoad(() => getJson<unknown>(readPath).then(readDocs), [readPath]);
  const [edited, setForm] = useState<Docs | null>(null);
  const [savedNow, setSaved] = useState<Docs | null>(null);
  const form = edited ?? current.data ?? {};
  const saved = savedNow ?? current.data ?? {};
  const [state, setState] = useState<Saved>({ ok: null, error: null });

  const save = async (e: SyntheticEvent) => {
    e.preventDefault();
    setState({ ok: null, error: null });
    const patch: Record<string, string | null> = {};
    for (const key of [...DOC_FIELDS.map((f) => f.key), ...MORE_DOC_FIELDS]) {
      const now = (form[key] ?? "").trim();
      const before = (saved[key] ?? "").trim();
      if (now !== before) patch[key] = now === "" ? null : now;
    }
    if (Object.keys(patch).length === 0) {
      setState({ ok: "Nothing changed.", error: null });
      return;
    }
    try {
      await send("PATCH", path, patch);
      setSaved({ ...form });
      setState({ ok: `Documentation saved (${Object.keys(patch).length} field${Object.keys(patch).length === 1 ? "" : "s"}).`, error: null });
    } catch (err) {
      setState({ ok: null, error: err instanceof ApiError ? err.message : String(err) });
    }
  };

  const text = (key: string, label: string, url = false) => (
    <div className="field" key={key}>
      <label htmlFor={`${id}-${key}`}>{label}</label>
      {url ? (
        <input id={`${id}-${key}`} type="url" placeholder="https://…" value={form[key] ?? ""} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
      ) : (
        <textarea id={`${id}-${key}`} rows={3} value={form[key] ?? ""} onChange={(e) => setForm({ ...form, [key]: e.target.value })} />
      )}
    </div>
  );

  return (
    <section className="card" aria-label="Documentation">
      <h2>Documentation</h2>
      <p className="muted small">The workspace documentation the export templates cite (EU AI Act, HIPAA). Each save is recorded with your name.</p>
      {current.error && !(current.error instanceof ApiError && [404, 405].includes(current.error.status)) ? (
        <p className="error small">The current documentation could not be read ({current.error.message}); saving still works.</p>
      ) : null}
      <form className="stack" onSubmit={(e) => void save(e)}>
        {DOC_FIELDS.map((f) => text(f.key, f.label, f.url))}
        <details>
          <summary>More fields ({MORE_DOC_FIELDS.length})</summary>
          {MORE_DOC_FIELDS.map((k) => text(k, k.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase())))}
        </details>
        <SaveRow label="Save documentation" state={state} />
      </form>
    </section>
  );
}

/** What the last save said: an error (alert) or a confirmation (status). */
type Saved = { ok: string | null; error: string | null };

/** A form's submit button and what its last save said, announced to screen readers. */
function SaveRow({ label, state }: { label: string; state: Saved }) {
  return (
    <div className="row">
      <button type="submit">{label}</button>
      {state.error ? (
        <span role="alert" className="error">
          {state.error}
        </span>
      ) : null}
      {state.ok ? (
        <span role="status" className="ok">
          {state.ok}
        </span>
      ) : null}
    </div>
  );
}
