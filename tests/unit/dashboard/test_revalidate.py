"""The dashboard's kept answers (revalidate.py): per API key, bounded, strong ETags only."""

from __future__ import annotations

from cognify_dashboard.revalidate import Kept, Revalidation, key_of, strong


def test_keys_never_share_an_entry_and_the_key_is_not_stored_in_clear() -> None:
    a = key_of("cgk_aaaaaaaaaaaa_secret", "lineage", "/v1/runs", b"limit=50")
    b = key_of("cgk_bbbbbbbbbbbb_secret", "lineage", "/v1/runs", b"limit=50")
    assert a != b and "secret" not in a
    assert a != key_of("cgk_aaaaaaaaaaaa_secret", "lineage", "/v1/runs", b"limit=51")
    assert a != key_of("cgk_aaaaaaaaaaaa_secret", "exporter", "/v1/runs", b"limit=50")


def test_entries_are_bounded_by_bytes_least_recently_used_first_out() -> None:
    kept = Revalidation(max_bytes=10, max_entry=6)
    kept.put("a", Kept('"1"', {}, b"aaaa"))
    kept.put("b", Kept('"2"', {}, b"bbbb"))
    assert kept.get("a") is not None  # a is now the most recently used
    kept.put("c", Kept('"3"', {}, b"cccc"))
    assert kept.get("b") is None and kept.get("a") is not None and kept.size == 8
    kept.put("d", Kept('"4"', {}, b"d" * 7))  # over max_entry: not kept
    assert kept.get("d") is None and len(kept) == 2
    kept.put("a", Kept('"5"', {}, b"a"))  # replaced, not added
    assert kept.get("a") == Kept('"5"', {}, b"a") and kept.size == 5
    kept.drop("a")
    assert kept.get("a") is None and kept.size == 4


def test_only_strong_quoted_etags_are_revalidated() -> None:
    assert strong('"runs-abc"')
    assert not strong('W/"runs-abc"') and not strong("runs-abc") and not strong('""')
    assert not strong(None)
