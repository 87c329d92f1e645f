"""A small layered (Sugiyama-style) graph layout, left to right (pure, deterministic).

The audit PDF draws the lineage graph with it the way the dashboard draws it with ELK's
`layered` algorithm: one column per layer, edges pointing right. Three steps:

1. **Layers** by longest path from the sources, with optional partitions (ELK's
   `partitioning`): every node of partition k lies right of every node of a lower
   partition, so the columns read dataset -> config -> checkpoint -> evaluation -> model
   even where an edge skips a type. An edge that spans several layers gets one dummy node
   per layer it crosses, so it is routed between the boxes, not through them.
2. **Crossing reduction** by barycenter sweeps: each layer is ordered by the mean position
   of its neighbours in the layer before (sweeping right) or after (sweeping left); the
   order with the fewest crossings seen is kept. Ties keep the previous order, so the same
   input always gives the same layout.
3. **Coordinates**: x by layer; y by pulling each node towards the mean y of its
   neighbours, then packing each layer in its order with a minimum gap (no overlaps).

No I/O and no randomness: the input order (nodes, then edges) breaks every tie.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SWEEPS = 8  # barycenter sweep pairs (right then left); small graphs settle in two or three
PLACEMENT_ROUNDS = 6


@dataclass(frozen=True)
class Box:
    id: str
    layer: int
    x: float
    y: float  # top, growing downwards
    width: float
    height: float


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    points: list[tuple[float, float]]  # from the source's right side to the target's left


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Box]
    routes: list[Route]
    width: float
    height: float
    layers: list[list[str]]  # real node ids per layer, top to bottom
    crossings: int


def assign_layers(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    partition: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Layer per node: the longest path from a source, with partitions in order.

    Edges that would close a cycle, or point from a higher partition to a lower one, are
    ignored for layering (lineage graphs have neither; the layout must still terminate)."""
    part = {n: (partition or {}).get(n, 0) for n in nodes}
    index = {n: i for i, n in enumerate(nodes)}
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        if a in index and b in index and a != b and part[a] <= part[b]:
            preds[b].append(a)
    layer: dict[str, int] = {}
    floor = 0
    for k in sorted(set(part.values())):
        members = [n for n in nodes if part[n] == k]
        # longest path inside the partition (iterative DFS; back edges are skipped)
        state: dict[str, int] = {}  # 1: on the stack, 2: done

        def visit(
            start: str, k: int = k, floor: int = floor, state: dict[str, int] = state
        ) -> None:
            stack = [(start, 0)]
            state[start] = 1
            while stack:
                n, i = stack[-1]
                ps = preds[n]
                if i < len(ps):
                    stack[-1] = (n, i + 1)
                    p = ps[i]
                    if part[p] == k and p not in state:
                        state[p] = 1
                        stack.append((p, 0))
                    continue
                stack.pop()
                state[n] = 2
                below = [layer[p] + 1 for p in ps if p in layer and state.get(p, 2) == 2]
                layer[n] = max([floor, *below])

        for n in members:
            if n not in state:
                visit(n)
        if members:
            floor = max(layer[n] for n in members) + 1
    return layer


def crossings(upper: Sequence[str], lower: Sequence[str], edges: Sequence[tuple[str, str]]) -> int:
    """Crossings between two adjacent layers (edges from `upper` to `lower`)."""
    pos_u = {n: i for i, n in enumerate(upper)}
    pos_l = {n: i for i, n in enumerate(lower)}
    pairs = sorted((pos_u[a], pos_l[b]) for a, b in edges if a in pos_u and b in pos_l)
    count = 0
    for i, (a1, b1) in enumerate(pairs):
        for a2, b2 in pairs[i + 1 :]:
            if a2 > a1 and b2 < b1:
                count += 1
    return count


def _total_crossings(order: list[list[str]], edges: Sequence[tuple[str, str]]) -> int:
    return sum(crossings(order[i], order[i + 1], edges) for i in range(len(order) - 1))


def _barycenter(
    layer: list[str], fixed: list[str], neighbours: Mapping[str, list[str]]
) -> list[str]:
    pos = {n: i for i, n in enumerate(fixed)}
    keyed = []
    for i, n in enumerate(layer):
        ns = [pos[m] for m in neighbours[n] if m in pos]
        # a node with no neighbour there keeps its place (scaled to the fixed layer)
        bary = sum(ns) / len(ns) if ns else i * max(1, len(fixed)) / max(1, len(layer))
        keyed.append((bary, i, n))
    return [n for _, _, n in sorted(keyed)]


def order_layers(
    layers: list[list[str]], edges: Sequence[tuple[str, str]], sweeps: int = SWEEPS
) -> list[list[str]]:
    """Barycenter sweeps; the order with the fewest crossings seen wins (ties: the earlier)."""
    succ: dict[str, list[str]] = {n: [] for layer in layers for n in layer}
    pred: dict[str, list[str]] = {n: [] for layer in layers for n in layer}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    order = [list(layer) for layer in layers]
    best, best_count = [list(x) for x in order], _total_crossings(order, edges)
    for _ in range(sweeps):
        for i in range(1, len(order)):
            order[i] = _barycenter(order[i], order[i - 1], pred)
        for i in range(len(order) - 2, -1, -1):
            order[i] = _barycenter(order[i], order[i + 1], succ)
        count = _total_crossings(order, edges)
        if count < best_count:
            best, best_count = [list(x) for x in order], count
        if best_count == 0:
            break
    return best


