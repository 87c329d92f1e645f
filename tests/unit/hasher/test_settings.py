"""The hasher reads its grants once at start: a setting it cannot read, or one of the
replaced settings that granted everything, stops it with a message (never a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cognify_hasher.settings import HasherSettings, replaced_settings
from cognify_hasher.tenancy import ConfigError, Place


def test_the_grants_come_from_the_two_settings_with_the_audit_bucket_sealed() -> None:
    settings = HasherSettings(roots="ws-a=/data/a;*=/data/common", s3="ws-a=s3://datasets/a")
    grants = settings.grants()
    assert grants.owners[Place(None, "/data/a")] == {"ws-a"}
    assert grants.owners[Place("datasets", "a/")] == {"ws-a"}
    assert grants.sealed == (Place(settings.store.bucket, "packages/"),)


def test_nothing_is_granted_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COGNIFY_HASHER_ROOTS", raising=False)
    monkeypatch.delenv("COGNIFY_HASHER_S3", raising=False)
    assert HasherSettings().grants().owners == {}


def test_a_setting_that_cannot_be_read_fails_at_construction() -> None:
    with pytest.raises(ConfigError, match="COGNIFY_HASHER_S3"):
        HasherSettings(s3="*=https://bucket/")


def test_the_replaced_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGNIFY_HASHER_ALLOWED_BUCKETS", "*")
    monkeypatch.setenv("COGNIFY_HASHER_ALLOWED_ROOTS", "")  # granted nothing: harmless
    [problem] = replaced_settings()
    assert problem.startswith("COGNIFY_HASHER_ALLOWED_BUCKETS is no longer read: set ")


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"COGNIFY_HASHER_ALLOWED_ROOTS": "/tmp"}, "COGNIFY_HASHER_ALLOWED_ROOTS is no longer"),
        ({"COGNIFY_HASHER_ROOTS": "ws-a=relative/path"}, "not an absolute path"),
    ],
)
def test_the_worker_stops_with_a_message_before_it_connects(env: dict[str, str], says: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("COGNIFY_HASHER_")}
    done = subprocess.run(
        [sys.executable, "-m", "cognify_hasher"],
        env={**clean, **env, "COGNIFY_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert says in done.stderr and "Traceback" not in done.stderr
