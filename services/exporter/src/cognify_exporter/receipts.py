"""What the exporter's HTTP API answers when it seals, exports or shows a key, as models for
its OpenAPI (pure). They document what `http.py` returns and do not filter it (members
they do not name are allowed); schemathesis checks every answer against them
(tests/integration/test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

from cognify_events import ExportFormat, ExportTemplate
from pydantic import BaseModel, ConfigDict, Field
from pydantic import JsonValue as Json

from .package import CONTENT_TYPES


class Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class Exported(Answer):
    """A stored package: where it is, its hash, and until when WORM storage keeps it."""

    run_id: str
    workspace_id: str
    format: ExportFormat
    template: ExportTemplate
    bucket: str
    object_key: str
    envelope_key: str
    package_hash: str
    size: int
    retain_until: str


class Sealed(Answer):
    run_id: str
    status: str = Field(description="AUDIT_SEALED")
    seal: dict[str, Json] = Field(description="the seal as lineage folded it")
    exports: list[Exported]


class SealKey(Answer):
    workspace_id: str
    key_id: str
    algorithm: str
    public_key_pem: str
    public_key_b64: str
    keys: list[dict[str, Json]] = Field(
        default=[], description="every seal key of the workspace, current and retired"
    )


class DocValue(Answer):
    text: str
    version: int = Field(description="the document version that set it (0: the legacy row)")
    set_by: str
    set_at: str | None
    event_id: str | None


class Documentation(Answer):
    """The organisation's documentation of a workspace (orgdocs.fold): fields by name
    (intended_use, known_limitations, deployment_restrictions, incident_policy_url, ...)."""

    workspace_id: str
    version: int = Field(description="how many changes were folded (0: none yet)")
    event_id: str | None
    updated_by: str | None
    updated_at: str | None
    fields: dict[str, DocValue]


def package_content() -> dict[str, Any]:
    """The 200 of a package download: one media type per format, the bytes as stored."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    content = {media: binary for media in sorted(set(CONTENT_TYPES.values()))}
    content["application/json"] = {"schema": {"type": "object"}}  # a JSON package
    return {
        "description": "the package, byte for byte as stored (X-Cognify-Package-Hash)",
        "content": content,
    }
