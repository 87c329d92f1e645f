import { describe, expect, it } from "vitest";
import { domain, nearest, path, scale, thin, ticks } from "./chart";
import type { Point } from "../types";

const pts = (values: number[]): Point[] => values.map((value, i) => ({ step: i * 10, value, epoch: null, time: "" }));

describe("chart geometry", () => {
  it("pads a flat domain and ignores NaN", () => {
    expect(domain([2, 2, Number.NaN])).toEqual({ min: 1, max: 3 });
    expect(domain([])).toEqual({ min: 0, max: 1 });
  });

  it("gives round ticks", () => {
    expect(ticks({ min: 0, max: 1 })).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(ticks({ min: 0, max: 2000 }, 4)).toEqual([0, 500, 1000, 1500, 2000]);
  });

  it("finds the nearest point by step", () => {
    const series = pts([5, 4, 3, 2]);
    expect(nearest(series, 14)?.step).toBe(10);
    expect(nearest(series, 16)?.step).toBe(20);
    expect(nearest(series, 1_000)?.step).toBe(30);
    expect(nearest([], 1)).toBeUndefined();
  });

  it("thins a long series and keeps its spikes", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => (i === 5_000 ? 100 : 1));
    const out = thin(pts(values), 1_000);
    expect(out.length).toBeLessThanOrEqual(1_000);
    expect(Math.max(...out.map((p) => p.value))).toBe(100);
  });

  it("draws a path through the scaled points", () => {
    const x = scale({ min: 0, max: 10 }, 0, 100);
    const y = scale({ min: 0, max: 1 }, 100, 0);
    expect(path(pts([0, 1]), x, y)).toBe("M0.0,100.0L100.0,0.0");
  });
});
