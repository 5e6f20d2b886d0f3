"""Resumable uploads: create, append, offset, cancel, and finish through the path of a single PUT.

The offset only grows, by a compare-and-set that names the request's lease: a newer request for the
same upload takes the lease over (the draft's recommendation: the client has given the older one
up), so an older request still finishing can no longer commit. The bytes a request brought are kept
even when its connection drops, and its offset acknowledged only once they are durable.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from backend.errors import BadRequest, Conflict, DomainError, NotFound, TooLarge, photo_limit_mb
from backend.installs.context import InstallContext
from backend.installs.evidence import admit_photo, upload_photo
from backend.installs.records import PhotoRec
from backend.principal import Principal
from backend.storage import PhotoStore, UploadInterrupted, UploadTooLarge
from backend.uploads import repository as repo
from backend.uploads.records import PartRec, UploadRec
from backend.validation.results import CheckResult

# An offset query waits this long for a request still appending to keep what it received (a dropped
# connection is noticed within moments), then takes over from it: a half-open one may never end.
SETTLE_S = 2.0
SETTLE_POLL_S = 0.05

log = logging.getLogger("selfinstall")


class OffsetMismatch(Conflict):
    """409 with the offset the upload is really at (the draft's mismatching-upload-offset members)."""

    def __init__(self, expected: int, provided: int) -> None:
        extra = {"expected-offset": expected, "provided-offset": provided}
        super().__init__("upload/offset-mismatch", extra=extra, expected=expected, provided=provided)
        self.headers = {"Upload-Offset": str(expected)}  # type: ignore[misc]  # this occurrence's


class UploadTooBig(TooLarge):
    """413 naming the limit (the draft: a 413 caused by an upload limit carries Upload-Limit)."""

    def __init__(self, limit: int) -> None:
        super().__init__("photo/too-large", limit_mb=photo_limit_mb(limit))
        self.headers = {"Upload-Limit": f"max-size={limit}"}  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class Finished:
    """What the upload path of a single PUT answered for the upload's bytes."""

    photo: PhotoRec
    results: list[CheckResult]
    created: bool


@dataclass(frozen=True, slots=True)
class Appended:
    upload: UploadRec
    finished: Finished | None  # this request completed the upload


async def get(who: Principal, upload_id: uuid.UUID) -> UploadRec:
    """The caller's upload, or 404 (another person's upload is simply not found)."""
    upload = await repo.owned(upload_id, who.subject)
    if upload is None:
        raise NotFound("upload/not-found")
    return upload


async def create(
    ctx: InstallContext,
    who: Principal,
    protocol: str,
    install_id: uuid.UUID,
    slot: str,
    content_type: str,
    declared_length: int | None,
) -> UploadRec:
    """An upload resource for one slot's photo, refused up front for what a PUT refuses before its body."""
    await admit_photo(ctx, who, install_id, slot, content_type, declared_length)
    now = ctx.clock()
    upload = UploadRec(
        id=uuid.uuid4(),
        owner_subject=who.subject,
        install=install_id,
        slot=slot,
        content_type=content_type,
        protocol=protocol,
        declared_length=declared_length,
        received=0,
        lease=None,
        complete=False,
        photo=None,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.upload_expiry_s),
    )
    await repo.insert({f: getattr(upload, f) for f in upload.__struct_fields__})
    return upload


async def append(
    ctx: InstallContext,
    who: Principal,
    upload_id: uuid.UUID,
    offset: int,
    chunks: AsyncIterable[bytes],
    *,
    content_length: int | None,
    declared_length: int | None,
    complete: bool,
) -> Appended:
    """Append the body at `offset`; with `complete` (or, for tus, once the declared length is reached)
    the photo goes through the upload path of a single PUT."""
    upload = await get(who, upload_id)
    if upload.complete:
        raise BadRequest("upload/completed")
    implied = offset + content_length if complete and content_length is not None else None
    length = _length(upload, declared_length, implied)
    limit = ctx.settings.max_photo_bytes
    if length is not None and length > limit:
        raise UploadTooBig(limit)
    end = limit if length is None else length
    if content_length is not None and offset + content_length > end:
        raise _beyond(limit, length)
    lease = secrets.token_hex(16)
    if not await repo.take_lease(upload.id, offset, lease, length):
        raise await _mismatch(who, upload.id, offset)
    received = await _keep(ctx, upload.id, lease, offset, chunks, end, length)
    if received is None:
        raise await _mismatch(who, upload.id, offset)
    if complete and length is not None and received != length:
        await repo.release(upload.id, lease)
        raise BadRequest("upload/inconsistent-length", length=length)
    if not complete and not (upload.protocol == "tus" and received == length):
        await repo.release(upload.id, lease)
        return Appended(await get(who, upload.id), None)
    finished = await _finish(ctx, who, upload, received, lease)
    return Appended(await get(who, upload.id), finished)


