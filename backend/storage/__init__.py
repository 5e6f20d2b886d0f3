"""Photo bytes: content-addressed by SHA-256, verified and durable before the database row commits.

Two stores behind one protocol (`base.PhotoStore`), chosen by PHOTO_STORE: a local folder, the
embedded default (`local.py`), and any S3-compatible object store (`s3.py`), which lets every
worker on every host serve every photo. Both stage an upload in a local temporary file while it is
hashed and counted (validation decodes that file; nothing is held whole in memory), re-hash it at
commit and only then make it durable at `originals/ab/<sha256>`. Renditions for non-specialists
are re-encoded from pixels only (no EXIF, nothing trailing the image) and cached beside them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.settings import Settings
from backend.storage.base import (
    SWEEP_BATCH,
    ChecksumMismatch,
    InUse,
    PartReceived,
    PhotoBody,
    PhotoNotStored,
    PhotoStore,
    StagedUpload,
    StoredPart,
    StoredPhoto,
    SweepReport,
    UploadInterrupted,
    UploadTooLarge,
)
from backend.storage.local import LocalPhotoStore

__all__ = [
    "SWEEP_BATCH",
    "ChecksumMismatch",
    "InUse",
    "LocalPhotoStore",
    "PartReceived",
    "PhotoBody",
    "PhotoNotStored",
    "PhotoStore",
    "StagedUpload",
    "StoredPart",
    "StoredPhoto",
    "SweepReport",
    "UploadInterrupted",
    "UploadTooLarge",
    "open_store",
]


def open_store(settings: Settings) -> PhotoStore:
    """The store PHOTO_STORE names; with S3, uploads are staged in the local photo folder."""
    location = urlsplit(settings.photo_store)
    if location.scheme != "s3":
        return LocalPhotoStore(settings.photo_dir)
    from backend.storage.s3 import S3PhotoStore  # aiobotocore is imported only where it is used

    prefix = location.path.strip("/")
    return S3PhotoStore(
        location.netloc,
        f"{prefix}/" if prefix else "",
        settings.photo_dir / "incoming",
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )
