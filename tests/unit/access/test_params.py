"""What a request may carry in its path and query (pure: bytes and strings in, reasons out)."""

from __future__ import annotations

import re

from cognify_access.params import (
    MAX_TAG_KEY,
    MAX_TAG_VALUE,
    MAX_TAGS,
    query_problem,
    tag_filter,
    target_problem,
    text_problem,
)
from cognify_events.base import IDENT_PATTERN


def test_a_target_that_is_utf8_once_decoded_passes() -> None:
    assert target_problem(b"/v1/runs/run-1", b"") is None
    assert target_problem(b"/v1/runs/r%C3%A9sum%C3%A9", b"tag=team%3Aml&tag=caf%C3%A9+x") is None


def test_bad_utf8_in_a_path_segment_is_named() -> None:
    assert target_problem(b"/v1/runs/%FF%FE", b"") == "the path is not UTF-8 once percent-decoded"
    # A UTF-8 encoded surrogate (CESU-8) is not UTF-8 either.
    assert target_problem(b"/v1/runs/%ED%A0%80", b"") is not None


def test_bad_utf8_in_a_query_value_names_the_parameter() -> None:
    problem = target_problem(b"/v1/runs", b"limit=5&tag=%FFx")
    assert problem == "query parameter 'tag' is not UTF-8 once percent-decoded"


def test_unknown_and_repeated_query_parameters_are_refused() -> None:
    declared = {"limit": False, "offset": False, "tag": True}
    assert query_problem(["limit", "tag", "tag", "offset"], declared) is None
    unknown = query_problem(["limit", "stauts"], declared)
    assert unknown == "unknown query parameter 'stauts' (this route takes: limit, offset, tag)"
    assert query_problem(["limit", "limit"], declared) == (
        "query parameter 'limit' is given more than once"
    )
    assert query_problem(["x"], {}) == "unknown query parameter 'x' (this route takes: none)"


def test_text_holding_nul_or_a_lone_surrogate_is_refused() -> None:
    assert text_problem("loss") is None
    assert text_problem("a\x00b") == "contains U+0000 (NUL), which no stored text holds"
    assert text_problem("a\ud800") == "contains a lone surrogate (not a Unicode character)"


def test_tags_become_one_filter() -> None:
    assert tag_filter([]) == {}
    assert tag_filter(["team:ml", "env:prod", "team:ml"]) == {"team": "ml", "env": "prod"}
    assert tag_filter(["note:a:b"]) == {"note": "a:b"}  # the key ends at the first colon
    assert tag_filter(["empty:"]) == {"empty": ""}


def test_tags_that_no_run_can_have_are_refused_with_the_reason() -> None:
    assert tag_filter(["nocolon"]) == "tag 'nocolon' is not key:value"
    assert tag_filter(["a:\x00"]) == "tag 'a' contains U+0000 (NUL), which no stored text holds"
    assert tag_filter(["a:1", "a:2"]) == "tag 'a' is given twice with different values"
    assert tag_filter(["k" * MAX_TAG_KEY + ":v"]) == {"k" * MAX_TAG_KEY: "v"}
    assert isinstance(tag_filter(["k" * (MAX_TAG_KEY + 1) + ":v"]), str)
    assert isinstance(tag_filter(["k:" + "v" * (MAX_TAG_VALUE + 1)]), str)
    many = [f"k{i}:v" for i in range(MAX_TAGS + 1)]
    assert tag_filter(many) == f"at most {MAX_TAGS} tags (a run has no more)"
    assert isinstance(tag_filter(many[:MAX_TAGS]), dict)


def test_path_ids_follow_the_event_contract() -> None:
    ident = re.compile(IDENT_PATTERN)
    assert ident.match("run-2026.01:a@b_c") and ident.match("x" * 128)
    for bad in ("", "-run", "a/b", "a\x00", "x" * 129, "é"):
        assert not ident.match(bad), bad
