"""S3-generic object storage with Object Lock: the one adapter Cognify uses for MinIO, AWS S3
or Ceph RGW. Only S3 API calls are used (no MinIO admin API), so swapping the server changes
the endpoint and credentials, nothing else."""

from .store import (
    BucketEncryption,
    ObjectStore,
    ObjectStoreError,
    ObjectStream,
    RetentionRefused,
    StoredObject,
    StoreSettings,
)

__all__ = [
    "BucketEncryption",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStream",
    "RetentionRefused",
    "StoreSettings",
    "StoredObject",
]
