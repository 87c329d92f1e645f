// The lineage graph the page draws, built from the lineage JSON (pure: no DOM, no I/O).
//
// A small run is drawn whole. A large one (2,000 checkpoints, 200 evaluations) is drawn as
// an overview: every dataset, config and model, the checkpoints and evaluations that matter
// to a reviewer (first, last, any whose hash is not computed, any with a finding, any a
// model came from, the latest evaluation per benchmark version), and the rest folded into
// group nodes ("1,996 checkpoints, steps 2-1998") that can be expanded. A focus on one node
// with a depth shows only the nodes within that many edges of it (Marquez's depth control).

import type { HashStatus, Lineage, LineageNode, NodeType } from "../types";
import { shortHash } from "./format";

export const TYPE_ORDER: readonly NodeType[] = ["dataset", "config", "checkpoint", "eval", "model"];
export const DEFAULT_THRESHOLD = 60; // above this many nodes a run opens as an overview
const KEPT_EVALS = 40; // the most evaluations an overview keeps before folding them too
const EXPAND_SAMPLE = 24; // how many members one "expand" brings out of a group

export type NodeState = HashStatus | "group";

export interface ViewNode {
  id: string;
  type: NodeType;
  group: boolean;
  label: string;
  detail: string; // step, benchmark, record count: the line under the id
  hash: string | null;
  hashShort: string;
  state: NodeState;
  stateText: string; // the state in words (colour is never the only signal)
  findings: number;
  members: string[]; // group nodes: the folded node ids
}

export interface ViewEdge {
  id: string;
  source: string;
  target: string;
}

export interface GraphView {
  nodes: ViewNode[];
  edges: ViewEdge[];
  total: number;
  hidden: number;
}

export interface ViewOptions {
  focus: string | null; // with depth: show only the neighbourhood of this node
  depth: number | null; // null: no depth limit
  showAll: boolean; // draw every node even above the threshold
  expanded: ReadonlySet<string>; // node ids brought out of groups
  threshold?: number;
}

export function stateText(n: Pick<LineageNode, "hash_status" | "hash_error">): string {
  switch (n.hash_status) {
    case "computed":
      return "hash computed";
    case "pending":
      return "hash pending";
    case "failed":
      return `GAP: ${n.hash_error ?? "hash could not be computed"}`;
  }
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

export function benchmarkKey(n: LineageNode): string {
  const name = str(n["benchmark_name"]);
  if (name === undefined) return str(n["source"]) === "trainer" ? "trainer evaluation" : "evaluation";
  const version = str(n["benchmark_version"]);
  return version === undefined ? name : `${name} v${version}`;
}

export function nodeDetail(n: LineageNode): string {
  switch (n.type) {
    case "dataset": {
      const parts = [str(n["name"]), str(n["version"]) && `v${String(n["version"])}`, str(n["role"])];
      const count = num(n.record_count);
      if (count !== undefined) parts.push(`${count.toLocaleString("en-US")} records`);
      return parts.filter(Boolean).join(" · ");
    }
    case "config":
      return [str(n["model_type"]), str(n["optimizer"]), n["peft"] === true ? "PEFT" : undefined]
        .filter(Boolean)
        .join(" · ");
    case "checkpoint": {
      const step = num(n.step);
      return step === undefined ? "" : `step ${step.toLocaleString("en-US")}`;
    }
    case "eval": {
      const step = num(n.step);
      return [benchmarkKey(n), step === undefined ? undefined : `step ${step.toLocaleString("en-US")}`]
        .filter(Boolean)
        .join(" · ");
    }
    case "model":
      return str(n["checkpoint_id"]) ? `from ${String(n["checkpoint_id"])}` : "";
  }
}

function toView(n: LineageNode, findings: number): ViewNode {
  return {
    id: n.id,
    type: n.type,
    group: false,
    label: n.id,
    detail: nodeDetail(n),
    hash: n.hash,
    hashShort: shortHash(n.hash),
    state: n.hash_status,
    stateText: stateText(n),
    findings,
  members: [],
  };
}

function step(n: LineageNode): number {
  return num(n.step) ?? -1;
}

/** Node ids within `depth` undirected edges of `focus`. */
export function neighbourhood(lineage: Lineage, focus: string, depth: number): Set<string> {
  const adj = new Map<string, string[]>();
  const link = (a: string, b: string) => {
    const list = adj.get(a);
    if (list) list.push(b);
    else adj.set(a, [b]);
  };
  for (const e of lineage.edges) {
    link(e.from, e.to);
    link(e.to, e.from);
  }
  const seen = new Set([focus]);
  let frontier = [focus];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const id of frontier) {
      for (const m of adj.get(id) ?? []) {
        if (!seen.has(m)) {
          seen.add(m);
          next.push(m);
        }
      }
    }
    frontier = next;
  }
  return seen;
}

