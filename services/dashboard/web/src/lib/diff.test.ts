import { describe, expect, it } from "vitest";
import { compareRuns, differenceCounts, flatten } from "./diff";
import { run } from "./fixtures";

describe("compareRuns", () => {
  const a = { runId: "a", config: { training_args: { learning_rate: 0.0002, epochs: 3 }, model_type: "llama" }, nodes: run(3).nodes };
  const bNodes = run(4).nodes.map((n) =>
    n.id === "ds_train" ? { ...n, hash: `sha256:${"b".repeat(64)}`, record_count: 150000 } : n,
  );
  const b = { runId: "b", config: { training_args: { learning_rate: 0.0001, epochs: 3 }, model_type: "llama" }, nodes: bNodes };

  it("lists only what differs with differencesOnly", () => {
    const rows = compareRuns(a, b, true);
    const keys = rows.map((r) => `${r.section}|${r.key}`);
    expect(keys).toContain("Configuration|training_args.learning_rate");
    expect(keys).not.toContain("Configuration|training_args.epochs");
    expect(keys).toContain("Datasets|clinical-notes (train) · root");
    expect(keys).toContain("Datasets|clinical-notes (train) · records");
    expect(keys).not.toContain("Datasets|clinical-notes-eval (eval) · root");
    expect(keys).toContain("Checkpoints|step 40");
    expect(rows.every((r) => !r.same)).toBe(true);
    const lr = rows.find((r) => r.key === "training_args.learning_rate");
    expect([lr?.a, lr?.b]).toEqual(["2.000e-4", "1.000e-4"]);
    const extra = rows.find((r) => r.key === "step 40");
    expect(extra?.a).toBe("—");
  });

  it("lists every value without it, same ones marked same", () => {
    const rows = compareRuns(a, b, false);
    expect(rows.find((r) => r.key === "training_args.epochs")?.same).toBe(true);
    expect(rows.length).toBeGreaterThan(compareRuns(a, b, true).length);
  });

  it("a run compared with itself has no differences", () => {
    expect(compareRuns(a, a, true)).toEqual([]);
  });

  it("compares evaluation results per benchmark version", () => {
    const bench = b.nodes.map((n) => (n.id === "bench_0" ? { ...n, metrics: { accuracy: 0.8 } } : n));
    const rows = compareRuns(a, { ...b, nodes: bench }, true);
    const acc = rows.find((r) => r.key === "clinical-safety v2.0 · accuracy");
    expect([acc?.a, acc?.b]).toEqual(["0.9", "0.8"]);
    expect(differenceCounts(rows).Evaluations).toBeGreaterThan(0);
  });

  it("orders checkpoints by step number, not as text", () => {
    const keys = compareRuns(a, { ...a, nodes: run(12).nodes }, false)
      .filter((r) => r.section === "Checkpoints")
      .map((r) => r.key);
    expect(keys.slice(0, 3)).toEqual(["step 10", "step 20", "step 30"]);
    expect(keys[keys.length - 1]).toBe("step 120");
  });
});

describe("configurations of different shapes", () => {
  it("shows a nested object only one run has as one row", () => {
    const a = { runId: "a", config: { model_architecture: { hidden_size: 32, vocab: { size: 64 } }, lr: 1 }, nodes: [] };
    const b = { runId: "b", config: { model_architecture: {}, lr: 1, extra: { x: 1 } }, nodes: [] };
    expect(compareRuns(a, b, true).map((r) => [r.key, r.a, r.b])).toEqual([
      ["extra", "—", "{1 setting}"],
      ["model_architecture", "{2 settings}", "{}"],
    ]);
  });
});

describe("flatten", () => {
  it("dots nested keys and keeps arrays whole", () => {
    expect([...flatten({ a: { b: 1, c: [1, 2] }, d: null, e: {} })]).toEqual([
      ["a.b", "1"],
      ["a.c", "[1,2]"],
      ["d", "—"],
      ["e", "{}"],
    ]);
  });
});
