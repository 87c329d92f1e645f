"""The Helm chart under deploy/helm/cognify: it lints, renders with the default and the
production values, every rendered object decodes strictly against k8s.io/api and KEDA's
ScaledObject schema (deploy/helm/check), and what it renders keeps the operating promises
of docs/operations.md (secrets referenced, non-root, probes on the ports the services
really serve, each service reaching only what it uses, autoscaling bounded by partitions).
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cognify_access.records import trusted_networks
from cognify_events.topics import EVENTS, HASH_JOBS, RAW

from .tools import ROOT, go, tool

CHART = ROOT / "deploy/helm/cognify"
CHECK = ROOT / "deploy/helm/check"
PRODUCTION = CHART / "values-production.yaml"
SERVICES = ("ingest", "lineage", "hasher", "exporter")


def _helm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool("helm")), *args], capture_output=True, text=True, check=False, timeout=120
    )


def _render(*values: Path, settings: tuple[str, ...] = ()) -> str:
    args = ["template", "cognify", str(CHART), "--namespace", "cognify"]
    for v in values:
        args += ["--values", str(v)]
    for s in settings:
        args += ["--set", s]
    result = _helm(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _objects(text: str) -> list[dict[str, Any]]:
    return [o for o in yaml.safe_load_all(text) if o]


@pytest.fixture(scope="module", params=["default", "production"])
def rendered(request: pytest.FixtureRequest) -> str:
    return _render(*([PRODUCTION] if request.param == "production" else []))


@pytest.fixture(scope="module")
def production() -> list[dict[str, Any]]:
    return _objects(_render(PRODUCTION))


@pytest.fixture(scope="module")
def default() -> list[dict[str, Any]]:
    return _objects(_render())


@pytest.fixture(scope="session")
def checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    binary = tmp_path_factory.mktemp("check") / "check"
    built = subprocess.run(
        [go(), "build", "-o", str(binary), "."],
        cwd=CHECK,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    assert built.returncode == 0, built.stderr
    return binary


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def _containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, d in _by_kind(objects, "Deployment").items():
        for c in d["spec"]["template"]["spec"]["containers"]:
            yield name, c


def _service_port(service: str) -> int:
    """The port a service listens on by default, read from its own settings module."""
    settings = (ROOT / f"services/{service}/src/cognify_{service}/settings.py").read_text()
    pattern = (
        r'"COGNIFY_HASHER_METRICS_PORT", (\d+)'
        if service == "hasher"
        else rf'"COGNIFY_{service.upper()}_HTTP_PORT", "(\d+)"'
    )
    found = re.search(pattern, settings)
    assert found, f"no default port in {service}'s settings"
    return int(found.group(1))


def test_the_chart_lints_with_both_values_files() -> None:
    for values in ([], ["--values", str(PRODUCTION)]):
        result = _helm("lint", "--strict", str(CHART), *values)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "0 chart(s) failed" in result.stdout


def test_every_rendered_object_decodes_strictly(checker: Path, rendered: str) -> None:
    result = subprocess.run(
        [str(checker), "-"], input=rendered, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    count = int(re.search(r"(\d+) objects decoded strictly", result.stdout).group(1))  # type: ignore[union-attr]
    assert count == len(_objects(rendered))


def test_the_checker_rejects_what_the_api_server_would_not_take() -> None:
    result = subprocess.run(
        [go(), "test", "./..."], cwd=CHECK, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secrets_are_referenced_never_rendered(rendered: str) -> None:
    objects = _objects(rendered)
    assert not [o for o in objects if o["kind"] == "Secret"]
    for name, container in _containers(objects):
        for env in container.get("env", []):
            if re.search(r"PASSWORD|SECRET|_KEY$|DSN", env["name"]) and "value" in env:
                # A DSN assembled from values may be inline only without credentials.
                assert env["name"] == "COGNIFY_PG_DSN" and "@" not in env["value"], (name, env)


def test_each_service_logs_in_to_postgres_as_its_own_role(production: list[dict[str, Any]]) -> None:
    secrets: dict[str, set[str]] = {}
    for name, container in _containers(production):
        for env in container.get("env", []):
            if env["name"] in ("PGUSER", "PGPASSWORD", "COGNIFY_PG_DSN") and "valueFrom" in env:
                secrets.setdefault(name, set()).add(env["valueFrom"]["secretKeyRef"]["name"])
    assert set(secrets) == {"cognify-ingest", "cognify-lineage", "cognify-exporter"}
    assert all(len(s) == 1 for s in secrets.values())
    assert len({next(iter(s)) for s in secrets.values()}) == 3


def test_the_owner_role_migrates_before_the_services_roll(
    production: list[dict[str, Any]],
) -> None:
    [job] = _by_kind(production, "Job").values()
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    assert "apply_migrations" in migrate["command"][-1]
    [owner] = {e["valueFrom"]["secretKeyRef"]["name"] for e in migrate["env"] if "valueFrom" in e}
    service_secrets = {
        e["valueFrom"]["secretKeyRef"]["name"]
        for _, c in _containers(production)
        for e in c.get("env", [])
        if e["name"] in ("PGUSER", "COGNIFY_PG_DSN") and "valueFrom" in e
    }
    assert owner not in service_secrets
    for name, config in _by_kind(production, "ConfigMap").items():
        assert config["data"].get("COGNIFY_MIGRATE", "0") == "0", name


def test_pods_run_as_non_root_with_a_read_only_root(rendered: str) -> None:
    objects = _objects(rendered)
    for name, d in (_by_kind(objects, "Deployment") | _by_kind(objects, "Job")).items():
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert {"mountPath": "/tmp", "name": "tmp"} in c["volumeMounts"], name
            assert c["resources"]["requests"] and c["resources"]["limits"], name


def test_probes_hit_healthz_on_the_port_each_service_serves(rendered: str) -> None:
    objects = _objects(rendered)
    services = _by_kind(objects, "Service")
    for name, c in _containers(objects):
        component = name.removeprefix("cognify-")
        port = _service_port(component) if component in SERVICES else 8083
        [declared] = c["ports"]
        assert declared["containerPort"] == port, name
        for probe in ("readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/healthz", "port": declared["name"]}, name
        assert services[name]["spec"]["ports"][0]["port"] == port


def test_the_hasher_gets_grants_it_accepts_and_no_retired_setting() -> None:
    """The chart speaks the hasher's grant syntax (docs/hasher.md): the mounted claim for
    every workspace by default, explicit per-workspace grants when set, no bucket unless
    granted, and never COGNIFY_HASHER_ALLOWED_ROOTS (a hasher that sees it refuses to start)."""
    from cognify_hasher.tenancy import parse_roots, parse_s3

    def hasher_env(*settings: str) -> dict[str, str]:
        objects = _objects(_render(PRODUCTION, settings=settings))
        data: dict[str, str] = _by_kind(objects, "ConfigMap")["cognify-hasher"]["data"]
        assert "COGNIFY_HASHER_ALLOWED_ROOTS" not in data
        parse_roots(data["COGNIFY_HASHER_ROOTS"])
        parse_s3(data["COGNIFY_HASHER_S3"])
        return data

    default = hasher_env()
    assert (default["COGNIFY_HASHER_ROOTS"], default["COGNIFY_HASHER_S3"]) == ("*=/data", "")
    granted = hasher_env(
        "hasher.grants.roots=ws-a=/data/a;ws-b=/data/b",
        "hasher.grants.s3=ws-a=s3://datasets/a/",
    )
    assert (
        parse_roots(granted["COGNIFY_HASHER_ROOTS"]).keys()
        == parse_roots("ws-a=/data/a;ws-b=/data/b").keys()
    )
    assert granted["COGNIFY_HASHER_S3"] == "ws-a=s3://datasets/a/"
    unmounted = _by_kind(_objects(_render()), "ConfigMap")["cognify-hasher"]["data"]
    assert unmounted["COGNIFY_HASHER_ROOTS"] == ""


def test_the_dashboard_is_a_component_off_by_default(
    default: list[dict[str, Any]], production: list[dict[str, Any]]
) -> None:
    assert "cognify-dashboard" not in _by_kind(default, "Deployment")
    dashboard = _by_kind(production, "Deployment")["cognify-dashboard"]
    assert (
        dashboard["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] == 8083
    )
    assert dashboard["spec"]["replicas"] == 1  # sessions live in one process's memory
    settings = _by_kind(production, "ConfigMap")["cognify-dashboard"]["data"]
    assert settings["COGNIFY_KAFKA_BOOTSTRAP"]


def test_every_deployment_has_a_disruption_budget_and_a_network_policy(rendered: str) -> None:
    objects = _objects(rendered)
    deployments = _by_kind(objects, "Deployment")
    pdbs = _by_kind(objects, "PodDisruptionBudget")
    policies = _by_kind(objects, "NetworkPolicy")
    assert set(pdbs) == set(deployments) == set(policies)
    for name, d in deployments.items():
        labels = d["spec"]["selector"]["matchLabels"]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == labels
        assert policies[name]["spec"]["podSelector"]["matchLabels"] == labels
        assert policies[name]["spec"]["policyTypes"] == ["Ingress", "Egress"]


def _egress_ports(policy: dict[str, Any]) -> set[int]:
    return {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_each_service_may_reach_only_what_it_uses(production: list[dict[str, Any]]) -> None:
    policies = _by_kind(production, "NetworkPolicy")
    dns, kafka, postgres, s3 = 53, 9092, 5432, 443
    assert _egress_ports(policies["cognify-ingest"]) == {dns, kafka, postgres}
    # lineage writes the chain-head anchors to the audit bucket (docs/spec/anchors.md)
    assert _egress_ports(policies["cognify-lineage"]) == {dns, kafka, postgres, s3}
    assert _egress_ports(policies["cognify-hasher"]) == {dns, kafka, s3}
    assert _egress_ports(policies["cognify-exporter"]) == {dns, kafka, postgres, s3}
    # the dashboard's live updates read Kafka (docs/spec/dashboard.md)
    assert _egress_ports(policies["cognify-dashboard"]) == {dns, kafka, 8080, 8081, 8082}
    for rule in policies["cognify-hasher"]["spec"]["egress"]:
        # Production names its peers: no rule of a service is open to any address but S3's.
        assert rule.get("to"), rule
    # The hasher serves no API: only the scrapers may reach it.
    [ingress] = policies["cognify-hasher"]["spec"]["ingress"]
    assert ingress["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "monitoring"
    }


def test_keda_scales_on_lag_up_to_the_partition_count(production: list[dict[str, Any]]) -> None:
    scaled = _by_kind(production, "ScaledObject")
    deployments = _by_kind(production, "Deployment")
    expected = {"cognify-ingest": RAW, "cognify-lineage": EVENTS, "cognify-hasher": HASH_JOBS}
    assert set(scaled) == set(expected)
    for name, topic in expected.items():
        spec = scaled[name]["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert "replicas" not in deployments[name]["spec"], "KEDA owns the replica count"
        assert spec["maxReplicaCount"] <= topic.partitions
        [trigger] = spec["triggers"]
        if name == "cognify-lineage":
            # Lineage stores its offsets in PostgreSQL: its lag comes from its own gauge.
            assert trigger["type"] == "prometheus"
            assert "cognify_lineage_lag" in trigger["metadata"]["query"]
        else:
            component = name.removeprefix("cognify-")
            settings = ROOT / f"services/{component}/src/cognify_{component}/settings.py"
            assert trigger["type"] == "kafka"
            assert trigger["metadata"]["topic"] == topic.name
            assert f'"{trigger["metadata"]["consumerGroup"]}"' in settings.read_text()


def test_more_replicas_than_partitions_is_refused() -> None:
    result = _helm(
        "template",
        "cognify",
        str(CHART),
        "--values",
        str(PRODUCTION),
        "--set",
        "hasher.autoscaling.maxReplicas=13",
    )
    assert result.returncode != 0
    assert "exceeds the 12 partitions of cognify.hash.jobs" in result.stderr


def test_the_services_believe_x_forwarded_for_from_the_dashboards_pods_only() -> None:
    """COGNIFY_TRUSTED_PROXIES of ingest, lineage and the exporter: the dashboard's pod
    addresses when it is deployed (values: dashboard.podCIDRs), nobody otherwise; each
    value is one the services parse (cognify_access.records.trusted_networks)."""
    cidrs = ("10.42.7.0/24", "fd00:42::/64")
    on = _by_kind(
        _objects(
            _render(
                settings=("dashboard.enabled=true", f"dashboard.podCIDRs={{{','.join(cidrs)}}}")
            )
        ),
        "ConfigMap",
    )
    off = _by_kind(_objects(_render()), "ConfigMap")
    for service in ("ingest", "lineage", "exporter"):
        trusted = on[f"cognify-{service}"]["data"]["COGNIFY_TRUSTED_PROXIES"]
        assert trusted_networks(trusted) == tuple(ipaddress.ip_network(c) for c in cidrs)
        assert off[f"cognify-{service}"]["data"]["COGNIFY_TRUSTED_PROXIES"] == ""
        assert trusted_networks("") == ()  # believe no one
    for other in ("hasher", "dashboard"):
        assert "COGNIFY_TRUSTED_PROXIES" not in on[f"cognify-{other}"]["data"]
    # An operator's own setting wins, rendered once.
    mine = _render(
        settings=("dashboard.enabled=true", "lineage.env.COGNIFY_TRUSTED_PROXIES=10.9.9.9/32")
    )
    lineage = _by_kind(_objects(mine), "ConfigMap")["cognify-lineage"]["data"]
    assert lineage["COGNIFY_TRUSTED_PROXIES"] == "10.9.9.9/32"
    assert mine.count("COGNIFY_TRUSTED_PROXIES") == 3