/** The nodes an overview of a large run keeps (see the module's docstring). */
export function overviewKeep(lineage: Lineage, flagged: ReadonlySet<string>): Set<string> {
  const keep = new Set<string>();
  const checkpoints = lineage.nodes.filter((n) => n.type === "checkpoint");
  checkpoints.sort((a, b) => step(a) - step(b));
  const first = checkpoints[0];
  const last = checkpoints[checkpoints.length - 1];
  if (first) keep.add(first.id);
  if (last) keep.add(last.id);
  const latestPerBenchmark = new Map<string, LineageNode>();
  const evals: LineageNode[] = [];
  for (const n of lineage.nodes) {
    if (n.type === "dataset" || n.type === "config" || n.type === "model") keep.add(n.id);
    if (n.type === "model" && typeof n["checkpoint_id"] === "string") keep.add(n["checkpoint_id"]);
    if (n.type !== "eval" && (n.hash_status !== "computed" || flagged.has(n.id))) keep.add(n.id);
    if (n.type === "eval") {
      evals.push(n);
      const key = benchmarkKey(n);
      const seen = latestPerBenchmark.get(key);
      if (!seen || step(n) >= step(seen)) latestPerBenchmark.set(key, n);
    }
  }
  const wanted = evals.filter((n) => flagged.has(n.id) || n.hash_status !== "computed");
  const benchmarks = evals.filter((n) => str(n["source"]) !== "trainer");
  if (benchmarks.length <= KEPT_EVALS) wanted.push(...benchmarks);
  let latest = [...latestPerBenchmark.values()];
  if (latest.length > KEPT_EVALS) {
    // Too many benchmark versions to draw: the latest of each benchmark name only.
    const byName = new Map<string, LineageNode>();
    for (const n of latest) {
      const name = str(n["benchmark_name"]) ?? benchmarkKey(n);
      const seen = byName.get(name);
      if (!seen || step(n) >= step(seen)) byName.set(name, n);
    }
    latest = [...byName.values()].slice(0, KEPT_EVALS);
  }
  wanted.push(...latest);
  for (const n of wanted) {
    keep.add(n.id);
    if (n.evaluated_checkpoint) keep.add(n.evaluated_checkpoint);
  }
  return keep;
}

/** The group a hidden node folds into: checkpoints by the stretch between two kept ones,
 * evaluations by benchmark (all its versions), anything else by type. */
function groupKeys(lineage: Lineage, visible: ReadonlySet<string>): Map<string, string> {
  const keys = new Map<string, string>();
  const checkpoints = lineage.nodes.filter((n) => n.type === "checkpoint");
  checkpoints.sort((a, b) => step(a) - step(b));
  let stretch = 0;
  let open = false;
  for (const c of checkpoints) {
    if (visible.has(c.id)) {
      if (open) stretch++;
      open = false;
    } else {
      keys.set(c.id, `checkpoint:${stretch}`);
      open = true;
    }
  }
  for (const n of lineage.nodes) {
    if (visible.has(n.id) || n.type === "checkpoint") continue;
    keys.set(n.id, n.type === "eval" ? `eval:${str(n["benchmark_name"]) ?? benchmarkKey(n)}` : n.type);
  }
  return keys;
}

function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

