"""The confinement policy: which workspace's jobs may read which roots and prefixes, parsed
from the two settings and decided from the path alone (the most specific grant wins)."""

from __future__ import annotations

import pytest
from cognify_hasher.tenancy import (
    ConfigError,
    Grants,
    Place,
    Refusal,
    grants,
    local_place,
    parse_roots,
    parse_s3,
    s3_place,
)

ROOTS = (
    "ws-a=/data/a,/data/shared;ws-b=/data/b;*=/data/common,/data/shared/open;ws-a=/data/common/a"
)
S3 = "ws-a=s3://datasets/a/;ws-b=s3://datasets/b;*=s3://public/,s3://datasets/"
POLICY = grants(ROOTS, S3, "cognify-audit")


def _local(workspace: str, path: str) -> None:
    POLICY.check(workspace, local_place(path), path)


def _s3(workspace: str, uri: str) -> None:
    POLICY.check(workspace, s3_place(uri)[0], uri)


def _refusal(check: object, workspace: str, where: str) -> str:
    assert callable(check)
    with pytest.raises(Refusal) as info:
        check(workspace, where)
    return info.value.reason


def test_the_settings_parse_into_places_and_their_owners() -> None:
    roots = parse_roots(ROOTS)
    assert roots[Place(None, "/data/a")] == {"ws-a"}
    assert roots[Place(None, "/data/common")] == {"*"}
    assert roots[Place(None, "/data/common/a")] == {"ws-a"}
    s3 = parse_s3(S3)
    assert s3[Place("datasets", "a/")] == {"ws-a"}
    assert s3[Place("datasets", "b/")] == {"ws-b"}, "a prefix always ends with /"
    assert s3[Place("datasets", "")] == {"*"}, "no prefix: the whole bucket"
    assert parse_roots("ws-a=/x;ws-b=/x/") == {Place(None, "/x"): {"ws-a", "ws-b"}}
    assert parse_roots("") == {} and parse_s3("  ") == {}


@pytest.mark.parametrize(
    ("roots", "s3", "says"),
    [
        ("/data/a", "", "not owner=place"),
        ("ws a=/data/a", "", "not owner=place"),
        ("ws-a=", "", "granted nothing"),
        ("ws-a=data/a", "", "not an absolute path"),
        ("ws-a=/data/../etc", "", "'..' component"),
        ("ws-a=/data//a", "", "empty"),
        ("*=/", "", "whole machine"),
        ("ws-a=/da\x00ta", "", "NUL"),
        ("", "ws-a=datasets/a", "not s3://bucket/prefix/"),
        ("", "ws-a=s3://Bad_Bucket/", "not a bucket name"),
        ("", "ws-a=s3://datasets/a/../b/", "not of the form"),
        ("", "ws-a=s3://datasets//a/", "not of the form"),
    ],
)
def test_a_setting_that_cannot_be_read_stops_the_hasher(roots: str, s3: str, says: str) -> None:
    with pytest.raises(ConfigError, match="COGNIFY_HASHER_") as info:
        grants(roots, s3, None)
    assert says in str(info.value)


def test_a_workspace_reads_its_own_roots_and_the_default_ones() -> None:
    _local("ws-a", "/data/a/run-1/checkpoint-2")
    _local("ws-a", "/data/shared/x.jsonl")
    _local("ws-a", "/data/common/y.parquet")
    _local("ws-b", "/data/common/y.parquet")
    _local("ws-b", "/data/shared/open/z.jsonl")  # granted to everyone below A's root
    _local("ws-a", "/data/a")


def test_the_most_specific_owner_wins() -> None:
    for path in ("/data/a/x", "/data/shared/x", "/data/common/a", "/data/common/a/run/ckpt"):
        reason = _refusal(_local, "ws-b", path)
        assert reason == f"{path} lies in a place granted to another workspace"
    assert "granted to another workspace" in _refusal(_local, "ws-a", "/data/b/x")


