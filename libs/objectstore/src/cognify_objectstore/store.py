"""The object store port and its S3 implementation (the `minio` client speaks plain S3)."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.helpers import genheaders
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention


class ObjectStoreError(RuntimeError):
    """The store refused or failed an operation; `code` is the S3 error code when known."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class RetentionRefused(ObjectStoreError):
    """A delete or overwrite that Object Lock forbids: the WORM guarantee doing its job."""


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class StoreSettings:
    endpoint: str = field(default_factory=lambda: _env("COGNIFY_S3_ENDPOINT", "127.0.0.1:9000"))
    access_key: str = field(default_factory=lambda: _env("COGNIFY_S3_ACCESS_KEY", "cognify"))
    secret_key: str = field(
        default_factory=lambda: _env("COGNIFY_S3_SECRET_KEY", "cognify-dev-secret")
    )
    bucket: str = field(default_factory=lambda: _env("COGNIFY_S3_BUCKET", "cognify-audit"))
    secure: bool = field(default_factory=lambda: _env("COGNIFY_S3_SECURE", "0") == "1")
    region: str = field(default_factory=lambda: _env("COGNIFY_S3_REGION", "us-east-1"))


@dataclass(frozen=True)
class StoredObject:
    """One version of an object: its S3 version id (None where the bucket keeps no versions:
    its only version is the "null" one, overwritten in place), its ETag (without the
    quotes) and, when known, its size in bytes."""

    key: str
    version_id: str | None
    etag: str | None
    size: int | None = None


def _version_id(value: str | None) -> str | None:
    return None if not value or value == "null" else value


def _etag(value: str | None) -> str | None:
    bare = (value or "").strip('"')
    return bare or None


@dataclass(frozen=True)
class BucketEncryption:
    """A bucket's default server-side encryption: `algorithm` as S3 names it (`AES256` for
    SSE-S3, `aws:kms` or `aws:kms:dsse` for SSE-KMS) and the KMS key when one is named."""

    algorithm: str
    kms_key_id: str | None = None


