"""What a request carrying an Idempotency-Key may do: run while holding the key, get the stored answer
again, or be refused (another request's key, or one still in flight). No Litestar here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.errors import BadRequest, Conflict, Invalid
from backend.idempotency import repository as repo
from backend.principal import Principal

KEY_MAX_LENGTH = 255  # Stripe's limit; a UUID is 36
# Requests here take well under a second: a retry of one still in flight is asked back this soon.
IN_FLIGHT_RETRY_AFTER_S = 1
# Answers given before the operation ran (the body did not decode, no access, the body too slow or too
# large) or worth trying again (rate limit, every 5xx: busy, the database down) are not kept.
NOT_KEPT = frozenset({400, 401, 403, 408, 413, 429})


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as stored and replayed: status, headers (latin-1 text) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def parse_key(values: list[bytes]) -> str:
    """The key of the request's Idempotency-Key header(s): one value, a Structured Field string
    (`"…"`, as the IETF draft sends it) or the bare text (as Stripe's clients send it), of 1 to
    KEY_MAX_LENGTH visible ASCII characters; anything else is 400 idempotency/invalid-key."""
    if len(values) == 1:
        raw = values[0].strip()
        if len(raw) >= 2 and raw[:1] == raw[-1:] == b'"':
            raw = raw[1:-1]
        if 0 < len(raw) <= KEY_MAX_LENGTH and all(0x21 <= b <= 0x7E and b not in b'"\\' for b in raw):
            return raw.decode("ascii")
    raise BadRequest("idempotency/invalid-key", max_length=KEY_MAX_LENGTH)


def request_hash(method: str, path: str, query: bytes) -> Any:
    """The request's fingerprint so far: its method, path and query; the body is added as it is read."""
    return hashlib.sha256(b"\0".join((method.encode(), path.encode(), query, b"")))


def key_hash(who: Principal, key: str) -> str:
    """The stored name of a key: keys are per principal, and neither is kept as such."""
    return hashlib.sha256(f"{who.role.value}:{who.subject}\n{key}".encode()).hexdigest()


def kept(status: int) -> bool:
    """Whether an answer of `status` is stored for replay (Stripe: once the operation ran, its answer)."""
    return 200 <= status < 500 and status not in NOT_KEPT


async def earlier(name: str, now: datetime) -> repo.KeyRec | None:
    """The key's row if it still counts: an answer not yet expired, or a request whose lease holds."""
    row = await repo.find(name)
    if row is None or row.expires_at <= now or (row.status is None and row.lease_until <= now):
        return None
    return row


def replay(row: repo.KeyRec, fingerprint: str) -> Answer:
    """The stored answer for the same request again; 422 for another request, 409 while in flight."""
    if row.fingerprint != fingerprint:
        raise Invalid("idempotency/key-reused")
    if row.status is None:
        raise Conflict("idempotency/in-flight", retry_after_s=IN_FLIGHT_RETRY_AFTER_S)
    return Answer(row.status, [(k, v) for k, v in row.headers], row.body)


async def hold(name: str, fingerprint: str, now: datetime, lease_s: float, ttl_s: float) -> str:
    """Hold the key for this execution; its lease token. Taken meanwhile by a request that raced this
    one: 422 if that was another request, else 409 (a retry then gets its answer)."""
    token = secrets.token_hex(16)
    expires = now + timedelta(seconds=ttl_s)
    if await repo.claim(name, fingerprint, token, now, now + timedelta(seconds=lease_s), expires):
        return token
    row = await repo.find(name)
    if row is not None and row.fingerprint != fingerprint:
        raise Invalid("idempotency/key-reused")
    raise Conflict("idempotency/in-flight", retry_after_s=IN_FLIGHT_RETRY_AFTER_S)


async def record(name: str, token: str, answer: Answer, now: datetime, ttl_s: float) -> bool:
    """Keep the answer for replays until `ttl_s` from now; False if the lease was lost meanwhile."""
    expires = now + timedelta(seconds=ttl_s)
    return await repo.complete(name, token, answer.status, answer.headers, answer.body, expires)


async def let_go(name: str, token: str) -> None:
    """Free the key without an answer: the next request with it runs."""
    await repo.release(name, token)