def _pack(desired: list[float], heights: list[float], gap: float) -> list[float]:
    """Tops as close to `desired` as the order and the gap allow (forward, then backward
    half way, so a crowded layer spreads both ways)."""
    n = len(desired)
    fwd = list(desired)
    for i in range(1, n):
        fwd[i] = max(fwd[i], fwd[i - 1] + heights[i - 1] + gap)
    bwd = list(desired)
    for i in range(n - 2, -1, -1):
        bwd[i] = min(bwd[i], bwd[i + 1] - heights[i] - gap)
    out = [(f + b) / 2 for f, b in zip(fwd, bwd, strict=True)]
    for i in range(1, n):  # the average of two valid packings is valid; float-safe anyway
        out[i] = max(out[i], out[i - 1] + heights[i - 1] + gap)
    return out


def layout(
    nodes: Sequence[str],
    edges: Sequence[tuple[str, str]],
    size: Mapping[str, tuple[float, float]],
    partition: Mapping[str, int] | None = None,
    layer_gap: float = 40.0,
    node_gap: float = 10.0,
) -> Layout:
    """Boxes (x, y, width, height) and edge routes for a directed graph, left to right.

    `size`: (width, height) per node; a layer is as wide as its widest node. Edges to
    unknown nodes, self-loops and duplicates are dropped."""
    known = set(nodes)
    seen: set[tuple[str, str]] = set()
    clean: list[tuple[str, str]] = []
    for a, b in edges:
        if a in known and b in known and a != b and (a, b) not in seen:
            seen.add((a, b))
            clean.append((a, b))
    layer_of = assign_layers(nodes, clean, partition)
    # split long edges with dummies; an edge against the layering is drawn as it is
    chains: list[tuple[str, str, list[str]]] = []
    proper: list[tuple[str, str]] = []
    dummies: dict[str, int] = {}
    for a, b in clean:
        la, lb = layer_of[a], layer_of[b]
        if lb <= la:
            chains.append((a, b, []))
            continue
        path = [a]
        for k in range(la + 1, lb):
            d = f"\x00{a}\x00{b}\x00{k}"
            dummies[d] = k
            path.append(d)
        path.append(b)
        proper += list(itertools.pairwise(path))
        chains.append((a, b, path[1:-1]))
    depth = max([*layer_of.values(), *dummies.values(), -1]) + 1
    layers: list[list[str]] = [[] for _ in range(depth)]
    for n in nodes:
        layers[layer_of[n]].append(n)
    for d, k in dummies.items():
        layers[k].append(d)
    order = order_layers(layers, proper)

    def dims(n: str) -> tuple[float, float]:
        return (0.0, 0.0) if n in dummies else size[n]

    widths = [max([dims(n)[0] for n in layer] + [0.0]) for layer in order]
    xs = []
    x = 0.0
    for w in widths:
        xs.append(x)
        x += w + layer_gap
    nbrs: dict[str, list[str]] = {n: [] for layer in order for n in layer}
    for a, b in proper:
        nbrs[a].append(b)
        nbrs[b].append(a)
    gap = {n: node_gap / 2 if n in dummies else node_gap for layer in order for n in layer}
    centre: dict[str, float] = {}
    for layer in order:  # start: each layer stacked from the top
        top = 0.0
        for n in layer:
            centre[n] = top + dims(n)[1] / 2
            top += dims(n)[1] + gap[n]
    for r in range(PLACEMENT_ROUNDS):
        sequence = range(len(order)) if r % 2 == 0 else range(len(order) - 1, -1, -1)
        for i in sequence:
            layer = order[i]
            if not layer:
                continue
            desired = []
            for n in layer:
                ns = [centre[m] for m in nbrs[n]]
                c = sum(ns) / len(ns) if ns else centre[n]
                desired.append(c - dims(n)[1] / 2)
            heights = [dims(n)[1] for n in layer]
            tops = _pack(desired, heights, max(gap[n] for n in layer))
            for n, t, h in zip(layer, tops, heights, strict=True):
                centre[n] = t + h / 2
    low = min([centre[n] - dims(n)[1] / 2 for layer in order for n in layer] + [0.0])
    boxes: dict[str, Box] = {}
    for i, layer in enumerate(order):
        for n in layer:
            if n in dummies:
                continue
            w, h = dims(n)
            # a narrower box sits left-aligned in its column, so arrows into it stay short
            boxes[n] = Box(n, i, xs[i], centre[n] - h / 2 - low, w, h)
    routes = []
    for a, b, via in chains:
        ba, bb = boxes[a], boxes[b]
        pts = [(ba.x + ba.width, ba.y + ba.height / 2)]
        for d in via:
            k = dummies[d]
            y = centre[d] - low
            pts += [(xs[k], y), (xs[k] + widths[k], y)]
        pts.append((bb.x, bb.y + bb.height / 2))
        routes.append(Route(a, b, pts))
    height = max([b.y + b.height for b in boxes.values()] + [0.0])
    height = max([height, *(p[1] for r in routes for p in r.points)])
    width = max([b.x + b.width for b in boxes.values()] + [0.0])
    real = [[n for n in layer if n not in dummies] for layer in order]
    return Layout(boxes, routes, width, height, real, _total_crossings(order, proper))