class ObjectStream(Iterator[bytes]):
    """An open GET: `version` is the version of the object it reads (from the response's
    headers), and iterating gives its bytes. Reading to the end, `close()` or leaving a
    `with` block releases the connection."""

    def __init__(
        self, version: StoredObject, pieces: Iterator[bytes], release: Callable[[], None]
    ) -> None:
        self.version = version
        self._pieces = pieces
        self._release: Callable[[], None] | None = release

    def __next__(self) -> bytes:
        try:
            return next(self._pieces)
        except StopIteration:
            self.close()
            raise

    def close(self) -> None:
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ObjectStore:
    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.bucket = settings.bucket
        self._client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
        )

    def ensure_bucket(self, default_retention_days: int | None = None) -> bool:
        """Create the bucket with Object Lock enabled (it can only be enabled at creation).
        Returns True when it was created; raises when an existing bucket lacks Object Lock."""
        created = False
        if not self._client.bucket_exists(self.bucket):
            try:
                self._client.make_bucket(self.bucket, object_lock=True)
                created = True
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise ObjectStoreError(str(exc), exc.code) from exc
        if not self.object_lock_enabled():
            raise ObjectStoreError(
                f"bucket {self.bucket!r} exists without Object Lock; WORM storage needs a "
                "bucket created with Object Lock enabled"
            )
        if default_retention_days:
            self._client.set_object_lock_config(
                self.bucket, ObjectLockConfig(COMPLIANCE, default_retention_days, DAYS)
            )
        return created

    def object_lock_enabled(self) -> bool:
        try:
            config = self._client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            if exc.code == "ObjectLockConfigurationNotFoundError":
                return False
            raise ObjectStoreError(str(exc), exc.code) from exc
        return config is not None

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        retain_until: datetime | None = None,
        *,
        overwrite: bool = False,
    ) -> StoredObject:
        """Write an object, locked in COMPLIANCE mode until `retain_until` when given.

        Unless `overwrite`, the write is conditional (`If-None-Match: *`), so the store itself
        refuses to put anything over an existing key; with Object Lock the bucket is
        versioned, and an unconditional put would add a new latest version on top."""
        retention = Retention(COMPLIANCE, retain_until) if retain_until else None
        headers = genheaders(None, None, None, retention, False)
        headers["Content-Type"] = content_type
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(data).digest()).decode()
        if not overwrite:
            headers["If-None-Match"] = "*"
        try:
            # minio-py's public put_object turns unknown headers into user metadata, so the
            # conditional header goes through its plain PutObject call (packages are small).
            result = self._client._put_object(self.bucket, key, data, headers)
        except S3Error as exc:
            if exc.code == "PreconditionFailed":
                raise RetentionRefused(
                    f"object {key!r} already exists; the store refused to overwrite it", exc.code
                ) from exc
            raise ObjectStoreError(str(exc), exc.code) from exc
        return StoredObject(key=key, version_id=result.version_id, etag=result.etag, size=len(data))

    def get(self, key: str, version_id: str | None = None) -> bytes:
        try:
            response = self._client.get_object(self.bucket, key, version_id=version_id)
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def stream(
        self,
        key: str,
        *,
        bucket: str | None = None,
        chunk_size: int = 8 * 1024 * 1024,
        offset: int = 0,
        length: int | None = None,
        version_id: str | None = None,
        if_match: str | None = None,
    ) -> ObjectStream:
        """The object's bytes, `chunk_size` at a time, never the whole object in memory.
        `bucket` reads another bucket than the configured one (the hasher's s3:// sources).
        `offset` and `length` ask for one byte range (a ranged GET: the store sends only
        those bytes; `length` None means to the end). `version_id` reads that version (the
        store answers NoSuchVersion once it is gone); `if_match` reads the current object
        only while its ETag is that one (PreconditionFailed otherwise). The GET is sent
        here; the stream's `version` says which version of the object it reads."""
        if offset < 0 or (length is not None and length < 1):
            raise ValueError(f"no byte range at offset {offset} of length {length}")
        try:
            response = self._client.get_object(
                bucket or self.bucket,
                key,
                offset=offset,
                length=length or 0,
                request_headers={"If-Match": f'"{if_match}"'} if if_match else None,
                version_id=version_id,
            )
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc

        def release() -> None:
            response.close()
            response.release_conn()

        version = StoredObject(
            key,
            _version_id(response.headers.get("x-amz-version-id")),
            _etag(response.headers.get("ETag")),
        )
        return ObjectStream(version, response.stream(chunk_size), release)

    def stat(
        self, key: str, *, bucket: str | None = None, version_id: str | None = None
    ) -> StoredObject | None:
        """The object's current version (or the version `version_id`) with its size, or
        None when there is no such object."""
        try:
            info = self._client.stat_object(bucket or self.bucket, key, version_id=version_id)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return None
            raise ObjectStoreError(str(exc), exc.code) from exc
        return StoredObject(
            key, _version_id(info.version_id), _etag(info.etag), int(info.size or 0)
        )

    def size(self, key: str, *, bucket: str | None = None) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        info = self.stat(key, bucket=bucket)
        return None if info is None else info.size

    def list_sizes(self, prefix: str = "", *, bucket: str | None = None) -> list[tuple[str, int]]:
        """(key, size) of every object under `prefix`, recursively, in key order."""
        try:
            return [
                (o.object_name, int(o.size or 0))
                for o in self._client.list_objects(
                    bucket or self.bucket, prefix=prefix, recursive=True
                )
                if o.object_name is not None and not o.object_name.endswith("/")
            ]
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc

    def exists(self, key: str) -> bool:
        try:
            self._client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise ObjectStoreError(str(exc), exc.code) from exc
        return True

    def retention(self, key: str, version_id: str | None = None) -> tuple[str, datetime] | None:
        try:
            value = self._client.get_object_retention(self.bucket, key, version_id=version_id)
        except S3Error as exc:
            if exc.code == "NoSuchObjectLockConfiguration":
                return None
            raise ObjectStoreError(str(exc), exc.code) from exc
        if value is None or value.retain_until_date is None:
            return None
        return str(value.mode), value.retain_until_date

    def delete_version(self, key: str, version_id: str) -> None:
        """Permanently delete one version: what Object Lock refuses while it is retained."""
        try:
            self._client.remove_object(self.bucket, key, version_id=version_id)
        except S3Error as exc:
            if exc.code in ("AccessDenied", "InvalidRequest") or "worm" in str(exc).lower():
                raise RetentionRefused(
                    f"delete of {key!r} refused by Object Lock: {exc.message}", exc.code
                ) from exc
            raise ObjectStoreError(str(exc), exc.code) from exc

    def transitions(self) -> dict[str, tuple[str, int, str]]:
        """The bucket's lifecycle transition rules: id -> (prefix, days, storage class)."""
        try:
            config = self._client.get_bucket_lifecycle(self.bucket)
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc
        out = {}
        for rule in config.rules if config else []:
            t, prefix = rule.transition, rule.rule_filter.prefix if rule.rule_filter else ""
            if rule.rule_id and t is not None and t.days is not None and t.storage_class:
                out[rule.rule_id] = (prefix or "", t.days, t.storage_class)
        return out

    def set_transition(self, rule_id: str, prefix: str, days: int, storage_class: str) -> None:
        """Put (or replace) the lifecycle rule `rule_id`: objects under `prefix` move to
        `storage_class` `days` after they were written; the bucket's other rules stay. The
        store's refusal is raised with its code (MinIO: `InvalidStorageClass` while no
        remote tier of that name is configured)."""
        from minio.commonconfig import ENABLED, Filter
        from minio.lifecycleconfig import LifecycleConfig, Rule, Transition

        try:
            current = self._client.get_bucket_lifecycle(self.bucket)
            rules = [r for r in (current.rules if current else []) if r.rule_id != rule_id]
            rules.append(
                Rule(
                    ENABLED,
                    rule_filter=Filter(prefix=prefix),
                    rule_id=rule_id,
                    transition=Transition(days=days, storage_class=storage_class),
                )
            )
            self._client.set_bucket_lifecycle(self.bucket, LifecycleConfig(rules))
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc

    def remove_transition(self, rule_id: str) -> bool:
        """Delete the lifecycle rule `rule_id` (the bucket's other rules stay); False when
        there was none."""
        from minio.lifecycleconfig import LifecycleConfig

        try:
            current = self._client.get_bucket_lifecycle(self.bucket)
            rules = list(current.rules) if current else []
            kept = [r for r in rules if r.rule_id != rule_id]
            if len(kept) == len(rules):
                return False
            if kept:
                self._client.set_bucket_lifecycle(self.bucket, LifecycleConfig(kept))
            else:
                self._client.delete_bucket_lifecycle(self.bucket)
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc
        return True

    def default_encryption(self, *, bucket: str | None = None) -> BucketEncryption | None:
        """The bucket's default encryption as the S3 API states it (GetBucketEncryption),
        or None when the bucket has none configured. Any other answer (access denied, a
        store that does not implement it) is raised with its code: "no answer" is not
        "not encrypted"."""
        try:
            config = self._client.get_bucket_encryption(bucket or self.bucket)
        except S3Error as exc:
            if exc.code == "ServerSideEncryptionConfigurationNotFoundError":
                return None
            raise ObjectStoreError(str(exc), exc.code) from exc
        rule = config.rule if config is not None else None
        if rule is None or not rule.sse_algorithm:
            return None
        return BucketEncryption(rule.sse_algorithm, rule.kms_master_key_id)

    def set_default_encryption(self, kms_key_id: str | None = None) -> None:
        """Make the bucket encrypt every new object by default: SSE-S3 (AES256), or SSE-KMS
        with `kms_key_id`. MinIO refuses both while it has no KMS configured."""
        from minio.sseconfig import Rule, SSEConfig

        rule = Rule.new_sse_kms_rule(kms_key_id) if kms_key_id else Rule.new_sse_s3_rule()
        try:
            self._client.set_bucket_encryption(self.bucket, SSEConfig(rule))
        except S3Error as exc:
            raise ObjectStoreError(str(exc), exc.code) from exc

    def list_keys(self, prefix: str = "") -> list[str]:
        return [
            o.object_name
            for o in self._client.list_objects(self.bucket, prefix=prefix, recursive=True)
            if o.object_name is not None
        ]