async def settled(ctx: InstallContext, who: Principal, upload_id: uuid.UUID) -> UploadRec:
    """The upload as an offset query must report it: what every earlier request kept (a client may
    append from there at once). A tus upload whose bytes all arrived but whose photo was not made (the
    server stopped in between) is finished here: a tus client asks nothing more of a full upload."""
    upload = await get(who, upload_id)
    deadline = asyncio.get_running_loop().time() + SETTLE_S
    while upload.lease is not None and not upload.complete and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(SETTLE_POLL_S)
        upload = await get(who, upload_id)
    if upload.lease is not None and not upload.complete:
        await repo.release(upload.id, upload.lease)  # its request is gone without the server noticing
        upload = await get(who, upload_id)
    if upload.protocol == "tus" and not upload.complete and upload.received == upload.declared_length:
        lease = secrets.token_hex(16)
        if await repo.take_lease(upload.id, upload.received, lease, None):
            await _finish(ctx, who, upload, upload.received, lease)
        upload = await get(who, upload_id)
    return upload


async def cancel(ctx: InstallContext, who: Principal, upload_id: uuid.UUID) -> None:
    """Forget the upload and its bytes (a request still appending to it can no longer commit)."""
    upload = await get(who, upload_id)
    await _forget(ctx, upload.id)


def _length(upload: UploadRec, *indicated: int | None) -> int | None:
    """The upload's length, if anything said it; every indication must agree (else 400)."""
    known = [n for n in (upload.declared_length, *indicated) if n is not None]
    if len(set(known)) > 1:
        raise BadRequest("upload/inconsistent-length", length=known[0])
    return known[0] if known else None


def _beyond(limit: int, length: int | None) -> DomainError:
    """Past the end: of the size limit (413), or of the length the client declared (400)."""
    return UploadTooBig(limit) if length is None else BadRequest("upload/inconsistent-length", length=length)


async def _mismatch(who: Principal, upload_id: uuid.UUID, provided: int) -> DomainError:
    upload = await get(who, upload_id)
    return BadRequest("upload/completed") if upload.complete else OffsetMismatch(upload.received, provided)


async def _keep(
    ctx: InstallContext,
    upload_id: uuid.UUID,
    lease: str,
    offset: int,
    chunks: AsyncIterable[bytes],
    end: int,
    length: int | None,
) -> int | None:
    """Store what the body brings as a part and commit it under the lease; the new offset, or None when
    a newer request took the upload over meanwhile. A body that ended early (the client left, it
    stalled) is kept too, then its failure raised."""
    name = f"{upload_id}/{offset:012d}.{lease}"
    try:
        got = await ctx.store.receive_part(name, chunks, end - offset)
    except Exception as failed:  # nothing kept (past the end, or the store is away): let the upload go
        await repo.release(upload_id, lease)
        if isinstance(failed, UploadTooLarge):
            raise _beyond(ctx.settings.max_photo_bytes, length) from None
        raise
    committed = got.size == 0 or await repo.append(upload_id, lease, offset, got.size, name)
    if not committed:  # a newer request took the upload over meanwhile: these bytes are not its
        await _remove(ctx.store, name)
    if got.failure is not None:
        await repo.release(upload_id, lease)
        if isinstance(got.failure, UploadInterrupted):  # the client went away; its bytes are kept
            raise BadRequest("photo/incomplete-upload") from None
        raise got.failure
    return offset + got.size if committed else None


async def _finish(ctx: InstallContext, who: Principal, upload: UploadRec, size: int, lease: str) -> Finished:
    """The stored bytes, in order, through the upload path of a single PUT; a refusal ends the upload
    (resuming cannot change it), a bad day keeps it for another try."""
    parts = await repo.parts_of(upload.id)
    chunks = _stored(ctx.store, parts)
    try:
        photo, results, created = await upload_photo(
            ctx, who, upload.install, upload.slot, upload.content_type, size, chunks
        )
    except DomainError as refused:
        if refused.status >= 500:
            await repo.release(upload.id, lease)
            raise
        await _forget(ctx, upload.id)
        # The draft: the answer of processing the whole upload says so, refusals included.
        refused.headers = {**refused.headers, "Upload-Complete": "?1"}  # type: ignore[misc]
        raise
    except Exception:
        await repo.release(upload.id, lease)
        raise
    for name in await repo.finished(upload.id, photo.id):  # a crash before these go leaves them to the sweep
        await _remove(ctx.store, name)
    return Finished(photo, results, created)


async def _stored(store: PhotoStore, parts: list[PartRec]) -> AsyncIterator[bytes]:
    for part in parts:
        body = await store.part(part.name)
        async for chunk in body.chunks:
            yield chunk


async def _forget(ctx: InstallContext, upload_id: uuid.UUID) -> None:
    for name in await repo.delete(upload_id):
        await _remove(ctx.store, name)


async def _remove(store: PhotoStore, name: str) -> None:
    try:
        await store.remove_part(name)
    except Exception:  # the store is away: the part sweep removes a part no row refers to later
        log.warning("upload part %s kept for the part sweep", name, exc_info=True)
