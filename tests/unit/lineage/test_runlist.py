"""The runs list's cache key and ETags (cognify_lineage.runlist, pure parts)."""

from __future__ import annotations

from cognify_lineage.runlist import Pages, Query, etag, matches, order_by


def test_the_key_and_the_etag_hold_the_workspace_every_parameter_and_the_version() -> None:
    q = Query("ws-a", project="p", tags=(("team", "ml"),), limit=50, offset=100)
    variants = [
        Query("ws-b", project="p", tags=(("team", "ml"),), limit=50, offset=100),
        Query("ws-a", project="q", tags=(("team", "ml"),), limit=50, offset=100),
        Query("ws-a", project="p", tags=(("team", "cv"),), limit=50, offset=100),
        Query("ws-a", project="p", tags=(("team", "ml"),), limit=50, offset=150),
        Query("ws-a", project="p", tags=(("team", "ml"),), limit=50, offset=100, q="x"),
        Query("ws-a", project="p", tags=(("team", "ml"),), limit=50, offset=100, sort="run_id"),
        Query(
            "ws-a", project="p", tags=(("team", "ml"),), limit=50, offset=100, approval="pending"
        ),
    ]
    assert len({v.key for v in variants} | {q.key}) == len(variants) + 1
    tags = {etag(v, "100") for v in variants} | {etag(q, "100"), etag(q, "101"), etag(q, None)}
    assert len(tags) == len(variants) + 3
    assert etag(q, "100") == etag(Query(**q.__dict__), "100")
    assert etag(q, "100").startswith('"runs-') and etag(q, "100").endswith('"')


def test_if_none_match_lists_and_weak_tags() -> None:
    tag = '"runs-abc"'
    assert matches(tag, tag) and matches(f'"x", {tag}', tag) and matches(f"W/{tag}", tag)
    assert matches("*", tag)
    assert not matches(None, tag) and not matches("", tag) and not matches('"runs-abd"', tag)


def test_a_page_is_served_only_under_the_version_it_was_read_at() -> None:
    pages = Pages.create()
    q = Query("ws-a", limit=50)
    pages.put(q, "100", b"page")
    assert pages.get(q, "100") == b"page"
    assert pages.get(q, "101") is None and pages.get(q, None) is None
    assert pages.get(Query("ws-b", limit=50), "100") is None


def test_sorts_are_whitelisted_columns_with_run_id_breaking_ties() -> None:
    assert order_by("-last_event_at") == "last_event_at DESC, run_id DESC"
    assert order_by("started_at") == "started_at ASC NULLS LAST, run_id ASC"
    assert order_by("doc") is None and order_by("run_id;drop") is None
