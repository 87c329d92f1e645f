"""The textual form of a hash in Cognify: "sha256:" followed by 64 lowercase hex digits."""

from __future__ import annotations

import re

__all__ = ["DIGEST_PREFIX", "format_digest", "parse_digest", "parse_hex_hash"]

DIGEST_PREFIX = "sha256:"
_HEX64 = re.compile(r"[0-9a-f]{64}")


def format_digest(raw: bytes) -> str:
    """Write a 32-byte SHA-256 value as "sha256:<hex>"."""
    if len(raw) != 32:
        raise ValueError(f"a SHA-256 digest is 32 bytes, got {len(raw)}")
    return DIGEST_PREFIX + raw.hex()


def parse_digest(text: str) -> bytes:
    """The 32 bytes named by "sha256:<64 lowercase hex>"; anything else is a ValueError."""
    if not text.startswith(DIGEST_PREFIX):
        raise ValueError(f"expected a 'sha256:' digest, got {text!r}")
    return parse_hex_hash(text[len(DIGEST_PREFIX) :])


def parse_hex_hash(text: object) -> bytes:
    """The 32 bytes named by exactly 64 lowercase hex digits (no prefix, no whitespace)."""
    if not isinstance(text, str) or not _HEX64.fullmatch(text):
        raise ValueError(f"expected 64 lowercase hex digits, got {text!r}")
    return bytes.fromhex(text)
