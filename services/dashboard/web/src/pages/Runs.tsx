import { useEffect, useId, useRef, useState } from "react";
import { getJson, lineagePath, query } from "../api";
import { StatusBadge, ApprovalBadge } from "../components/Badges";
import { time } from "../lib/format";
import { useLive } from "../live";
import { useLoad } from "../load";
import { Link, navigate, useLocation } from "../router";
import type { RunList } from "../types";

export const PAGE_SIZE = 25;
const STATUSES = ["running", "completed", "failed", "interrupted", "abandoned", "AUDIT_SEALED"];
const APPROVALS = ["approved", "rejected", "pending"];
const COLUMNS: { key: string; label: string; sort?: string }[] = [
  { key: "run_id", label: "Run", sort: "run_id" },
  { key: "project", label: "Project", sort: "project" },
  { key: "status", label: "Status", sort: "status" },
  { key: "started_at", label: "Started", sort: "started_at" },
  { key: "ended_at", label: "Ended", sort: "ended_at" },
  { key: "approval", label: "Approval" },
  { key: "findings", label: "Open findings" },
  { key: "last_event_at", label: "Last event", sort: "last_event_at" },
];

function filtersOf(search: URLSearchParams) {
  return {
    project: search.get("project") ?? "",
    status: search.get("status") ?? "",
    tag: search.get("tag") ?? "",
    approval: search.get("approval") ?? "",
    q: search.get("q") ?? "",
    sort: search.get("sort") ?? "-last_event_at",
  };
}

function pageOf(search: URLSearchParams): number {
  return Math.max(0, Number(search.get("page") ?? "0") || 0);
}

/** The lineage API path of the runs list the page at `/runs?<search>` shows. */
export function runsListPath(search: URLSearchParams): string {
  const filters = filtersOf(search);
  const page = pageOf(search);
  return (
    lineagePath("runs") +
    query({
      project: filters.project,
      status: filters.status,
      tag: filters.tag.includes(":") ? filters.tag : "",
      approval: filters.approval,
      q: filters.q,
      sort: filters.sort,
      limit: PAGE_SIZE,
      offset: page * PAGE_SIZE,
    })
  );
}