const NOUNS: Record<NodeType, [string, string]> = {
  dataset: ["dataset", "datasets"],
  config: ["configuration", "configurations"],
  checkpoint: ["checkpoint", "checkpoints"],
  eval: ["evaluation", "evaluations"],
  model: ["model", "models"],
};

function groupNode(key: string, members: LineageNode[], findings: number): ViewNode {
  const type = members[0]?.type ?? "checkpoint";
  const [one, many] = NOUNS[type];
  const steps = members.map(step).filter((s) => s >= 0);
  let detail = "";
  if (steps.length > 0) {
    const lo = Math.min(...steps).toLocaleString("en-US");
    const hi = Math.max(...steps).toLocaleString("en-US");
    detail = lo === hi ? `step ${lo}` : `steps ${lo}–${hi}`;
  }
  if (type === "eval") detail = [key.slice("eval:".length), detail].filter(Boolean).join(" · ");
  const pending = members.filter((m) => m.hash_status !== "computed").length;
  return {
    id: `group:${key}`,
    type,
    group: true,
    label: `${plural(members.length, one, many)} folded`,
    detail,
    hash: null,
    hashShort: "",
    state: "group",
    stateText: pending > 0 ? `${pending.toLocaleString("en-US")} not hashed` : "all hashed",
    findings,
    members: members.map((m) => m.id),
  };
}

/** Findings per node id (a finding's subject). */
export function findingCounts(findings: readonly { subject: string | null; resolved_at: string | null }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of findings) {
    if (f.subject !== null && f.resolved_at === null) counts.set(f.subject, (counts.get(f.subject) ?? 0) + 1);
  }
  return counts;
}

/** The graph to draw for `lineage` under `opts`. */
export function buildView(
  lineage: Lineage,
  opts: ViewOptions,
  findings: ReadonlyMap<string, number> = new Map(),
): GraphView {
  const total = lineage.nodes.length;
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const ids = new Set(lineage.nodes.map((n) => n.id));
  let visible: Set<string>;
  if (opts.focus !== null && opts.depth !== null && ids.has(opts.focus)) {
    visible = neighbourhood(lineage, opts.focus, opts.depth);
  } else if (opts.showAll || total <= threshold) {
    visible = ids;
  } else {
    visible = overviewKeep(lineage, new Set(findings.keys()));
  }
  if (opts.focus !== null && ids.has(opts.focus)) visible.add(opts.focus);
  for (const id of opts.expanded) if (ids.has(id)) visible.add(id);

  const keys = groupKeys(lineage, visible);
  const rep = (id: string) => {
    const key = keys.get(id);
    return key === undefined ? id : `group:${key}`;
  };
  const nodes: ViewNode[] = [];
  const groups = new Map<string, LineageNode[]>();
  for (const n of lineage.nodes) {
    const key = keys.get(n.id);
    if (key === undefined) nodes.push(toView(n, findings.get(n.id) ?? 0));
    else {
      const members = groups.get(key);
      if (members) members.push(n);
      else groups.set(key, [n]);
    }
  }
  for (const [key, members] of groups) {
    const flagged = members.reduce((sum, m) => sum + (findings.get(m.id) ?? 0), 0);
    nodes.push(groupNode(key, members, flagged));
  }
  const edges = new Map<string, ViewEdge>();
  for (const e of lineage.edges) {
    if (!ids.has(e.from) || !ids.has(e.to)) continue;
    const source = rep(e.from);
    const target = rep(e.to);
    const id = `${source}->${target}`;
    if (source !== target && !edges.has(id)) edges.set(id, { id, source, target });
  }
  return { nodes, edges: [...edges.values()], total, hidden: total - (nodes.length - groups.size) };
}

/** The members an "expand" of a group brings out: evenly spaced, at most EXPAND_SAMPLE. */
export function expandSample(members: readonly string[], n: number = EXPAND_SAMPLE): string[] {
  if (members.length <= n) return [...members];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = Math.round((i * (members.length - 1)) / (n - 1));
    const id = members[at];
    if (id !== undefined && out[out.length - 1] !== id) out.push(id);
  }
  return out;
}
