"""The cache of encoded lineage graphs: a graph is served only under the version it was
built at, and the cache holds no more than its bound (pure)."""

from __future__ import annotations

from cognify_lineage.graphcache import GraphCache


def test_a_graph_is_served_only_under_its_own_version() -> None:
    cache = GraphCache()
    cache.put("run-1", (7, "running"), b"{graph at 7}")
    assert cache.get("run-1", (7, "running")) == b"{graph at 7}"
    assert cache.get("run-1", (8, "running")) is None  # the chain grew
    assert cache.get("run-1", (7, "abandoned")) is None  # the sweep changed its status
    assert cache.get("run-2", (7, "running")) is None


def test_a_newer_graph_replaces_the_older_one() -> None:
    cache = GraphCache()
    cache.put("run-1", (7,), b"old")
    cache.put("run-1", (8,), b"newer")
    assert cache.get("run-1", (7,)) is None
    assert cache.get("run-1", (8,)) == b"newer"
    assert cache.size == len(b"newer")


def test_the_least_recently_used_graphs_leave_first_within_the_bound() -> None:
    cache = GraphCache(max_bytes=10)
    cache.put("a", (1,), b"aaaa")
    cache.put("b", (1,), b"bbbb")
    assert cache.get("a", (1,)) == b"aaaa"  # a is now the most recently used
    cache.put("c", (1,), b"cccc")
    assert cache.get("b", (1,)) is None
    assert cache.get("a", (1,)) == b"aaaa" and cache.get("c", (1,)) == b"cccc"
    assert cache.size == 8
    cache.put("huge", (1,), b"x" * 11)  # larger than the bound: not kept
    assert cache.get("huge", (1,)) is None and cache.size == 8
