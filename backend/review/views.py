"""Wire Structs of /review/v1: specialists see everything, internal notes and EXIF included."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import msgspec

from backend.installs.context import InstallContext
from backend.installs.records import CheckRec, FixRec, PhotoRec
from backend.review.kinds import VERDICTS
from backend.review.repository import CaseRec
from backend.review.service import CaseDetail, QueuePage
from backend.validation.geo import distance_m


class QueueItem(msgspec.Struct, kw_only=True):
    case_id: int
    install_id: uuid.UUID
    reasons: list[str]
    due_at: datetime
    overdue: bool
    risk: int
    asset_type: str
    municipality: str
    opened_at: datetime
    claimed_by: str | None
    lease_expires_at: datetime | None
    awaiting_second_approval: bool
    kind: str = "escalation"  # or a follow-up kind: qa_sample, device_silent, device_mismatch, reading_mismatch


class CalibrationItem(msgspec.Struct, kw_only=True):
    """A known answer served blind for calibration: no case or install id, no decision, no history."""

    kind: Literal["known_answer"] = "known_answer"
    known_answer_id: int
    asset_type: str
    reasons: list[str]  # why the automation escalated it
    url: str  # GET the evidence here; POST {url}/answer with {"answer": approve | reject | request_info}


class QueueView(msgspec.Struct, kw_only=True):
    items: list[QueueItem]
    next_cursor: str | None
    counts: dict[str, int]
    depth: int
    oldest_case_age_s: float | None
    calibration: CalibrationItem | None = None  # now and then, on the first page only


class PhotoDetail(msgspec.Struct, kw_only=True):
    id: int
    slot: str
    current: bool
    original_url: str
    content_type: str
    width: int
    height: int
    sha256: str
    exif_taken_at: datetime | None
    exif_lat: float | None
    exif_lon: float | None
    qr_texts: list[str] | None
    sharpness: float | None
    brightness: float | None
    uploaded_by: str
    created_at: datetime


class CheckDetail(msgspec.Struct, kw_only=True):
    attempt: int
    photo_id: int | None
    check: str
    subject: str
    status: str
    confidence: float
    evidence: dict[str, Any]
    user_fixable: bool
    fix_en: str
    created_at: datetime


class FixDetail(msgspec.Struct, kw_only=True):
    lat: float
    lon: float
    accuracy_m: float
    captured_at: datetime
    provider: str
    mocked: bool
    distance_to_connection_m: float
    in_territory: bool


class CaseView(msgspec.Struct, kw_only=True):
    case_id: int
    state: str
    version: int
    reasons: list[str]
    due_at: datetime
    risk: int
    claimed_by: str | None
    lease_expires_at: datetime | None
    lease_remaining_s: float | None
    first_claimed_by: str | None
    approvals: list[str]
    install: dict[str, Any]
    connection: dict[str, Any]
    asset: dict[str, Any] | None
    photos: list[PhotoDetail]
    fixes: list[FixDetail]
    checks: list[CheckDetail]
    decisions: list[dict[str, Any]]
    events: list[dict[str, Any]]
    kind: str = "escalation"
    detail: dict[str, Any] = msgspec.field(default_factory=dict)  # what opened a follow-up
    allowed_verdicts: list[str] = msgspec.field(default_factory=list)  # empty for an escalation: it takes a decision
    verdicts: list[dict[str, Any]] = msgspec.field(default_factory=list)


def _item(c: CaseRec, now: datetime) -> QueueItem:
    leased = c.lease_expires_at is not None and c.lease_expires_at > now
    return QueueItem(
        case_id=c.id,
        install_id=c.install,
        reasons=c.reasons,
        due_at=c.due_at,
        overdue=c.due_at < now,
        risk=c.risk,
        asset_type=c.asset_type,
        municipality=c.municipality,
        opened_at=c.opened_at,
        claimed_by=c.claimed_by if leased else None,
        lease_expires_at=c.lease_expires_at if leased else None,
        awaiting_second_approval=bool(c.approvals),
        kind=c.kind,
    )


def queue_view(
    page: QueuePage, next_cursor: str | None, now: datetime, calibration: CalibrationItem | None = None
) -> QueueView:
    age = (now - page.oldest_opened_at).total_seconds() if page.oldest_opened_at else None
    return QueueView(
        items=[_item(c, now) for c in page.cases],
        next_cursor=next_cursor,
        counts=page.counts,
        depth=page.depth,
        oldest_case_age_s=age,
        calibration=calibration,
    )


def photo_details(photos: list[PhotoRec], url_prefix: str) -> list[PhotoDetail]:
    """Photos for a specialist; originals are served under `url_prefix`."""
    return [
        PhotoDetail(
            id=p.id,
            slot=p.slot,
            current=p.is_current,
            original_url=f"{url_prefix}/photos/{p.id}/original",
            content_type=p.content_type,
            width=p.width,
            height=p.height,
            sha256=p.sha256,
            exif_taken_at=p.exif_taken_at,
            exif_lat=p.exif_lat,
            exif_lon=p.exif_lon,
            qr_texts=p.qr_texts,
            sharpness=p.sharpness,
            brightness=p.brightness,
            uploaded_by=p.uploaded_by,
            created_at=p.created_at,
        )
        for p in photos
    ]


def fix_details(ctx: InstallContext, fixes: list[FixRec], lat: float, lon: float) -> list[FixDetail]:
    """Location fixes with their distance to the connection at (lat, lon)."""
    return [
        FixDetail(
            lat=f.lat,
            lon=f.lon,
            accuracy_m=f.accuracy_m,
            captured_at=f.captured_at,
            provider=f.provider,
            mocked=f.mocked,
            distance_to_connection_m=round(distance_m(f.lat, f.lon, lat, lon), 1),
            in_territory=ctx.territory.contains(f.lat, f.lon),
        )
        for f in fixes
    ]


def check_details(checks: list[CheckRec]) -> list[CheckDetail]:
    """Every check result of every attempt."""
    return [
        CheckDetail(
            attempt=k.attempt,
            photo_id=k.photo,
            check=k.check_name,
            subject=k.subject,
            status=k.status,
            confidence=k.confidence,
            evidence=k.evidence,
            user_fixable=k.user_fixable,
            fix_en=k.fix_en,
            created_at=k.created_at,
        )
        for k in checks
    ]


def case_view(ctx: InstallContext, d: CaseDetail) -> CaseView:
    now = ctx.clock()
    c, snap = d.case, d.snapshot
    conn = snap.connection
    leased = c.lease_expires_at is not None and c.lease_expires_at > now
    return CaseView(
        case_id=c.id,
        state=c.state,
        version=c.version,
        reasons=c.reasons,
        due_at=c.due_at,
        risk=c.risk,
        claimed_by=c.claimed_by if leased else None,
        lease_expires_at=c.lease_expires_at if leased else None,
        lease_remaining_s=(c.lease_expires_at - now).total_seconds() if leased and c.lease_expires_at else None,
        first_claimed_by=c.first_claimed_by,
        approvals=c.approvals,
        install=msgspec.to_builtins(snap.install),
        connection=msgspec.to_builtins(conn),
        asset=msgspec.to_builtins(snap.asset) if snap.asset else None,
        photos=photo_details(d.all_photos, f"/review/v1/cases/{c.id}"),
        fixes=fix_details(ctx, d.fixes, conn.lat, conn.lon),
        checks=check_details(d.all_checks),
        decisions=[msgspec.to_builtins(x) for x in snap.decisions],
        events=[msgspec.to_builtins(e) for e in d.events],
        kind=c.kind,
        detail=c.detail,
        allowed_verdicts=list(VERDICTS.get(c.kind, ())),
        verdicts=[msgspec.to_builtins(v) for v in d.verdicts],
    )
