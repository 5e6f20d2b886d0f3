"""Typed rows handed out by the repository (Piccolo returns dicts; the domain works with these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec


class Record(msgspec.Struct, frozen=True, kw_only=True):
    pass


class ConnectionRec(Record):
    id: int
    ean: str
    street: str
    house_number: int
    house_number_suffix: str
    postcode: str
    city: str
    lat: float
    lon: float
    capacity: str
    owner_subject: str | None


class AssetRec(Record):
    id: int
    serial: str
    asset_type: str
    status: str
    connection: int | None
    installed_at: datetime | None
    last_reading: float | None
    label_key_id: str | None = None  # the QR key its last issued label was signed with
    label_issued_at: datetime | None = None
    retired_at: datetime | None = None
    replaced_by: int | None = None  # the asset that took its place in a swap


class InstallRec(Record):
    id: uuid.UUID
    connection: int
    asset_type: str
    asset: int | None
    state: str
    created_by: str
    created_by_role: str
    request_hash: str
    scanned_payload: str | None
    reasons: list[str]
    retake_count: int
    help_message: str | None
    reading: float | None
    awaiting_info: bool
    customer_message: str | None
    version: int
    created_at: datetime
    started_at: datetime | None
    client_time: datetime | None
    updated_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    allocated_asset: int | None = None  # the asset its job reserved (backend/jobs)
    customer_subject: str | None = None  # the customer it belongs to: the connection's owner when it was made


class PhotoRec(Record):
    id: int
    install: uuid.UUID
    slot: str
    sha256: str
    content_type: str
    size_bytes: int
    width: int
    height: int
    exif_taken_at: datetime | None
    exif_lat: float | None
    exif_lon: float | None
    qr_texts: list[str] | None
    qr_symbol_seen: bool
    sharpness: float | None
    edge_density: float | None
    contrast: float | None
    brightness: float | None
    dark_fraction: float | None
    bright_fraction: float | None
    phash: int | None
    fingerprint: str | None
    core_hash: int | None
    core_fingerprint: str | None
    hash_informative: bool
    is_current: bool
    uploaded_by: str
    created_at: datetime


class FixRec(Record):
    id: int
    install: uuid.UUID
    lat: float
    lon: float
    accuracy_m: float
    captured_at: datetime
    provider: str
    mocked: bool
    client_time: datetime | None
    created_at: datetime


class CheckRec(Record):
    id: int
    install: uuid.UUID
    photo: int | None
    attempt: int
    check_name: str
    subject: str
    status: str
    confidence: float
    evidence: dict[str, Any]
    user_fixable: bool
    fix: str
    fix_params: dict[str, Any]
    created_at: datetime


class DecisionRec(Record):
    id: int
    install: uuid.UUID
    attempt: int
    outcome: str
    reasons: list[str]
    policy_version: str
    decided_by: str
    reason_code: str | None
    note: str | None
    message: str | None
    created_at: datetime


class EventRec(Record):
    id: int
    install: uuid.UUID | None
    actor: str
    actor_role: str
    action: str
    from_state: str | None
    to_state: str | None
    detail: dict[str, Any]
    created_at: datetime


class InfoRequestRec(Record):
    id: int
    install: uuid.UUID
    asked_by: str
    message: str | None
    photo_label: str | None
    question: str | None
    answer: str | None
    answered_by: str | None
    answered_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
