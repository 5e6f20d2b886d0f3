"""Every query of resumable uploads; callers own the transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from backend.db import write_transaction
from backend.uploads.records import PartRec, UploadRec
from backend.uploads.tables import Upload, UploadPart


def _one(row: dict[str, Any] | None) -> UploadRec | None:
    return None if row is None else msgspec.convert(row, UploadRec)


async def insert(row: dict[str, Any]) -> None:
    await Upload.insert(Upload(**row))


async def owned(upload_id: uuid.UUID, subject: str) -> UploadRec | None:
    """The upload if `subject` created it (anyone else's is simply not found)."""
    rows = await Upload.select().where((Upload.id == upload_id) & (Upload.owner_subject == subject)).first()
    return _one(rows)


async def take_lease(upload_id: uuid.UUID, received: int, lease: str, declared_length: int | None) -> bool:
    """Make `lease` the appending request if the upload holds exactly `received` bytes and is not complete;
    a request holding it before loses it (its commit then fails). Records a newly known length."""
    values: dict[Any, Any] = {Upload.lease: lease}
    if declared_length is not None:
        values[Upload.declared_length] = declared_length
    rows = (
        await Upload.update(values)
        .where((Upload.id == upload_id) & (Upload.received == received) & Upload.complete.eq(False))
        .returning(Upload.id)
    )
    return bool(rows)


async def append(upload_id: uuid.UUID, lease: str, first_byte: int, size: int, name: str) -> bool:
    """Record a kept part, if `lease` still holds the upload at `first_byte` (one short transaction)."""
    async with write_transaction(Upload._meta.db):
        rows = (
            await Upload.update({Upload.received: first_byte + size})
            .where((Upload.id == upload_id) & (Upload.lease == lease) & (Upload.received == first_byte))
            .returning(Upload.id)
        )
        if not rows:
            return False
        await UploadPart.insert(UploadPart(upload=upload_id, first_byte=first_byte, size=size, name=name))
    return True


async def release(upload_id: uuid.UUID, lease: str) -> None:
    """The appending request is done (if it still held the upload)."""
    await Upload.update({Upload.lease: None}).where((Upload.id == upload_id) & (Upload.lease == lease))


async def finished(upload_id: uuid.UUID, photo_id: int) -> list[str]:
    """The bytes became this photo (idempotent: a concurrent finish of the same bytes made the same one);
    its parts are forgotten in the same transaction. Their names (the files are the caller's to remove)."""
    async with write_transaction(Upload._meta.db):
        await Upload.update({Upload.complete: True, Upload.photo: photo_id, Upload.lease: None}).where(
            Upload.id == upload_id
        )
        return await drop_parts(upload_id)


async def parts_of(upload_id: uuid.UUID) -> list[PartRec]:
    rows = (
        await UploadPart.select(UploadPart.first_byte, UploadPart.size, UploadPart.name)
        .where(UploadPart.upload == upload_id)
        .order_by(UploadPart.first_byte)
    )
    return [msgspec.convert(r, PartRec) for r in rows]


async def drop_parts(upload_id: uuid.UUID) -> list[str]:
    """Forget an upload's parts (their files are the caller's to remove); their names."""
    rows = await UploadPart.delete().where(UploadPart.upload == upload_id).returning(UploadPart.name)
    return [r["name"] for r in rows]


async def delete(upload_id: uuid.UUID) -> list[str]:
    """Forget an upload and its parts; the parts' names (their files are the caller's to remove)."""
    async with write_transaction(Upload._meta.db):
        names = await drop_parts(upload_id)
        await Upload.delete().where(Upload.id == upload_id)
    return names


async def delete_expired(now: datetime) -> int:
    """Forget every upload past its expiry (their parts' files go with the part sweep); how many."""
    rows = await Upload.delete().where(Upload.expires_at < now).returning(Upload.id)
    return len(rows)


async def part_names_kept(names: list[str]) -> set[str]:
    """Which of these part names a part row refers to (the part sweep)."""
    if not names:
        return set()
    rows = await UploadPart.select(UploadPart.name).where(UploadPart.name.is_in(names))
    return {r["name"] for r in rows}
