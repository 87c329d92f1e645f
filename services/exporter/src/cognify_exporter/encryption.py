"""Encryption at rest as the storage configuration states it (pure).

The HIPAA template's §164.312(a)(2)(iv) does not print what someone typed about encryption
when the store can say it: the exporter asks the S3 API for the default encryption
(GetBucketEncryption) of every bucket that holds the run's audit packages or its
checkpoints (objectstore.PackageStore.encryption), and each answer is cited as
"s3:GetBucketEncryption on bucket X at <time>". The organisation documentation's typed
`encryption_at_rest` statement is used only where the API said nothing (no default
encryption configured, no answer, or checkpoints not on object storage), and the field
says that it is typed. docs/spec/package.md ("Encryption at rest") has the rules.

The reading is taken when the package is rendered, not at the seal (an S3 API cannot be
asked about the past); a package is rendered once per format and template and then kept
under Object Lock, so what it says stays what the bucket said then.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PACKAGES = "audit packages"
CHECKPOINTS = "checkpoints and model"
NAMES = {"AES256": "SSE-S3 (AES256)", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


@dataclass(frozen=True)
class Reading:
    """One bucket's answer to GetBucketEncryption: `algorithm` (and `kms_key_id`) as S3
    names them, None when the bucket has no default encryption; `error` the store's refusal
    when it gave no answer (then `algorithm` is None too)."""

    bucket: str
    holds: str  # what of this run it holds: PACKAGES, CHECKPOINTS or both
    asked_at: str  # ISO 8601, UTC
    algorithm: str | None = None
    kms_key_id: str | None = None
    error: str | None = None

    @property
    def source(self) -> str:
        return f"s3:GetBucketEncryption on bucket {self.bucket} at {self.asked_at}"

    def stated(self) -> str:
        if self.algorithm is None:
            if self.error:
                return f"no answer from the S3 API ({self.error})"
            return "the S3 API states no default encryption for this bucket"
        name = NAMES.get(self.algorithm, self.algorithm)
        key = f", KMS key {self.kms_key_id}" if self.kms_key_id else ""
        return (
            f"{name} default encryption ({self.algorithm}{key}): every object written to "
            f"the bucket is encrypted at rest unless a request names other encryption"
        )

    def json(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "holds": self.holds,
            "asked_at": self.asked_at,
            "algorithm": self.algorithm,
            "kms_key_id": self.kms_key_id,
            "error": self.error,
            "source": self.source,
        }


def bucket_of(path: str | None) -> str | None:
    """The bucket of an `s3://bucket/key` path; None for a local path."""
    if not path or not path.startswith("s3://"):
        return None
    bucket = path[len("s3://") :].split("/", 1)[0]
    return bucket or None


def buckets(
    package_bucket: str, checkpoints: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, str], list[str]]:
    """The buckets to ask, each with what it holds, and the local (non-S3) checkpoint paths,
    whose encryption no S3 API can state."""
    holds: dict[str, set[str]] = {package_bucket: {PACKAGES}}
    local = []
    for c in checkpoints:
        path = c.get("path")
        bucket = bucket_of(path)
        if bucket is None:
            if path:
                local.append(str(path))
        else:
            holds.setdefault(bucket, set()).add(CHECKPOINTS)
    order = (PACKAGES, CHECKPOINTS)
    named = {b: ", ".join(h for h in order if h in what) for b, what in sorted(holds.items())}
    return named, sorted(set(local))
