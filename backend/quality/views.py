"""Wire Structs of calibration and known answers. A calibration item is blind: no case or install id,
no state, no decisions, no history, no customer messages; only the evidence the decider saw."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from backend.installs.context import InstallContext
from backend.quality.repository import CalibrationAnswerRec, KnownAnswerRec
from backend.quality.service import KnownAnswerPage
from backend.review.repository import CaseRec
from backend.review.service import CaseDetail
from backend.review.views import (
    AssetType,
    CalibrationItem,
    CheckDetail,
    FixDetail,
    PhotoDetail,
    Reasons,
    check_details,
    fix_details,
    photo_details,
)


def calibration_url(known_answer_id: int) -> str:
    return f"/review/v1/calibration/{known_answer_id}"


# `examples` only document (backend/openapi_schemas.py composes each Struct's example from them).
KnownAnswerId = Annotated[int, Meta(examples=[7])]
Outcome = Annotated[str, Meta(examples=["reject"])]
Time = Annotated[datetime, Meta(examples=["2026-05-13T10:05:00+02:00"])]


class CalibrationView(msgspec.Struct, kw_only=True):
    kind: Literal["known_answer"] = "known_answer"
    known_answer_id: KnownAnswerId
    asset_type: AssetType
    reasons: Reasons  # why the automation escalated it
    capacity: Annotated[str, Meta(examples=["1x35A"])]
    municipality: Annotated[str, Meta(examples=["Arnhem"])]
    asset_serial: Annotated[str, Meta(examples=["MTR1-000001"])] | None
    reading: Annotated[float, Meta(examples=[4512.7])] | None
    help_message: Annotated[str, Meta(examples=["Ik weet niet of dit de goede meter is."])] | None
    photos: list[PhotoDetail]
    fixes: list[FixDetail]
    checks: list[CheckDetail]
    # POST {"answer": "approve" | "reject" | "request_info"}
    answer_url: Annotated[str, Meta(examples=["/review/v1/calibration/7/answer"])]


class CalibrationResultView(msgspec.Struct, kw_only=True):
    known_answer_id: KnownAnswerId
    answer: Outcome
    expected: Outcome  # shown only once answered
    agreed: Annotated[bool, Meta(examples=[True])]
    answered_at: Time


class KnownAnswerView(msgspec.Struct, kw_only=True):
    id: KnownAnswerId
    case_id: Annotated[int, Meta(examples=[42])]
    install_id: Annotated[str, Meta(examples=["0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10"])]
    expected: Outcome
    deciders: Annotated[list[str], Meta(examples=[["specialist-7"]])]
    marked_by: Annotated[str, Meta(examples=["admin-2"])]
    marked_at: Time
    answers: Annotated[int, Meta(examples=[12])]
    agreed: Annotated[int, Meta(examples=[11])]


class KnownAnswerList(msgspec.Struct, kw_only=True):
    items: list[KnownAnswerView]
    next_cursor: Annotated[str, Meta(examples=["Nw"])] | None


class AgreementView(msgspec.Struct, kw_only=True):
    specialist: Annotated[str, Meta(examples=["specialist-12"])]
    answers: Annotated[int, Meta(examples=[40])]
    agreed: Annotated[int, Meta(examples=[37])]
    agreement: Annotated[float, Meta(examples=[0.925])]


def calibration_item(known: KnownAnswerRec, case: CaseRec) -> CalibrationItem:
    return CalibrationItem(
        known_answer_id=known.id, asset_type=case.asset_type, reasons=case.reasons, url=calibration_url(known.id)
    )


def calibration_view(ctx: InstallContext, known: KnownAnswerRec, d: CaseDetail) -> CalibrationView:
    snap, url = d.snapshot, calibration_url(known.id)
    return CalibrationView(
        known_answer_id=known.id,
        asset_type=d.case.asset_type,
        reasons=d.case.reasons,
        capacity=snap.connection.capacity,
        municipality=d.case.municipality,
        asset_serial=snap.asset.serial if snap.asset else None,
        reading=snap.install.reading,
        help_message=snap.install.help_message,
        photos=photo_details(d.all_photos, url),
        fixes=fix_details(ctx, d.fixes, snap.connection.lat, snap.connection.lon),
        checks=check_details(d.all_checks),
        answer_url=f"{url}/answer",
    )


def result_view(known: KnownAnswerRec, a: CalibrationAnswerRec) -> CalibrationResultView:
    return CalibrationResultView(
        known_answer_id=known.id, answer=a.answer, expected=known.expected, agreed=a.agreed, answered_at=a.created_at
    )


def known_answer_view(k: KnownAnswerRec, counts: tuple[int, int]) -> KnownAnswerView:
    return KnownAnswerView(
        id=k.id,
        case_id=k.case,
        install_id=str(k.install),
        expected=k.expected,
        deciders=k.deciders,
        marked_by=k.marked_by,
        marked_at=k.marked_at,
        answers=counts[0],
        agreed=counts[1],
    )


def known_answer_list(page: KnownAnswerPage, next_cursor: str | None) -> KnownAnswerList:
    return KnownAnswerList(
        items=[known_answer_view(k, page.counts.get(k.id, (0, 0))) for k in page.items], next_cursor=next_cursor
    )
