"""The lineage graph as the audit PDF draws it (pure): typed, labelled boxes like the
dashboard's (services/dashboard/web/src/lib/graph.ts), and, for a large run, an overview
whose size is bounded whatever the run's.

A run with at most `MAX_COLUMN` checkpoints and as many evaluations is drawn whole. A
larger one keeps every dataset, configuration and model, the checkpoints a reviewer looks
for (first, last, the model's, any whose hash is pending or a gap, any with an open
finding, any a kept evaluation evaluated) and the evaluations that matter (any not
computed or with a non-finite result, the latest per benchmark version); the others are
folded into group boxes ("198 checkpoints, steps 2-199"), checkpoints by the stretch
between two kept ones, evaluations by benchmark. Every column then holds at most
`2 * KEPT + 1` boxes, so the drawing fits one page. The page says what was folded; the
full edge list is in the PDF's appendix and in the embedded JSON package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TYPE_ORDER = ("dataset", "config", "checkpoint", "eval", "model")
TYPE_LABEL = {
    "dataset": "dataset",
    "config": "configuration",
    "checkpoint": "checkpoint",
    "eval": "evaluation",
    "model": "model",
}
NOUNS = {
    "dataset": ("dataset", "datasets"),
    "config": ("configuration", "configurations"),
    "checkpoint": ("checkpoint", "checkpoints"),
    "eval": ("evaluation", "evaluations"),
    "model": ("model", "models"),
}
MAX_COLUMN = 12  # up to this many checkpoints (and evaluations) a run is drawn whole
KEPT = 6  # the most checkpoints (evaluations) an overview keeps; the rest are folded


@dataclass(frozen=True)
class ViewNode:
    id: str
    type: str
    label: str  # the node id, or "198 checkpoints folded"
    detail: str  # step, benchmark, record count: the line under the id
    hash_short: str
    state: str  # computed, pending, gap, group
    state_text: str  # the state in words (colour is never the only signal)
    members: list[str] = field(default_factory=list)
    warning: str = ""  # e.g. the results that were not finite, printed in red


@dataclass(frozen=True)
class View:
    nodes: list[ViewNode]
    edges: list[tuple[str, str]]
    total_nodes: int
    total_edges: int
    folded: dict[str, int]  # node type -> how many nodes were folded into groups

    @property
    def elided(self) -> bool:
        return any(self.folded.values())


def short_hash(h: str | None) -> str:
    if not h:
        return "no hash"
    algo, _, hexa = h.partition(":") if ":" in h else ("", "", h)
    return f"{algo}:{hexa[:12]}…" if algo else f"{hexa[:12]}…"


def state_of(n: Mapping[str, Any]) -> tuple[str, str]:
    status = n.get("hash_status")
    if status == "computed":
        return "computed", "hash computed"
    if status == "pending":
        return "pending", "hash pending"
    return "gap", f"GAP: {n.get('hash_error') or 'hash could not be computed'}"


def _step(n: Mapping[str, Any]) -> int:
    s = n.get("step")
    return s if isinstance(s, int) and not isinstance(s, bool) else -1


def benchmark_key(n: Mapping[str, Any]) -> str:
    name = n.get("benchmark_name")
    if not name:
        return "trainer evaluation" if n.get("source") == "trainer" else "evaluation"
    version = n.get("benchmark_version")
    return f"{name} v{version}" if version else str(name)


def detail(n: Mapping[str, Any]) -> str:
    t = n.get("type")
    if t == "dataset":
        parts = [str(n.get("name") or ""), f"v{n['version']}" if n.get("version") else ""]
        parts.append(str(n.get("role") or ""))
        if isinstance(n.get("record_count"), int):
            parts.append(f"{n['record_count']:,} records")
        return " · ".join(p for p in parts if p)
    if t == "config":
        parts = [str(n.get("model_type") or ""), str(n.get("optimizer") or "")]
        return " · ".join(p for p in parts if p)
    if t == "checkpoint":
        return f"step {_step(n):,}" if _step(n) >= 0 else ""
    if t == "eval":
        parts = [benchmark_key(n)] + ([f"step {_step(n):,}"] if _step(n) >= 0 else [])
        return " · ".join(parts)
    if t == "model":
        return f"from {n['checkpoint_id']}" if n.get("checkpoint_id") else ""
    return ""


def _node(n: Mapping[str, Any]) -> ViewNode:
    state, text = state_of(n)
    bad = n.get("nonfinite_metrics") or {}
    warning = "not finite: " + ", ".join(f"{k} {v}" for k, v in sorted(bad.items()))
    return ViewNode(
        str(n["id"]),
        str(n["type"]),
        str(n["id"]),
        detail(n),
        short_hash(n.get("hash")),
        state,
        text,
        warning=warning if bad else "",
    )


def _group(key: str, members: list[Mapping[str, Any]]) -> ViewNode:
    t = str(members[0]["type"])
    one, many = NOUNS.get(t, (t, t + "s"))
    steps = [_step(m) for m in members if _step(m) >= 0]
    d = ""
    if steps:
        lo, hi = min(steps), max(steps)
        d = f"step {lo:,}" if lo == hi else f"steps {lo:,}\u2013{hi:,}"
    if t == "eval":
        bench = key.removeprefix("eval:")
        d = " · ".join(p for p in ("several benchmarks" if bench == "*" else bench, d) if p)
    pending = sum(1 for m in members if m.get("hash_status") != "computed")
    return ViewNode(
        f"group:{key}",
        t,
        f"{len(members):,} {one if len(members) == 1 else many} folded",
        d,
        "",
        "group",
        f"{pending:,} not hashed" if pending else "all hashed",
        [str(m["id"]) for m in members],
    )


def _keep_checkpoints(
    ckpts: list[Mapping[str, Any]], must: set[str], flagged: set[str]
) -> set[str]:
    """First, last and must-keep ones, then the flagged (not computed, open findings) in
    step order, up to KEPT in all (first and last always)."""
    if not ckpts:
        return set()
    keep = [str(ckpts[0]["id"]), str(ckpts[-1]["id"])]
    wanted = [str(c["id"]) for c in ckpts if str(c["id"]) in must]
    wanted += [
        str(c["id"])
        for c in ckpts
        if (c.get("hash_status") != "computed" or str(c["id"]) in flagged)
        and str(c["id"]) not in must
    ]
    for cid in wanted:
        if len(set(keep)) >= KEPT:
            break
        keep.append(cid)
    return set(keep)


def build(
    graph: Mapping[str, Any],
    flagged: Sequence[str] = (),
    max_column: int = MAX_COLUMN,
) -> View:
    """The view of a lineage graph (`{"nodes": [...], "edges": [{"from", "to"}]}`, the
    lineage JSON): whole when small, else an overview (see the module's docstring).
    `flagged`: node ids with an open finding."""
    nodes: list[Mapping[str, Any]] = list(graph["nodes"])
    edges = [(str(e["from"]), str(e["to"])) for e in graph["edges"]]
    ids = {str(n["id"]) for n in nodes}
    ckpts = sorted((n for n in nodes if n["type"] == "checkpoint"), key=lambda n: _step(n))
    evals = [n for n in nodes if n["type"] == "eval"]
    if len(ckpts) <= max_column and len(evals) <= max_column:
        view_nodes = [_node(n) for n in nodes]
        kept_edges = [(a, b) for a, b in edges if a in ids and b in ids]
        return View(view_nodes, kept_edges, len(nodes), len(edges), {})
    marked = set(flagged)
    # evaluations: anything out of the ordinary, then the latest per benchmark version
    keep_evals: list[str] = [
        str(e["id"])
        for e in evals
        if e.get("hash_status") != "computed" or e.get("nonfinite_metrics") or e["id"] in marked
    ]
    latest: dict[str, Mapping[str, Any]] = {}
    for e in evals:
        k = benchmark_key(e)
        if k not in latest or _step(e) >= _step(latest[k]):
            latest[k] = e
    keep_evals += [str(e["id"]) for e in latest.values()]
    if len(evals) > max_column:
        kept_evals = set(list(dict.fromkeys(keep_evals))[:KEPT])
    else:
        kept_evals = {str(e["id"]) for e in evals}
    by_id = {str(n["id"]): n for n in nodes}
    must = {str(by_id[e].get("evaluated_checkpoint")) for e in kept_evals if e in by_id}
    must |= {str(n.get("checkpoint_id")) for n in nodes if n["type"] == "model"}
    if len(ckpts) > max_column:
        kept_ckpts = _keep_checkpoints(ckpts, must & ids, marked)
    else:
        kept_ckpts = {str(c["id"]) for c in ckpts}
    group_of: dict[str, str] = {}
    stretch, open_ = 0, False
    for c in ckpts:
        cid = str(c["id"])
        if cid in kept_ckpts:
            open_ = False
            continue
        if not open_:
            stretch, open_ = stretch + 1, True
        group_of[cid] = f"checkpoint:{stretch}"
    many_benchmarks = len({benchmark_key(e) for e in evals}) > KEPT
    for e in evals:
        if str(e["id"]) not in kept_evals:
            key = "*" if many_benchmarks else benchmark_key(e)
            group_of[str(e["id"])] = f"eval:{key}"
    out: list[ViewNode] = []
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for n in nodes:
        g = group_of.get(str(n["id"]))
        if g is None:
            out.append(_node(n))
        else:
            groups.setdefault(g, []).append(n)
    for key, members in groups.items():
        out.append(_group(key, members))

    def rep(i: str) -> str:
        g = group_of.get(i)
        return i if g is None else f"group:{g}"

    kept: list[tuple[str, str]] = []
    for a, b in edges:
        if a in ids and b in ids:
            pair = (rep(a), rep(b))
            if pair[0] != pair[1] and pair not in kept:
                kept.append(pair)
    folded: dict[str, int] = {}
    for i in group_of:
        t = str(by_id[i]["type"])
        folded[t] = folded.get(t, 0) + 1
    return View(out, kept, len(nodes), len(edges), folded)


def folded_text(view: View) -> str:
    """What an overview left out, in words, for the page."""
    parts = [
        f"{n:,} {NOUNS[t][0] if n == 1 else NOUNS[t][1]}"
        for t, n in sorted(view.folded.items(), key=lambda kv: TYPE_ORDER.index(kv[0]))
    ]
    return " and ".join(parts)
