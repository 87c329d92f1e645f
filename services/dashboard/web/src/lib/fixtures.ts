// Lineage graphs for the unit tests (the shapes GET /v1/runs/{id}/lineage answers).

import type { Lineage, LineageNode } from "../types";

const T = "2025-09-12T14:30:22+00:00";
const H = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

export function node(type: LineageNode["type"], id: string, extra: Partial<LineageNode> = {}): LineageNode {
  return { type, id, hash: H("a"), timestamp: T, hash_status: "computed", ...extra };
}

/** The walkthrough's shape: train and eval datasets, a config, `checkpoints` checkpoints,
 * a trainer evaluation per checkpoint plus `benchmarks` benchmark evaluations, a model. */
export function run(checkpoints: number, benchmarks = 1, runId = "run_a"): Lineage {
  const nodes: LineageNode[] = [
    node("dataset", "ds_train", { name: "clinical-notes", version: "3.1", role: "train", record_count: 142000 }),
    node("dataset", "ds_eval", { name: "clinical-notes-eval", version: "3.1", role: "eval", record_count: 500 }),
    node("config", "cfg_1", { model_type: "llama", optimizer: "adamw_torch" }),
  ];
  const edges: Lineage["edges"] = [];
  for (let i = 1; i <= checkpoints; i++) {
    const id = `ckpt_step_${i * 10}`;
    nodes.push(node("checkpoint", id, { step: i * 10, hash: H(String(i % 10)) }));
    edges.push({ from: "ds_train", to: id }, { from: "cfg_1", to: id });
    const ev = `eval_step_${i * 10}`;
    nodes.push(node("eval", ev, { step: i * 10, source: "trainer", metrics: { eval_loss: 1 / i }, evaluated_checkpoint: id }));
    edges.push({ from: id, to: ev });
  }
  const last = `ckpt_step_${checkpoints * 10}`;
  for (let b = 0; b < benchmarks; b++) {
    const id = `bench_${b}`;
    nodes.push(node("eval", id, { benchmark_name: "clinical-safety", benchmark_version: `2.${b}`, source: "sdk", metrics: { accuracy: 0.9 }, evaluated_checkpoint: last }));
    edges.push({ from: last, to: id }, { from: "ds_eval", to: id });
  }
  nodes.push(node("model", "model_final", { checkpoint_id: last }));
  edges.push({ from: last, to: "model_final" });
  return { run_id: runId, status: "completed", sealed_at: null, nodes, edges };
}
