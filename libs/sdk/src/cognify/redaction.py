"""Secrets never leave the training node: tokens, passwords and keys are redacted by name."""

from __future__ import annotations

import math
import re
from typing import Any

REDACTED = "<redacted>"
_SECRET_NAME = re.compile(
    r"(token|passw|secret|api[_-]?key|apikey|private[_-]?key|credential|auth|access[_-]?key"
    r"|session[_-]?key|signing[_-]?key|^key$|_key$)",
    re.IGNORECASE,
)
# Names that match the pattern but carry no secret.
_ALLOWED = {
    "max_tokens",
    "pad_token_id",
    "eos_token_id",
    "bos_token_id",
    "hub_private_repo",
    "hub_always_push",
    "include_num_input_tokens_seen",
    "average_tokens_across_devices",
    "hub_model_id",
    "hub_strategy",
    "include_tokens_per_second",
}


def is_secret_name(name: str) -> bool:
    return name not in _ALLOWED and bool(_SECRET_NAME.search(name))


def jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy: enums and paths as strings, non-finite floats as strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth > 8:
        return repr(value)[:256]
    if isinstance(value, dict):
        return {str(k): jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v, depth + 1) for v in value]
    return str(value)[:1024]


def redact(config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Replace the values of secret-looking keys (at any depth) by `<redacted>`.

    Returns the redacted copy and the dotted paths of the keys that were redacted."""
    redacted: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                where = f"{path}.{key}" if path else str(key)
                if is_secret_name(str(key)) and value not in (None, "", False):
                    out[str(key)] = REDACTED
                    redacted.append(where)
                else:
                    out[str(key)] = walk(value, where)
            return out
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        return node

    return walk(jsonable(config), ""), redacted
