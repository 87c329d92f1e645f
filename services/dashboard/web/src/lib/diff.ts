// Two runs side by side (pure): configuration, dataset roots and record counts, checkpoint
// hashes, evaluation results, each a row with run A's value, run B's and whether they differ.

import type { LineageNode } from "../types";
import { benchmarkKey } from "./graph";
import { cell } from "./format";

export type Section = "Configuration" | "Datasets" | "Checkpoints" | "Evaluations";
export const SECTIONS: readonly Section[] = ["Configuration", "Datasets", "Checkpoints", "Evaluations"];

export interface RunFacts {
  runId: string;
  config: Record<string, unknown>; // training arguments and model configuration, any nesting
  nodes: readonly LineageNode[];
}

export interface DiffRow {
  section: Section;
  key: string;
  a: string; // "—" where the run has no such value
  b: string;
  same: boolean;
}

const ABSENT = "—";

/** A nested JSON object as dotted keys ("training_args.learning_rate"); arrays stay whole. */
export function flatten(obj: Record<string, unknown>, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const inner = flatten(v as Record<string, unknown>, key);
      if (inner.size === 0) out.set(key, "{}");
      for (const [ik, iv] of inner) out.set(ik, iv);
    } else {
      out.set(key, cell(v));
    }
  }
  return out;
}

function datasetFacts(nodes: readonly LineageNode[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of nodes) {
    if (n.type !== "dataset") continue;
    const name = typeof n["name"] === "string" ? n["name"] : n.id;
    const role = typeof n["role"] === "string" ? ` (${n["role"]})` : "";
    out.set(`${name}${role} · version`, cell(n["version"]));
    out.set(`${name}${role} · root`, n.hash ?? `no root (${n.hash_status})`);
    out.set(`${name}${role} · records`, cell(n.record_count));
  }
  return out;
}

function checkpointFacts(nodes: readonly LineageNode[]): Map<string, string> {
  const out = new Map<string, string>();
  const sorted = nodes.filter((n) => n.type === "checkpoint");
  sorted.sort((x, y) => (x.step ?? 0) - (y.step ?? 0));
  for (const n of sorted) {
    const key = n.step === undefined ? n.id : `step ${n.step}`;
    out.set(key, n.hash ?? `no hash (${n.hash_status})`);
  }
  return out;
}

function evalFacts(nodes: readonly LineageNode[]): Map<string, string> {
  // The latest evaluation of each benchmark version; a Trainer's evaluations by step.
  const latest = new Map<string, LineageNode>();
  for (const n of nodes) {
    if (n.type !== "eval") continue;
    const trainer = n["source"] === "trainer" || n["benchmark_name"] === undefined;
    const key = trainer && n.step !== undefined ? `${benchmarkKey(n)} @ step ${n.step}` : benchmarkKey(n);
    const seen = latest.get(key);
    if (!seen || (n.step ?? 0) >= (seen.step ?? 0)) latest.set(key, n);
  }
  const out = new Map<string, string>();
  for (const [key, n] of latest) {
    const metrics = n["metrics"];
    if (metrics === null || typeof metrics !== "object") continue;
    for (const [m, v] of Object.entries(metrics as Record<string, unknown>)) out.set(`${key} · ${m}`, cell(v));
  }
  return out;
}

function rows(section: Section, a: Map<string, string>, b: Map<string, string>): DiffRow[] {
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  keys.sort((x, y) => x.localeCompare(y, "en", { numeric: true }));
  return keys.map((key) => {
    const va = a.get(key) ?? ABSENT;
    const vb = b.get(key) ?? ABSENT;
    return { section, key, a: va, b: vb, same: va === vb };
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The configurations as dotted keys, except that a nested object only one run has (a
 * Trainer's model_architecture against a custom loop's nothing) is one row, "{N settings}"
 * against "—", not a hundred rows against dashes. */
function configFacts(a: Record<string, unknown>, b: Record<string, unknown>): [Map<string, string>, Map<string, string>] {
  const fa = new Map<string, string>();
  const fb = new Map<string, string>();
  const whole = (v: Record<string, unknown>) => {
    const n = Object.keys(v).length;
    return `{${n} setting${n === 1 ? "" : "s"}}`;
  };
  const restA: Record<string, unknown> = {};
  const restB: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const va = a[key];
    const vb = b[key];
    const emptyA = va === undefined || (isObject(va) && Object.keys(va).length === 0);
    const emptyB = vb === undefined || (isObject(vb) && Object.keys(vb).length === 0);
    if (isObject(va) && !emptyA && emptyB) {
      fa.set(key, whole(va));
      fb.set(key, vb === undefined ? ABSENT : "{}");
    } else if (isObject(vb) && !emptyB && emptyA) {
      fa.set(key, va === undefined ? ABSENT : "{}");
      fb.set(key, whole(vb));
    } else {
      if (va !== undefined) restA[key] = va;
      if (vb !== undefined) restB[key] = vb;
    }
  }
  for (const [k, v] of flatten(restA)) fa.set(k, v);
  for (const [k, v] of flatten(restB)) fb.set(k, v);
  return [fa, fb];
}

/** Every compared value of runs `a` and `b`; with `differencesOnly`, only those that differ. */
export function compareRuns(a: RunFacts, b: RunFacts, differencesOnly: boolean): DiffRow[] {
  const all = [
    ...rows("Configuration", ...configFacts(a.config, b.config)),
    ...rows("Datasets", datasetFacts(a.nodes), datasetFacts(b.nodes)),
    ...rows("Checkpoints", checkpointFacts(a.nodes), checkpointFacts(b.nodes)),
    ...rows("Evaluations", evalFacts(a.nodes), evalFacts(b.nodes)),
  ];
  return differencesOnly ? all.filter((r) => !r.same) : all;
}

/** How many rows differ in each section. */
export function differenceCounts(rowsIn: readonly DiffRow[]): Record<Section, number> {
  const out: Record<Section, number> = { Configuration: 0, Datasets: 0, Checkpoints: 0, Evaluations: 0 };
  for (const r of rowsIn) if (!r.same) out[r.section]++;
  return out;
}
