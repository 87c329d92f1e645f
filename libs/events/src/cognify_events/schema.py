"""JSON Schema for every event type, generated into docs/events/.

Run `python -m cognify_events.schema docs/events` after changing an event; a unit test fails
while the checked-in files are stale. Every integer gets the bounds the strict codec applies
(bounds.MAX_SAFE_INTEGER) unless its field has narrower ones, and the members the strict codec
requires on the wire (codec.WIRE_REQUIRED) are listed as required.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .bounds import MAX_SAFE_INTEGER, MIN_SAFE_INTEGER
from .catalog import BY_TYPE, CURRENT_VERSIONS
from .codec import WIRE_REQUIRED


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, one per event type plus an index."""
    out: dict[str, dict[str, Any]] = {}
    for name, cls in sorted(BY_TYPE.items()):
        schema = with_integer_bounds(cls.model_json_schema(mode="validation"))
        required = schema.get("required", [])
        schema["required"] = [*required, *(m for m in WIRE_REQUIRED if m not in required)]
        schema["$id"] = f"urn:cognify:event:{name}:v{CURRENT_VERSIONS[name]}"
        out[f"{name}.json"] = schema
    out["index.json"] = {
        "title": "Cognify event types",
        "events": {
            name: {"schema_version": v, "schema": f"{name}.json"}
            for name, v in sorted(CURRENT_VERSIONS.items())
        },
    }
    return out


def with_integer_bounds(schema: Any) -> Any:
    """The schema with `minimum` and `maximum` on every integer (bounds.py)."""
    if isinstance(schema, list):
        return [with_integer_bounds(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: with_integer_bounds(v) for k, v in schema.items()}
    if out.get("type") == "integer" and "const" not in out:
        out["minimum"] = max(out.get("minimum", MIN_SAFE_INTEGER), MIN_SAFE_INTEGER)
        out["maximum"] = min(out.get("maximum", MAX_SAFE_INTEGER), MAX_SAFE_INTEGER)
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, schema in schemas().items():
        path = directory / filename
        path.write_text(render(schema))
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/events")
    for path in write(target):
        print(path)
