// Line-chart geometry (pure): domains, "nice" ticks, SVG paths, the nearest point to a hover.

import type { Point } from "../types";

export interface Domain {
  min: number;
  max: number;
}

export function domain(values: readonly number[]): Domain {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) return { min: 0, max: 1 };
  if (min === max) return { min: min - (Math.abs(min) || 1) * 0.5, max: max + (Math.abs(max) || 1) * 0.5 };
  return { min, max };
}

/** About `count` round tick values covering the domain. */
export function ticks(d: Domain, count = 5): number[] {
  const span = d.max - d.min;
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(d.min / step) * step; v <= d.max + step * 1e-9; v += step) {
    out.push(Number(v.toPrecision(12)));
  }
  return out;
}

export function scale(d: Domain, lo: number, hi: number): (v: number) => number {
  const span = d.max - d.min || 1;
  return (v) => lo + ((v - d.min) / span) * (hi - lo);
}

/** A polyline path; a large series is thinned to at most `maxPoints` (min and max of each
 * bucket kept, so spikes stay visible). */
export function path(points: readonly Point[], x: (v: number) => number, y: (v: number) => number, maxPoints = 1_500): string {
  const pts = thin(points, maxPoints);
  return pts
    .filter((p) => Number.isFinite(p.value))
    .map((p, i) => `${i === 0 ? "M" : "L"}${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`)
    .join("");
}

export function thin(points: readonly Point[], maxPoints: number): readonly Point[] {
  if (points.length <= maxPoints) return points;
  const buckets = Math.floor(maxPoints / 2);
  const size = points.length / buckets;
  const out: Point[] = [];
  for (let b = 0; b < buckets; b++) {
    const slice = points.slice(Math.floor(b * size), Math.floor((b + 1) * size));
    if (slice.length === 0) continue;
    let lo = slice[0] as Point;
    let hi = lo;
    for (const p of slice) {
      if (p.value < lo.value) lo = p;
      if (p.value > hi.value) hi = p;
    }
    if (lo === hi) out.push(lo);
    else out.push(...(lo.step <= hi.step ? [lo, hi] : [hi, lo]));
  }
  return out;
}

/** The point of `points` (sorted by step) nearest to `step`. */
export function nearest(points: readonly Point[], step: number): Point | undefined {
  if (points.length === 0) return undefined;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as Point).step < step) lo = mid + 1;
    else hi = mid;
  }
  const after = points[lo] as Point;
  const before = points[lo - 1];
  return before !== undefined && step - before.step < after.step - step ? before : after;
}
