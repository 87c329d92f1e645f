"""The alert rules and the Grafana dashboard: promtool checks and unit-tests the rules, and
every metric a rule or a panel queries is one that a service really exports (named in its
metrics.py), so a renamed metric breaks this test rather than a page that never comes.
"""

from __future__ import annotations

import itertools
import json
import re
import subprocess
from typing import Any

import yaml

from .tools import ROOT, tool

RULES = ROOT / "deploy/prometheus/alerts.yml"
RULE_TESTS = ROOT / "deploy/prometheus/alerts.test.yml"
DASHBOARD = ROOT / "deploy/grafana/cognify.json"
OPERATIONS = ROOT / "docs/operations.md"
# Series Prometheus itself makes for every target.
BUILTIN = {"up"}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("promtool")), *args], capture_output=True, text=True, check=False, timeout=120
    )


def exported_metrics() -> set[str]:
    """Every metric name declared in a service's metrics.py."""
    names: set[str] = set()
    for module in ROOT.glob("services/*/src/*/metrics.py"):
        names |= set(re.findall(r'"(cognify_[a-z_]+)"', module.read_text()))
    assert len(names) > 20, names
    return names


def _expand(pattern: str) -> list[str]:
    """The names an alternation like cognify_(a|b)_lag stands for (one level of groups)."""
    parts = re.split(r"\(([^()]*)\)", pattern)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def referenced_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: bare names, and names matched by
    `__name__=~"..."` (each alternative of which must exist on its own)."""
    known = exported_metrics()
    found: set[str] = set()
    for pattern in re.findall(r'__name__=~"([^"]+)"', expr):
        for alternative in _expand(pattern):
            matches = {m for m in known if re.fullmatch(alternative, m)}
            assert matches, f"{alternative!r} matches no exported metric"
            found |= matches
    stripped = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', "", expr)
    for name in re.findall(r"\b(cognify_[a-z_]+|up)\b", stripped):
        found.add(re.sub(r"_(bucket|sum|count)$", "", name) if name not in known else name)
    return found


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", str(RULES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in result.stdout


def test_each_alert_fires_on_its_unit_test_series() -> None:
    result = _promtool("test", "rules", str(RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text()))
    assert tested == {rule["alert"] for rule in _rules()}, "an alert without a unit test"


def test_promtool_accepts_the_scrape_configuration() -> None:
    result = _promtool(
        "check", "config", "--syntax-only", str(ROOT / "deploy/prometheus/prometheus.yml")
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_queries_metrics_the_services_export() -> None:
    known = exported_metrics() | BUILTIN
    for rule in _rules():
        used = referenced_metrics(rule["expr"])
        assert used, rule["alert"]
        assert used <= known, (rule["alert"], used - known)


def test_every_alert_has_a_runbook_section() -> None:
    headings = {
        "#" + re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", OPERATIONS.read_text(), re.MULTILINE)
    }
    for rule in _rules():
        anchor = rule["annotations"]["runbook"].removeprefix("docs/operations.md")
        assert anchor in headings, (rule["alert"], anchor)


def _panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def test_every_panel_queries_metrics_the_services_export() -> None:
    known = exported_metrics() | BUILTIN
    for panel in _panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = referenced_metrics(target["expr"])
            assert used, (panel["title"], target["expr"])
            assert used <= known, (panel["title"], used - known)


def test_the_dashboard_shows_what_an_operator_needs() -> None:
    shown = set().union(*(referenced_metrics(t["expr"]) for p in _panels() for t in p["targets"]))
    needed = {
        "cognify_ingest_lag",  # consumer lag per group and partition
        "cognify_lineage_lag",
        "cognify_hasher_lag",
        "cognify_ingest_events_total",  # events in and out
        "cognify_lineage_events_total",
        "cognify_ingest_poison_total",  # dead letters by reason
        "cognify_ingest_rejects_total",
        "cognify_hasher_bytes_total",  # hash bytes/s and failures
        "cognify_hasher_failures_total",
        "cognify_exporter_seals_total",  # seal refusals
        "cognify_ingest_sdk_spool_bytes",  # spool depth reported by SDK heartbeats
        "cognify_ingest_http_requests_total",  # HTTP by route
        "cognify_ingest_http_request_seconds",  # HTTP latency by route
        "up",
    }
    assert needed <= shown, needed - shown
    ids = [p["id"] for p in json.loads(DASHBOARD.read_text())["panels"]]
    assert len(ids) == len(set(ids))


def test_the_matcher_finds_names_in_every_form() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le) (rate(cognify_hasher_job_seconds_bucket[5m])))"
        ' + sum({__name__=~"cognify_(ingest|lineage)_lag"}) + up{job="x"}'
    )
    assert referenced_metrics(expr) == {
        "cognify_hasher_job_seconds",
        "cognify_ingest_lag",
        "cognify_lineage_lag",
        "up",
    }
