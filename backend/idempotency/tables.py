"""Idempotency keys and the answers they replay. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import JSON, Bytea, Integer, Timestamptz, Varchar
from piccolo.table import Table


class IdempotencyKey(Table, tablename="idempotency_keys"):
    """One key of one principal: in flight (`status` NULL, held by `lease_token` until `lease_until`),
    then the answer it replays until `expires_at`. Neither the key nor the principal is stored, only
    the SHA-256 of both (`key_hash`); `fingerprint` is the SHA-256 of the request (method, path, body)."""

    key_hash = Varchar(length=64, unique=True)
    fingerprint = Varchar(length=64)
    lease_token = Varchar(length=32)
    lease_until = Timestamptz()
    status = Integer(null=True, default=None)
    headers = JSON(default=[])  # [[name, value], ...] as answered (latin-1 text)
    body = Bytea(default=b"")
    created_at = Timestamptz()
    expires_at = Timestamptz(index=True)  # the sweep deletes by it
