import { describe, expect, it } from "vitest";
import { buildView, expandSample, findingCounts, neighbourhood, stateText } from "./graph";
import { node, run } from "./fixtures";

const none = { focus: null, depth: null, showAll: false, expanded: new Set<string>() };

describe("buildView", () => {
  it("draws a small run whole, every node named by its id", () => {
    const lineage = run(3);
    const view = buildView(lineage, none);
    expect(view.nodes.map((n) => n.id).sort()).toEqual(lineage.nodes.map((n) => n.id).sort());
    expect(view.edges).toHaveLength(lineage.edges.length);
    expect(view.hidden).toBe(0);
  });

  it("folds a run of 2,000 checkpoints and 200 evaluations into an overview of a few dozen nodes", () => {
    const lineage = run(2_000, 200);
    const view = buildView(lineage, none);
    expect(lineage.nodes.length).toBeGreaterThan(4_000);
    expect(view.nodes.length).toBeLessThan(60);
    const ids = new Set(view.nodes.map((n) => n.id));
    for (const id of ["ds_train", "ds_eval", "cfg_1", "model_final", "ckpt_step_10", "ckpt_step_20000"]) {
      expect(ids.has(id)).toBe(true);
    }
    const groups = view.nodes.filter((n) => n.group);
    const folded = groups.reduce((sum, g) => sum + g.members.length, 0);
    expect(folded).toBe(view.hidden);
    expect(folded + view.nodes.length - groups.length).toBe(lineage.nodes.length);
    const ckptGroup = groups.find((g) => g.type === "checkpoint");
    expect(ckptGroup?.label).toBe("1,998 checkpoints folded");
    expect(ckptGroup?.detail).toBe("steps 20–19,990");
    // every edge joins two drawn nodes, none twice
    for (const e of view.edges) {
      expect(ids.has(e.source) && ids.has(e.target)).toBe(true);
    }
    expect(new Set(view.edges.map((e) => e.id)).size).toBe(view.edges.length);
  });

  it("keeps a checkpoint whose hash is pending or failed, and one with a finding, out of the fold", () => {
    const lineage = run(100);
    const pending = lineage.nodes.find((n) => n.id === "ckpt_step_500");
    const failed = lineage.nodes.find((n) => n.id === "ckpt_step_700");
    if (!pending || !failed) throw new Error("fixture");
    pending.hash_status = "pending";
    pending.hash = null;
    failed.hash_status = "failed";
    failed.hash = null;
    failed.hash_error = "checkpoint deleted before it was hashed";
    const view = buildView(lineage, none, new Map([["ckpt_step_300", 1]]));
    const byId = new Map(view.nodes.map((n) => [n.id, n]));
    expect(byId.get("ckpt_step_500")?.stateText).toBe("hash pending");
    expect(byId.get("ckpt_step_700")?.stateText).toBe("GAP: checkpoint deleted before it was hashed");
    expect(byId.get("ckpt_step_300")?.findings).toBe(1);
  });

  it("shows only the neighbourhood of the focused node at the chosen depth", () => {
    const lineage = run(100);
    const view = buildView(lineage, { ...none, focus: "ckpt_step_500", depth: 1 });
    const drawn = view.nodes.filter((n) => !n.group).map((n) => n.id).sort();
    expect(drawn).toEqual(["cfg_1", "ckpt_step_500", "ds_train", "eval_step_500"]);
  });

  it("brings expanded members out of their group", () => {
    const lineage = run(100);
    const first = buildView(lineage, none);
    const group = first.nodes.find((n) => n.group && n.type === "checkpoint");
    if (!group) throw new Error("no group");
    const sample = expandSample(group.members, 5);
    const second = buildView(lineage, { ...none, expanded: new Set(sample) });
    const ids = new Set(second.nodes.map((n) => n.id));
    for (const id of sample) expect(ids.has(id)).toBe(true);
    expect(second.hidden).toBe(first.hidden - sample.length);
  });

  it("draws everything when asked, whatever the size", () => {
    const lineage = run(100);
    expect(buildView(lineage, { ...none, showAll: true }).nodes).toHaveLength(lineage.nodes.length);
  });
});

describe("pure helpers", () => {
  it("neighbourhood follows edges both ways", () => {
    expect([...neighbourhood(run(2), "model_final", 2)].sort()).toEqual(
      ["bench_0", "cfg_1", "ckpt_step_20", "ds_train", "eval_step_20", "model_final"].sort(),
    );
  });

  it("expandSample takes evenly spaced members including both ends", () => {
    const members = Array.from({ length: 100 }, (_, i) => `m${i}`);
    const s = expandSample(members, 5);
    expect(s).toEqual(["m0", "m25", "m50", "m74", "m99"]);
    expect(expandSample(["a", "b"], 5)).toEqual(["a", "b"]);
  });

  it("states the hash status in words", () => {
    expect(stateText(node("dataset", "d"))).toBe("hash computed");
    expect(stateText({ hash_status: "failed" })).toBe("GAP: hash could not be computed");
  });

  it("counts only open findings per subject", () => {
    const counts = findingCounts([
      { subject: "a", resolved_at: null },
      { subject: "a", resolved_at: "2025-01-01T00:00:00Z" },
      { subject: null, resolved_at: null },
    ]);
    expect([...counts]).toEqual([["a", 1]]);
  });
});