export function RunsPage() {
  const { search } = useLocation();
  const filters = filtersOf(search);
  const page = pageOf(search);
  const key = JSON.stringify({ ...filters, page });
  const runs = useLoad(() => getJson<RunList>(runsListPath(search)), [key]);

  // A new run or a status change elsewhere in the workspace: refresh the first page.
  const pending = useRef<number | null>(null);
  useLive(null, {
    onEvent: () => {
      if (page !== 0 || pending.current !== null) return;
      pending.current = window.setTimeout(() => {
        pending.current = null;
        runs.reload();
      }, 1_500);
    },
  });
  useEffect(() => () => {
    if (pending.current !== null) window.clearTimeout(pending.current);
  }, []);

  const set = (changes: Record<string, string>, keepPage = false) => {
    const next = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "" || (k === "sort" && v === "-last_event_at")) next.delete(k);
      else next.set(k, v);
    }
    if (!keepPage) next.delete("page");
    const s = next.toString();
    navigate(`/runs${s ? `?${s}` : ""}`, true);
  };

  const list = runs.data;
  const total = list?.total;
  const shown = list?.runs.length ?? 0;
  const hasNext = total !== undefined ? (page + 1) * PAGE_SIZE < total : shown === PAGE_SIZE;
  const sortKey = filters.sort.replace(/^-/, "");
  const descending = filters.sort.startsWith("-");

  return (
    <main id="main" className="page">
      <h1>Runs</h1>
      <Filters filters={filters} onChange={set} />
      {runs.error ? (
        <p role="alert" className="error">
          Could not load the runs: {runs.error.message}
        </p>
      ) : null}
      <p className="muted" role="status" aria-live="polite">
        {runs.loading && !list
          ? "Loading runs…"
          : shown === 0
            ? "No run matches these filters."
            : `Runs ${(page * PAGE_SIZE + 1).toLocaleString("en-US")}–${(page * PAGE_SIZE + shown).toLocaleString("en-US")}${total !== undefined ? ` of ${total.toLocaleString("en-US")}` : ""}`}
      </p>
      <div className="table-wrap">
        <table aria-label="Runs" aria-busy={runs.loading} className="runs">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th
                  key={c.key}
                  scope="col"
                  aria-sort={c.sort === sortKey ? (descending ? "descending" : "ascending") : undefined}
                >
                  {c.sort ? (
                    <button
                      type="button"
                      className="sort"
                      onClick={() => set({ sort: c.sort === sortKey && !descending ? `-${c.sort}` : c.sort ?? "" })}
                    >
                      {c.label}
                      <span aria-hidden="true">{c.sort === sortKey ? (descending ? " ▼" : " ▲") : " ↕"}</span>
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list?.runs.map((r) => (
              <tr key={r.run_id}>
                <th scope="row">
                  <Link to={`/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</Link>
                  {r.name ? <div className="muted small">{r.name}</div> : null}
                  {Object.keys(r.tags).length > 0 ? (
                    <ul className="tags">
                      {Object.entries(r.tags).map(([k, v]) => (
                        <li key={k}>
                          {k}:{v}
                        </li>
                      ))}
                    </ul>
                  ) : null}
                </th>
                <td>{r.project}</td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td>{time(r.started_at)}</td>
                <td>{time(r.ended_at ?? null)}</td>
                <td>{r.approval !== undefined ? <ApprovalBadge approval={r.approval ?? "pending"} /> : "—"}</td>
                <td className="num">
                  <FindingCount n={r.open_findings ?? r.findings_count} />
                </td>
                <td>{time(r.last_event_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav className="pager" aria-label="Pagination">
        <button type="button" className="secondary" disabled={page === 0} onClick={() => set({ page: String(page - 1) }, true)}>
          Previous page
        </button>
        <span>Page {page + 1}{total !== undefined ? ` of ${Math.max(1, Math.ceil(total / PAGE_SIZE)).toLocaleString("en-US")}` : ""}</span>
        <button type="button" className="secondary" disabled={!hasNext} onClick={() => set({ page: String(page + 1) }, true)}>
          Next page
        </button>
      </nav>
    </main>
  );
}

function FindingCount({ n }: { n: number | undefined }) {
  if (n === undefined) return <>—</>;
  if (n === 0) return <>0</>;
  return (
    <strong className="error">
      <span aria-hidden="true">⚑ </span>
      {n}
    </strong>
  );
}

interface FilterValues {
  project: string;
  status: string;
  tag: string;
  approval: string;
  q: string;
}

function Filters({ filters, onChange }: { filters: FilterValues; onChange: (c: Record<string, string>) => void }) {
  const id = useId();
  // Text filters apply after a pause in typing (or Enter), not on every key.
  const [text, setText] = useState({ project: filters.project, tag: filters.tag, q: filters.q });
  const fromUrl = `${filters.project}\n${filters.tag}\n${filters.q}`;
  const [seen, setSeen] = useState(fromUrl);
  if (seen !== fromUrl) {
    // the URL changed (back, a link): the boxes show it
    setSeen(fromUrl);
    setText({ project: filters.project, tag: filters.tag, q: filters.q });
  }
  useEffect(() => {
    if (text.project === filters.project && text.tag === filters.tag && text.q === filters.q) return;
    const t = window.setTimeout(() => onChange(text), 350);
    return () => window.clearTimeout(t);
  }, [text, filters.project, filters.tag, filters.q, onChange]);
  const tagInvalid = text.tag !== "" && !text.tag.includes(":");
  return (
    <form
      className="filters"
      role="search"
      aria-label="Filter runs"
      onSubmit={(e) => {
        e.preventDefault();
        onChange(text);
      }}
    >
      <div className="field grow">
        <label htmlFor={`${id}-q`}>Search</label>
        <input
          id={`${id}-q`}
          type="search"
          placeholder="run id, name or tag"
          value={text.q}
          onChange={(e) => setText({ ...text, q: e.target.value })}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-project`}>Project</label>
        <input id={`${id}-project`} type="text" value={text.project} onChange={(e) => setText({ ...text, project: e.target.value })} />
      </div>
      <div className="field">
        <label htmlFor={`${id}-status`}>Status</label>
        <select id={`${id}-status`} value={filters.status} onChange={(e) => onChange({ status: e.target.value })}>
          <option value="">any</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${id}-tag`}>Tag</label>
        <input
          id={`${id}-tag`}
          type="text"
          placeholder="key:value"
          aria-invalid={tagInvalid}
          aria-describedby={tagInvalid ? `${id}-tag-help` : undefined}
          value={text.tag}
          onChange={(e) => setText({ ...text, tag: e.target.value })}
        />
        {tagInvalid ? (
          <span id={`${id}-tag-help`} className="hint error">
            A tag filter is key:value
          </span>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={`${id}-approval`}>Approval</label>
        <select id={`${id}-approval`} value={filters.approval} onChange={(e) => onChange({ approval: e.target.value })}>
          <option value="">any</option>
          {APPROVALS.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
    </form>
  );
}
