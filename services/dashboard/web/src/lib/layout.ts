// The layered left-to-right layout: ELK's input built from the view (pure), ELK run on it,
// and keyboard moves between the laid-out nodes (pure).

import type { ElkNode } from "elkjs/lib/elk-api";
import type { NodeType } from "../types";
import type { GraphView } from "./graph";
import { TYPE_ORDER } from "./graph";

export const NODE_WIDTH = 232;
export const NODE_HEIGHT = 92;

export interface Positioned {
  id: string;
  type: NodeType;
  x: number;
  y: number;
}

/** ELK's input: layered, left to right, one partition per node type so the columns read
 * dataset -> config -> checkpoints -> evaluations -> model. */
export function elkInput(view: GraphView): ElkNode {
  return {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "RIGHT",
      "elk.partitioning.activate": "true",
      "elk.layered.spacing.nodeNodeBetweenLayers": "80",
      "elk.spacing.nodeNode": "28",
      "elk.layered.nodePlacement.strategy": "BRANDES_KOEPF",
      "elk.layered.crossingMinimization.strategy": "LAYER_SWEEP",
      "elk.edgeRouting": "POLYLINE",
    },
    children: view.nodes.map((n) => ({
      id: n.id,
      width: NODE_WIDTH,
      height: NODE_HEIGHT,
      layoutOptions: { "elk.partitioning.partition": String(TYPE_ORDER.indexOf(n.type)) },
    })),
    edges: view.edges.map((e) => ({ id: e.id, sources: [e.source], targets: [e.target] })),
  };
}

export function positions(view: GraphView, laid: ElkNode): Map<string, Positioned> {
  const types = new Map(view.nodes.map((n) => [n.id, n.type]));
  const out = new Map<string, Positioned>();
  for (const c of laid.children ?? []) {
    const type = types.get(c.id);
    if (type !== undefined) out.set(c.id, { id: c.id, type, x: c.x ?? 0, y: c.y ?? 0 });
  }
  return out;
}

let elk: Promise<{ layout(g: ElkNode): Promise<ElkNode> }> | null = null;

/** Start loading ELK (its own 1.5 MB chunk) while the run's data is still on its way. */
export function preloadLayout(): Promise<{ layout(g: ElkNode): Promise<ElkNode> }> {
  elk ??= import("elkjs/lib/elk.bundled.js").then((m) => new m.default());
  return elk;
}

export async function layout(view: GraphView): Promise<Map<string, Positioned>> {
  const engine = await preloadLayout();
  return positions(view, await engine.layout(elkInput(view)));
}

export type Direction = "left" | "right" | "up" | "down";

/** The node an arrow key moves to: up/down within the column, left/right to the nearest
 * node (vertically) in the next column that has any. */
export function move(all: ReadonlyMap<string, Positioned>, from: string, dir: Direction): string | null {
  const here = all.get(from);
  if (!here) return null;
  const nodes = [...all.values()];
  const column = (p: Positioned) => Math.round(p.x);
  if (dir === "up" || dir === "down") {
    const same = nodes.filter((p) => column(p) === column(here)).sort((a, b) => a.y - b.y);
    const i = same.findIndex((p) => p.id === from);
    return same[dir === "up" ? i - 1 : i + 1]?.id ?? null;
  }
  const columns = [...new Set(nodes.map(column))].sort((a, b) => a - b);
  const ci = columns.indexOf(column(here));
  const target = columns[dir === "left" ? ci - 1 : ci + 1];
  if (target === undefined) return null;
  let best: Positioned | null = null;
  for (const p of nodes) {
    if (column(p) !== target) continue;
    if (best === null || Math.abs(p.y - here.y) < Math.abs(best.y - here.y)) best = p;
  }
  return best?.id ?? null;
}

/** The least zoom "Fit to screen" goes to: node ids (0.95rem of 15 px) stay 8 px high and
 * the smallest node text (0.76rem) above 6, where an unbounded fit drew a 60-node graph's
 * text 2 px high. The walkthrough's run (5 columns) still fits whole beside the details
 * panel (about 0.6). A graph wider than that is shown from its left, where the run starts
 * (dataset, config); the zoom buttons go further out. */
export const FIT_MIN_ZOOM = 0.55;
export const FIT_PADDING = 0.05;
export const FIT_MAX_ZOOM = 1.1;

export interface Viewport {
  x: number;
  y: number;
  zoom: number;
}

/** The viewport that fits the laid-out nodes into a `width` x `height` box with `padding`
 * (a fraction of the box on each side), at a zoom between FIT_MIN_ZOOM and FIT_MAX_ZOOM:
 * centred where the graph fits; where it does not, from its left edge, and vertically
 * around its first column (where the run starts), without showing space past its edges. */
export function fitViewport(all: ReadonlyMap<string, Positioned>, width: number, height: number, padding = FIT_PADDING): Viewport {
  if (all.size === 0) return { x: 0, y: 0, zoom: 1 };
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const p of all.values()) {
    minX = Math.min(minX, p.x);
    minY = Math.min(minY, p.y);
    maxX = Math.max(maxX, p.x + NODE_WIDTH);
    maxY = Math.max(maxY, p.y + NODE_HEIGHT);
  }
  const w = maxX - minX;
  const h = maxY - minY;
  const innerW = width * (1 - 2 * padding);
  const innerH = height * (1 - 2 * padding);
  const zoom = Math.min(FIT_MAX_ZOOM, Math.max(FIT_MIN_ZOOM, Math.min(innerW / w, innerH / h)));
  const x = w * zoom <= innerW ? (width - w * zoom) / 2 - minX * zoom : width * padding - minX * zoom;
  if (h * zoom <= innerH) return { x, y: (height - h * zoom) / 2 - minY * zoom, zoom };
  const first = [...all.values()].filter((p) => p.x === minX);
  const middle = first.reduce((sum, p) => sum + p.y + NODE_HEIGHT / 2, 0) / first.length;
  const top = height * padding - minY * zoom; // the graph's top edge at the box's padding
  const bottom = height * (1 - padding) - maxY * zoom; // its bottom edge likewise
  const y = Math.min(top, Math.max(bottom, height / 2 - middle * zoom));
  return { x, y, zoom };
}
