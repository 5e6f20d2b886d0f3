"""Every query of the idempotency keys: one statement each, no transaction (each is a compare-and-set)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from backend.idempotency.tables import IdempotencyKey

K = IdempotencyKey


class KeyRec(msgspec.Struct, frozen=True, kw_only=True):
    fingerprint: str
    lease_until: datetime
    status: int | None
    headers: list[tuple[str, str]]
    body: bytes
    expires_at: datetime


async def find(key_hash: str) -> KeyRec | None:
    rows = (
        await K.select(K.fingerprint, K.lease_until, K.status, K.headers, K.body, K.expires_at)
        .where(K.key_hash == key_hash)
        .output(load_json=True)
    )
    return msgspec.convert(rows[0], KeyRec, strict=False) if rows else None


async def claim(
    key_hash: str, fingerprint: str, token: str, now: datetime, lease_until: datetime, expires_at: datetime
) -> bool:
    """Hold the key for one execution: a new row, or one whose lease ran out or that expired. False if
    another request holds it or it has an answer (on PostgreSQL a concurrent insert of the same key
    waits for the first to commit, then inserts nothing)."""
    held: dict[str, Any] = {"fingerprint": fingerprint, "lease_token": token, "lease_until": lease_until}
    inserted = (
        await K.insert(K(key_hash=key_hash, created_at=now, expires_at=expires_at, **held))
        .on_conflict(target=K.key_hash, action="DO NOTHING")
        .returning(K.id)
    )
    if inserted:
        return True
    free = (K.expires_at <= now) | (K.status.is_null() & (K.lease_until <= now))
    taken = (
        await K.update(
            {
                K.fingerprint: fingerprint,
                K.lease_token: token,
                K.lease_until: lease_until,
                K.status: None,
                K.headers: [],
                K.body: b"",
                K.created_at: now,
                K.expires_at: expires_at,
            }
        )
        .where((K.key_hash == key_hash) & free)
        .returning(K.id)
    )
    return bool(taken)


async def complete(
    key_hash: str, token: str, status: int, headers: list[tuple[str, str]], body: bytes, expires_at: datetime
) -> bool:
    """Store the answer, if this execution still holds the key (False: its lease was taken over)."""
    rows = (
        await K.update({K.status: status, K.headers: headers, K.body: body, K.expires_at: expires_at})
        .where((K.key_hash == key_hash) & (K.lease_token == token) & K.status.is_null())
        .returning(K.id)
    )
    return bool(rows)


async def release(key_hash: str, token: str) -> None:
    """Let the key go without an answer (a retry runs again), if this execution still holds it."""
    await K.delete().where((K.key_hash == key_hash) & (K.lease_token == token) & K.status.is_null())


async def delete_expired(now: datetime, limit: int) -> int:
    """Delete up to `limit` expired keys; how many. The expiry is checked again in the DELETE, so a key
    taken over meanwhile (its expiry moved) stays."""
    ids = [r["id"] for r in await K.select(K.id).where(K.expires_at <= now).limit(limit)]
    if ids:
        await K.delete().where(K.id.is_in(ids) & (K.expires_at <= now))
    return len(ids)
