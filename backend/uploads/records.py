"""Typed rows the uploads repository hands out."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec


class UploadRec(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    owner_subject: str
    install: uuid.UUID
    slot: str
    content_type: str
    protocol: str
    declared_length: int | None
    received: int
    lease: str | None
    complete: bool
    photo: int | None
    created_at: datetime
    expires_at: datetime


class PartRec(msgspec.Struct, frozen=True, kw_only=True):
    first_byte: int
    size: int
    name: str
