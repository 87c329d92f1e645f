import { describe, expect, it } from "vitest";
import { elkInput, FIT_MAX_ZOOM, FIT_MIN_ZOOM, fitViewport, move, NODE_HEIGHT, NODE_WIDTH, type Positioned } from "./layout";
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

describe("fitViewport", () => {
  const row = (n: number): Map<string, Positioned> =>
    new Map(Array.from({ length: n }, (_, i) => [`n${i}`, { id: `n${i}`, type: "checkpoint" as const, x: i * 312, y: 40 }]));

  it("centres a graph that fits, never zooming in past the cap", () => {
    const v = fitViewport(row(2), 1200, 500);
    expect(v.zoom).toBe(FIT_MAX_ZOOM);
    const graphWidth = (312 + NODE_WIDTH) * v.zoom;
    expect(v.x).toBeCloseTo((1200 - graphWidth) / 2);
    expect(v.y).toBeCloseTo((500 - NODE_HEIGHT * v.zoom) / 2 - 40 * v.zoom);
  });

  it("zooms out only as far as node text stays legible, and shows a wide graph from its left", () => {
    const wide = fitViewport(row(40), 1200, 500, 0.12);
    expect(wide.zoom).toBe(FIT_MIN_ZOOM);
    expect(wide.x).toBeCloseTo(1200 * 0.12); // the first column (where the run starts) in view
    const middling = fitViewport(row(5), 1600, 500, 0.12);
    expect(middling.zoom).toBeGreaterThan(FIT_MIN_ZOOM);
    expect(middling.zoom).toBeLessThan(FIT_MAX_ZOOM);
    expect(middling.zoom * (4 * 312 + NODE_WIDTH)).toBeCloseTo(1600 * 0.76);
  });

  it("shows a tall graph around its first column, never past its edges", () => {
    const tall = new Map<string, Positioned>([
      ["dataset", { id: "dataset", type: "dataset", x: 0, y: 2000 }],
      ...Array.from({ length: 40 }, (_, i): [string, Positioned] => [`c${i}`, { id: `c${i}`, type: "checkpoint", x: 312, y: i * 120 }]),
    ]);
    const v = fitViewport(tall, 1200, 600, 0.12);
    expect(v.zoom).toBe(FIT_MIN_ZOOM);
    expect(v.y + (2000 + NODE_HEIGHT / 2) * v.zoom).toBeCloseTo(300); // the dataset mid-box
    const high = new Map(tall);
    high.set("dataset", { id: "dataset", type: "dataset", x: 0, y: 0 });
    expect(fitViewport(high, 1200, 600, 0.12).y).toBeCloseTo(600 * 0.12); // top edge, no gap
  });

  it("is the identity for an empty graph", () => {
    expect(fitViewport(new Map(), 800, 400)).toEqual({ x: 0, y: 0, zoom: 1 });
  });
});
