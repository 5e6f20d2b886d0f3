"""What the run's photo store holds, whichever it is (the folder, or a bucket with TEST_PHOTO_STORE=s3):
for the tests that check a refused upload leaves nothing behind."""

from __future__ import annotations

from backend.settings import get_settings
from backend.storage import LocalPhotoStore, PhotoNotStored, PhotoStore, open_store

_store: PhotoStore | None = None


def run_store() -> PhotoStore:
    """One store on the run's settings, made in the session's event loop on first use."""
    global _store
    if _store is None:
        _store = open_store(get_settings())
    return _store


async def stored_originals() -> list[str]:
    """The SHA-256 of every committed original, sorted."""
    return sorted([p.sha256 async for p in run_store().originals()])


async def has_rendition(sha256: str) -> bool:
    """Whether the store holds a rendition of these bytes (looked at behind the store's back)."""
    store = run_store()
    if isinstance(store, LocalPhotoStore):
        return (store.root / "renditions" / f"{sha256}.jpg").exists()
    try:
        body = await store._get(store._rendition_key(sha256))  # type: ignore[attr-defined]
    except PhotoNotStored:
        return False
    async for _ in body.chunks:  # read to the end: the connection goes back to the pool
        pass
    return True


async def close_run_store() -> None:
    """Release the store's connections (S3) at the end of the run."""
    global _store
    if _store is not None:
        await _store.aclose()
        _store = None
