"""The layered layout the audit PDF draws the lineage graph with (layered.py, pure)."""

from __future__ import annotations

import itertools

from cognify_exporter import layered


def _no_overlap(lay: layered.Layout, gap: float) -> None:
    for column in lay.layers:
        boxes = sorted((lay.boxes[n] for n in column), key=lambda b: b.y)
        for a, b in itertools.pairwise(boxes):
            assert b.y >= a.y + a.height + gap - 1e-6, (a, b)


def test_layers_are_the_longest_path_from_a_source() -> None:
    nodes = ["a", "b", "c", "d"]
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")]
    assert layered.assign_layers(nodes, edges) == {"a": 0, "b": 1, "c": 2, "d": 0}


def test_partitions_put_each_type_in_its_own_columns_in_order() -> None:
    """dataset -> checkpoint skips the config column, as in the dashboard (ELK partitions)."""
    nodes = ["ds", "cfg", "ckpt", "ev", "model"]
    edges = [("ds", "ckpt"), ("cfg", "ckpt"), ("ckpt", "ev"), ("ckpt", "model")]
    partition = {"ds": 0, "cfg": 1, "ckpt": 2, "ev": 3, "model": 4}
    layers = layered.assign_layers(nodes, edges, partition)
    assert layers == {"ds": 0, "cfg": 1, "ckpt": 2, "ev": 3, "model": 4}


def test_a_cycle_still_terminates_with_every_node_layered() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a")]
    layers = layered.assign_layers(["a", "b", "c"], edges)
    assert sorted(layers.values()) == [0, 1, 2]
    assert sum(layers[a] < layers[b] for a, b in edges) == 2  # one edge of the cycle is reversed
    lay = layered.layout(["a", "b", "c"], edges, {n: (10.0, 10.0) for n in "abc"})
    assert len(lay.routes) == 3


def test_crossings_are_counted_between_adjacent_layers() -> None:
    edges = [("a", "d"), ("b", "c")]
    assert layered.crossings(["a", "b"], ["c", "d"], edges) == 1
    assert layered.crossings(["a", "b"], ["d", "c"], edges) == 0


def test_barycenter_sweeps_remove_avoidable_crossings() -> None:
    layers = [["a", "b", "c"], ["z", "y", "x"]]
    edges = [("a", "x"), ("b", "y"), ("c", "z")]
    order = layered.order_layers(layers, edges)
    assert layered.crossings(order[0], order[1], edges) == 0


def test_layout_places_boxes_by_layer_without_overlaps_and_routes_every_edge() -> None:
    nodes = ["ds1", "ds2", "cfg", "c1", "c2", "c3", "e1", "m"]
    edges = [(d, c) for d in ("ds1", "ds2", "cfg") for c in ("c1", "c2", "c3")]
    edges += [("c2", "e1"), ("c3", "m")]
    partition = {"ds1": 0, "ds2": 0, "cfg": 1, "c1": 2, "c2": 2, "c3": 2, "e1": 3, "m": 4}
    size = {n: (50.0, 30.0) for n in nodes}
    lay = layered.layout(nodes, edges, size, partition, layer_gap=20, node_gap=8)
    assert [sorted(layer) for layer in lay.layers] == [
        ["ds1", "ds2"],
        ["cfg"],
        ["c1", "c2", "c3"],
        ["e1"],
        ["m"],
    ]
    assert [lay.boxes[n].x for n in ("ds1", "cfg", "c1", "e1", "m")] == [0, 70, 140, 210, 280]
    _no_overlap(lay, 8)
    assert all(b.y >= 0 for b in lay.boxes.values())
    assert lay.width == 330 and lay.height >= 3 * 30 + 2 * 8
    assert len(lay.routes) == len(edges)
    for r in lay.routes:
        a, b = lay.boxes[r.source], lay.boxes[r.target]
        assert r.points[0] == (a.x + a.width, a.y + a.height / 2)
        assert r.points[-1] == (b.x, b.y + b.height / 2)
        # a dataset's edge skips the config column: routed through it between two points
        assert len(r.points) == 2 + 2 * (b.layer - a.layer - 1)


def test_the_same_input_gives_the_same_layout() -> None:
    nodes = [f"n{i}" for i in range(30)]
    edges = [(f"n{i}", f"n{(i * 7 + 3) % 30}") for i in range(30) if i < (i * 7 + 3) % 30]
    size = {n: (40.0, 20.0) for n in nodes}
    assert layered.layout(nodes, edges, size) == layered.layout(nodes, edges, size)


def test_unknown_nodes_self_loops_and_duplicate_edges_are_dropped() -> None:
    size = {"a": (10.0, 10.0), "b": (10.0, 10.0)}
    lay = layered.layout(["a", "b"], [("a", "b"), ("a", "b"), ("a", "a"), ("a", "x")], size)
    assert [(r.source, r.target) for r in lay.routes] == [("a", "b")]


def test_an_empty_graph_has_an_empty_layout() -> None:
    lay = layered.layout([], [], {})
    assert lay.boxes == {} and lay.routes == [] and lay.width == lay.height == 0
