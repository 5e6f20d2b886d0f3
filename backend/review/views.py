"""Wire Structs of /review/v1: specialists see everything, internal notes and EXIF included."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from backend.i18n import translate
from backend.installs.asked import extra_slot
from backend.installs.context import InstallContext
from backend.installs.records import CheckRec, FixRec, InfoRequestRec, PhotoRec
from backend.review import examples as ex
from backend.review.kinds import VERDICTS
from backend.review.repository import CaseRec
from backend.review.service import CaseDetail, QueuePage
from backend.validation.geo import distance_m

# `examples` only document (the OpenAPI document composes each Struct's example from them:
# backend/openapi_schemas.py); they describe one case, a suspected fraud claimed by a specialist.
CaseId = Annotated[int, Meta(examples=[42])]
InstallId = Annotated[uuid.UUID, Meta(examples=["0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10"])]
Reasons = Annotated[list[str], Meta(examples=[["suspected_fraud"]])]
AssetType = Annotated[str, Meta(examples=["smart_meter_1p"])]
Specialist = Annotated[str, Meta(examples=["specialist-7"])]
Risk = Annotated[int, Meta(examples=[100])]
Opened = Annotated[datetime, Meta(examples=["2026-05-12T09:41:00+02:00"])]
Due = Annotated[datetime, Meta(examples=["2026-05-12T13:41:00+02:00"])]
LeaseUntil = Annotated[datetime, Meta(examples=["2026-05-12T10:12:00+02:00"])]
Sha256 = Annotated[str, Meta(examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])]


class QueueItem(msgspec.Struct, kw_only=True):
    case_id: CaseId
    install_id: InstallId
    reasons: Reasons
    due_at: Due
    overdue: bool
    risk: Risk
    asset_type: AssetType
    municipality: Annotated[str, Meta(examples=["Arnhem"])]
    opened_at: Opened
    claimed_by: Specialist | None
    lease_expires_at: LeaseUntil | None
    awaiting_second_approval: bool
    kind: str = "escalation"  # or a follow-up kind: qa_sample, device_silent, device_mismatch, reading_mismatch


class CalibrationItem(msgspec.Struct, kw_only=True):
    """A known answer served blind for calibration: no case or install id, no decision, no history."""

    kind: Literal["known_answer"] = "known_answer"
    known_answer_id: Annotated[int, Meta(examples=[7])]
    asset_type: AssetType
    reasons: Reasons  # why the automation escalated it
    # GET the evidence here; POST {url}/answer with {"answer": approve | reject | request_info}
    url: Annotated[str, Meta(examples=["/review/v1/calibration/7"])]


class QueueView(msgspec.Struct, kw_only=True):
    items: list[QueueItem]
    next_cursor: Annotated[str, Meta(examples=["MjAyNi0wNS0xMlQxMTo0MTowMCswMDowMHwxMDB8NDI"])] | None
    counts: Annotated[
        dict[str, int],
        Meta(
            examples=[
                {
                    "suspected_fraud": 1,
                    "human_requested": 3,
                    "approval_required": 0,
                    "specialist_knowledge": 0,
                    "complexity": 2,
                    "uncertain": 5,
                }
            ]
        ),
    ]
    depth: Annotated[int, Meta(examples=[11])]
    oldest_case_age_s: Annotated[float, Meta(examples=[5400.0])] | None
    calibration: CalibrationItem | None = None  # now and then, on the first page only


class PhotoDetail(msgspec.Struct, kw_only=True):
    id: Annotated[int, Meta(examples=[1])]
    slot: Annotated[str, Meta(examples=["meter_label"])]
    current: Annotated[bool, Meta(examples=[True])]
    original_url: Annotated[str, Meta(examples=["/review/v1/cases/42/photos/1/original"])]
    content_type: Annotated[str, Meta(examples=["image/jpeg"])]
    width: Annotated[int, Meta(examples=[4032])]
    height: Annotated[int, Meta(examples=[3024])]
    sha256: Sha256
    exif_taken_at: Annotated[datetime, Meta(examples=["2026-05-12T09:38:12+02:00"])] | None
    exif_lat: Annotated[float, Meta(examples=[51.98371])] | None
    exif_lon: Annotated[float, Meta(examples=[5.90558])] | None
    qr_texts: Annotated[list[str], Meta(examples=[[ex.PAYLOAD]])] | None
    sharpness: Annotated[float, Meta(examples=[1.82])] | None
    brightness: Annotated[float, Meta(examples=[149.3])] | None
    uploaded_by: Annotated[str, Meta(examples=[ex.CUSTOMER])]
    created_at: Annotated[datetime, Meta(examples=["2026-05-12T09:38:40+02:00"])]


class CheckDetail(msgspec.Struct, kw_only=True):
    attempt: Annotated[int, Meta(examples=[1])]
    photo_id: Annotated[int, Meta(examples=[1])] | None
    check: Annotated[str, Meta(examples=["label_qr"])]
    subject: Annotated[str, Meta(examples=["meter_label"])]
    status: Annotated[str, Meta(examples=["pass"])]
    confidence: Annotated[float, Meta(examples=[0.98])]
    evidence: Annotated[dict[str, Any], Meta(examples=[{"decoded": [ex.PAYLOAD]}])]
    user_fixable: bool
    fix_en: Annotated[str, Meta(examples=[""])]
    created_at: Annotated[datetime, Meta(examples=["2026-05-12T09:38:40+02:00"])]
    # The fix as a msgid of the message catalogs and its parameters (README "Languages"), for a client
    # that words it in its own language; `fix_en` is it in English.
    fix: Annotated[str, Meta(examples=[""])] = ""
    fix_params: dict[str, Any] = {}


class FixDetail(msgspec.Struct, kw_only=True):
    lat: Annotated[float, Meta(examples=[51.9837])]
    lon: Annotated[float, Meta(examples=[5.9056])]
    accuracy_m: Annotated[float, Meta(examples=[6.0])]
    captured_at: Annotated[datetime, Meta(examples=["2026-05-12T09:36:00+02:00"])]
    provider: Annotated[str, Meta(examples=["gps"])]
    mocked: Annotated[bool, Meta(examples=[True])]  # what made this example a suspected fraud
    distance_to_connection_m: Annotated[float, Meta(examples=[3.2])]
    in_territory: Annotated[bool, Meta(examples=[True])]


class CaseView(msgspec.Struct, kw_only=True):
    case_id: CaseId
    state: Annotated[str, Meta(examples=["open"])]
    version: Annotated[int, Meta(examples=[2])]
    reasons: Reasons
    due_at: Due
    risk: Risk
    claimed_by: Specialist | None
    lease_expires_at: LeaseUntil | None
    lease_remaining_s: Annotated[float, Meta(examples=[840.0])] | None
    first_claimed_by: Specialist | None
    approvals: list[str]
    install: Annotated[dict[str, Any], Meta(examples=[ex.INSTALL])]
    connection: Annotated[dict[str, Any], Meta(examples=[ex.CONNECTION])]
    asset: Annotated[dict[str, Any], Meta(examples=[ex.ASSET])] | None
    photos: list[PhotoDetail]
    fixes: list[FixDetail]
    checks: list[CheckDetail]
    decisions: Annotated[list[dict[str, Any]], Meta(examples=[[ex.DECISION]])]
    events: Annotated[list[dict[str, Any]], Meta(examples=[[ex.EVENT]])]
    kind: str = "escalation"
    detail: dict[str, Any] = msgspec.field(default_factory=dict)  # what opened a follow-up
    allowed_verdicts: list[str] = msgspec.field(default_factory=list)  # empty for an escalation: it takes a decision
    verdicts: list[dict[str, Any]] = msgspec.field(default_factory=list)
    # requests for information and their answers, oldest first; photo_ids: the extra photos given (every try)
    info_requests: Annotated[list[dict[str, Any]], Meta(examples=[[ex.INFO_REQUEST]])] = msgspec.field(
        default_factory=list
    )


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
            fix_en=translate("en", k.fix, **k.fix_params),
            created_at=k.created_at,
            fix=k.fix,
            fix_params=k.fix_params,
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
        info_requests=info_request_details(snap.info_requests, d.all_photos),
    )


def info_request_details(requests: list[InfoRequestRec], photos: list[PhotoRec]) -> list[dict[str, Any]]:
    """The conversation: each request with its answer and the extra photos given to its slot."""
    out = []
    for r in requests:
        slot = extra_slot(r.id) if r.photo_label is not None else None
        ids = [p.id for p in photos if slot is not None and p.slot == slot]
        out.append({**msgspec.to_builtins(r), "photo_slot": slot, "photo_ids": ids})
    return out
