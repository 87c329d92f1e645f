import { useId, useMemo } from "react";
import { getJson, lineagePath, query, runPath } from "../api";
import { compareRuns, differenceCounts, SECTIONS, type RunFacts } from "../lib/diff";
import { configOf } from "../lib/events";
import { useLoad } from "../load";
import { Link, navigate, useLocation } from "../router";
import type { EventPage, Lineage, RunList } from "../types";

async function facts(runId: string): Promise<RunFacts> {
  const base = lineagePath(runPath(runId));
  const [lineage, events] = await Promise.all([
    getJson<Lineage>(`${base}/lineage`),
    getJson<EventPage>(`${base}/events?limit=200`),
  ]);
  const config = configOf(events.events) ?? {};
  // the ids and hash of the configuration always differ between runs: not a finding
  const rest = Object.fromEntries(Object.entries(config).filter(([k]) => k !== "config_id" && k !== "config_hash"));
  return { runId, config: rest, nodes: lineage.nodes };
}

export function ComparePage() {
  const id = useId();
  const { search } = useLocation();
  const a = search.get("a") ?? "";
  const b = search.get("b") ?? "";
  const project = search.get("project") ?? "";
  const onlyDiff = search.get("all") !== "1";
  const runs = useLoad(() => getJson<RunList>(lineagePath("runs") + query({ project, limit: 200 })), [project]);
  const left = useLoad(a ? () => facts(a) : null, [a]);
  const right = useLoad(b ? () => facts(b) : null, [b]);

  const set = (changes: Record<string, string>) => {
    const next = new URLSearchParams(search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === "") next.delete(k);
      else next.set(k, v);
    }
    navigate(`/compare?${next.toString()}`, true);
  };

  const rows = useMemo(
    () => (left.data && right.data ? compareRuns(left.data, right.data, onlyDiff) : null),
    [left.data, right.data, onlyDiff],
  );
  const counts = rows ? differenceCounts(rows) : null;
  const options = runs.data?.runs ?? [];
  const error = left.error ?? right.error ?? runs.error;

  return (
    <main id="main" className="page">
      <h1>Compare runs</h1>
      <p className="muted">
        Configuration, dataset roots and record counts, checkpoint hashes and evaluation results of two runs{project ? ` of project ${project}` : ""}.
      </p>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Runs to compare">
        <RunChoice id={`${id}-a`} label="Run A" value={a} runs={options} onChoose={(run) => set({ a: run })} />
        <RunChoice id={`${id}-b`} label="Run B" value={b} runs={options} onChoose={(run) => set({ b: run })} />
        <label className="check">
          <input type="checkbox" checked={onlyDiff} onChange={(e) => set({ all: e.target.checked ? "" : "1" })} />
          Differences only
        </label>
        {project ? (
          <button type="button" className="link" onClick={() => set({ project: "" })}>
            Any project
          </button>
        ) : null}
      </form>
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      <p role="status" className="muted">
        {!a || !b
          ? "Choose two runs."
          : rows === null
            ? "Loading both runs…"
            : counts
              ? SECTIONS.map((s) => `${s}: ${counts[s]} difference${counts[s] === 1 ? "" : "s"}`).join(" · ")
              : ""}
      </p>
      <div className="table-wrap">
        <table aria-label="Differences" className="diff">
          <thead>
            <tr>
              <th scope="col">Section</th>
              <th scope="col">Item</th>
              <th scope="col">{a ? <Link to={`/runs/${encodeURIComponent(a)}`}>Run A: {a}</Link> : "Run A"}</th>
              <th scope="col">{b ? <Link to={`/runs/${encodeURIComponent(b)}`}>Run B: {b}</Link> : "Run B"}</th>
              <th scope="col">Same?</th>
            </tr>
          </thead>
          <tbody>
            {rows?.map((r) => (
              <tr key={`${r.section}|${r.key}`} className={r.same ? "same" : "differs"}>
                <td>{r.section}</td>
                <th scope="row">{r.key}</th>
                <td className="val">{r.a}</td>
                <td className="val">{r.b}</td>
                <td>{r.same ? "same" : <strong>differs</strong>}</td>
              </tr>
            ))}
            {rows && rows.length === 0 ? (
              <tr>
                <td colSpan={5}>{onlyDiff ? "No difference." : "Nothing to compare."}</td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
    </main>
  );
}

/** One of the two runs compared: the project's runs, and the chosen one even when it is not
 * among them (a run id from the address). */
function RunChoice(props: {
  id: string;
  label: string;
  value: string;
  runs: RunList["runs"];
  onChoose: (run: string) => void;
}) {
  const { id, label, value, runs, onChoose } = props;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChoose(e.target.value)}>
        <option value="">choose a run</option>
        {value && !runs.some((r) => r.run_id === value) ? <option value={value}>{value}</option> : null}
        {runs.map((r) => (
          <option key={r.run_id} value={r.run_id}>
            {r.run_id} ({r.project}, {r.status})
          </option>
        ))}
      </select>
    </div>
  );
}
