import { describe, expect, it } from "vitest";
import { elkInput, move, type Positioned } from "./layout";
import { buildView } from "./graph";
import { run } from "./fixtures";

const at = (id: string, x: number, y: number): [string, Positioned] => [id, { id, type: "checkpoint", x, y }];

describe("keyboard moves", () => {
  const all = new Map([at("d", 0, 50), at("c1", 300, 0), at("c2", 300, 100), at("e", 600, 90)]);

  it("moves within a column with up and down", () => {
    expect(move(all, "c1", "down")).toBe("c2");
    expect(move(all, "c2", "up")).toBe("c1");
    expect(move(all, "c2", "down")).toBeNull();
  });

  it("moves to the vertically nearest node of the next column", () => {
    expect(move(all, "c2", "right")).toBe("e");
    expect(move(all, "e", "left")).toBe("c2");
    expect(move(all, "d", "left")).toBeNull();
  });
});

describe("elkInput", () => {
  it("puts each node type in its own partition, left to right", () => {
    const input = elkInput(buildView(run(2), { focus: null, depth: null, showAll: false, expanded: new Set() }));
    const partition = (id: string) => input.children?.find((c) => c.id === id)?.layoutOptions?.["elk.partitioning.partition"];
    expect([partition("ds_train"), partition("cfg_1"), partition("ckpt_step_10"), partition("bench_0"), partition("model_final")]).toEqual(["0", "1", "2", "3", "4"]);
    expect(input.layoutOptions?.["elk.direction"]).toBe("RIGHT");
  });
});
