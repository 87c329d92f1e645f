"""What an HTTP request may carry in its path and query, checked before anything reads a
store (pure: no I/O). docs/spec/http-api.md says why each bound is what it is.

- The request target must be UTF-8 once percent-decoded: the server would otherwise put
  U+FFFD in place of each bad byte and answer for a value nobody sent.
- A query parameter a route does not declare is refused, and so is a second copy of one
  that takes a single value: a misspelt filter (`?stauts=failed`) or a repeated one
  (`?limit=1&limit=5000`) never silently widens or changes what is read.
- Identifiers in paths follow the event contract's `Ident` pattern (so nothing any event
  can name is unreachable, and nothing else reaches a query); free text has a length bound
  and no U+0000, which PostgreSQL text cannot hold.
- Pages are bounded: offsets up to 2^53 - 1 (what JSON readers hold exactly, inside
  PostgreSQL's BIGINT).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated
from urllib.parse import unquote_to_bytes

from cognify_events.base import IDENT_PATTERN
from fastapi import Path, Query
from pydantic import AfterValidator, StringConstraints

MAX_OFFSET = 2**53 - 1
MAX_TEXT = 256  # a free-text filter (a project, a metric name): the event contract's ShortText
MAX_TAG_KEY = 64  # the event contract's run tags: keys up to 64 characters,
MAX_TAG_VALUE = 256  # values up to 256, at most 64 tags on a run
MAX_TAGS = 64

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why a string cannot be a value to look for, or None."""
    if "\x00" in text:
        return "contains U+0000 (NUL), which no stored text holds"
    if _FORBIDDEN.search(text):
        return "contains a lone surrogate (not a Unicode character)"
    return None


def _plain(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise ValueError(problem)
    return text


PlainText = Annotated[str, AfterValidator(_plain)]


def ident_path(what: str) -> object:
    """The `Path()` of an identifier segment (a run, workspace, dataset id)."""
    return Path(
        description=f"the {what}: 1 to 128 of A-Z a-z 0-9 . _ : @ -, starting with a letter "
        "or digit (the event contract's identifier)",
        pattern=IDENT_PATTERN,
        min_length=1,
        max_length=128,
    )


RunId = Annotated[str, ident_path("run id")]
WorkspaceId = Annotated[str, ident_path("workspace id")]
DatasetId = Annotated[str, ident_path("dataset id")]

Offset = Annotated[
    int, Query(ge=0, le=MAX_OFFSET, description="how many items to skip (0 to 2^53 - 1)")
]


def target_problem(raw_path: bytes, query_string: bytes) -> str | None:
    """Why a request target cannot be read as UTF-8 once percent-decoded, or None."""
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return "the path is not UTF-8 once percent-decoded"
    for part in query_string.split(b"&"):
        try:
            unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            name = part.split(b"=", 1)[0][:64].decode("ascii", "replace")
            return f"query parameter {name!r} is not UTF-8 once percent-decoded"
    return None


def query_problem(names: Iterable[str], declared: Mapping[str, bool]) -> str | None:
    """Why the query's parameter names do not fit a route, or None. `declared` maps each
    parameter the route takes to whether it may be repeated."""
    seen: set[str] = set()
    for name in names:
        if name not in declared:
            shown = name[:64]
            known = ", ".join(sorted(declared)) or "none"
            return f"unknown query parameter {shown!r} (this route takes: {known})"
        if name in seen and not declared[name]:
            return f"query parameter {name!r} is given more than once"
        seen.add(name)
    return None


# One `tag=key:value` filter: what a run's tags can hold (the key ends at the first colon).
TagText = Annotated[
    str,
    StringConstraints(pattern=rf"^[^:\x00]{{0,{MAX_TAG_KEY}}}:[^\x00]{{0,{MAX_TAG_VALUE}}}$"),
]


def tag_filter(values: Iterable[str]) -> dict[str, str] | str:
    """Repeated `tag=key:value` filters as one mapping, or why they cannot be."""
    tags: dict[str, str] = {}
    for text in values:
        key, colon, value = text.partition(":")
        if not colon:
            return f"tag {text[:64]!r} is not key:value"
        if len(key) > MAX_TAG_KEY or len(value) > MAX_TAG_VALUE:
            return (
                f"tag {key[:64]!r}: keys hold at most {MAX_TAG_KEY} characters and values "
                f"{MAX_TAG_VALUE}"
            )
        problem = text_problem(text)
        if problem is not None:
            return f"tag {key[:64]!r} {problem}"
        if key in tags and tags[key] != value:
            return f"tag {key[:64]!r} is given twice with different values"
        tags[key] = value
    if len(tags) > MAX_TAGS:
        return f"at most {MAX_TAGS} tags (a run has no more)"
    return tags