def test_a_directory_holding_another_workspaces_root_is_refused() -> None:
    assert "contains a place granted to another workspace" in _refusal(
        _local, "ws-b", "/data/common"
    )
    _local("ws-a", "/data/common")  # A owns every root below it


def test_a_refusal_names_the_jobs_own_places_never_anothers() -> None:
    reason = _refusal(_local, "ws-b", "/etc/passwd")
    assert reason == (
        "/etc/passwd is outside the allowed roots of workspace ws-b "
        "(/data/b, /data/common, /data/shared/open)"
    )
    assert "/data/a" not in reason and "ws-a" not in reason
    assert _refusal(_local, "ws-b", "/data/a/run/secret") == (
        "/data/a/run/secret lies in a place granted to another workspace"
    )


def test_a_sibling_with_a_common_prefix_is_not_inside_a_root() -> None:
    assert "outside the allowed roots" in _refusal(_local, "ws-a", "/data/abc/x")
    assert "outside" in _refusal(_local, "ws-a", "/data/shared-other")


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("data/a/x", "not an absolute path"),
        ("/data/a/../b/x", "'..'"),
        ("/data/a/./x", "'.'"),
        ("/data/a//x", "empty"),
        ("/data/a/x\x00", "NUL"),
    ],
)
def test_a_path_that_is_not_plain_is_refused_before_any_rule(path: str, says: str) -> None:
    with pytest.raises(Refusal) as info:
        local_place(path)
    assert says in info.value.reason


def test_s3_prefixes_follow_the_same_rules() -> None:
    _s3("ws-a", "s3://datasets/a/train.jsonl")
    _s3("ws-b", "s3://datasets/b/ckpt/")
    _s3("ws-b", "s3://datasets/other/x.parquet")  # the bucket is everyone's below a/ and b/
    _s3("ws-b", "s3://public/x")
    assert "granted to another workspace" in _refusal(_s3, "ws-b", "s3://datasets/a/x")
    assert "contains a place granted" in _refusal(_s3, "ws-b", "s3://datasets/a")
    assert "outside the allowed buckets" in _refusal(_s3, "ws-a", "s3://private/x")


def test_the_exporters_packages_are_never_hashable_whatever_the_grants() -> None:
    everything = grants(
        "", "ws-a=s3://cognify-audit/;*=s3://cognify-audit/packages/", "cognify-audit"
    )
    for uri in (
        "s3://cognify-audit/packages/ws-a/run-1/",
        "s3://cognify-audit/packages/ws-a/run-1/run-1-audit.json",
        "s3://cognify-audit/packages",
        "s3://cognify-audit/packages/",
    ):
        with pytest.raises(Refusal, match="audit packages are never hashed"):
            everything.check("ws-a", s3_place(uri)[0], uri)
    everything.check("ws-a", s3_place("s3://cognify-audit/datasets/x")[0], "")


def test_without_an_s3_grant_no_bucket_is_readable() -> None:
    only_local = grants("*=/data", "", "cognify-audit")
    with pytest.raises(Refusal, match="outside the allowed buckets and prefixes"):
        only_local.check("ws-a", s3_place("s3://anything/x")[0], "s3://anything/x")


@pytest.mark.parametrize(
    "uri",
    [
        "s3://datasets/",
        "s3://datasets",
        "s3:///x",
        "s3://datasets/./a/x",
        "s3://datasets//a/x",
        "s3://datasets/a/../b",
        "s3://datasets/a\nb",
        "s3://Datasets/a",
    ],
)
def test_an_s3_uri_of_unusual_form_is_refused(uri: str) -> None:
    with pytest.raises(Refusal, match="is not of the form s3://bucket/key"):
        s3_place(uri)


def test_grants_list_a_workspaces_places_for_its_messages() -> None:
    assert [str(p) for p in Grants().places_of("ws-a")] == []
    assert [str(p) for p in POLICY.places_of("ws-b")] == [
        "/data/b",
        "/data/common",
        "/data/shared/open",
        "s3://datasets/",
        "s3://datasets/b/",
        "s3://public/",
    ]
