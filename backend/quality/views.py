"""Wire Structs of calibration and known answers. A calibration item is blind: no case or install id,
no state, no decisions, no history, no customer messages; only the evidence the decider saw."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from backend.installs.context import InstallContext
from backend.quality.repository import CalibrationAnswerRec, KnownAnswerRec
from backend.quality.service import KnownAnswerPage
from backend.review.repository import CaseRec
from backend.review.service import CaseDetail
from backend.review.views import (
    CalibrationItem,
    CheckDetail,
    FixDetail,
    PhotoDetail,
    check_details,
    fix_details,
    photo_details,
)


def calibration_url(known_answer_id: int) -> str:
    return f"/review/v1/calibration/{known_answer_id}"


class CalibrationView(msgspec.Struct, kw_only=True):
    kind: Literal["known_answer"] = "known_answer"
    known_answer_id: int
    asset_type: str
    reasons: list[str]  # why the automation escalated it
    capacity: str
    municipality: str
    asset_serial: str | None
    reading: float | None
    help_message: str | None
    photos: list[PhotoDetail]
    fixes: list[FixDetail]
    checks: list[CheckDetail]
    answer_url: str  # POST {"answer": "approve" | "reject" | "request_info"}


class CalibrationResultView(msgspec.Struct, kw_only=True):
    known_answer_id: int
    answer: str
    expected: str  # shown only once answered
    agreed: bool
    answered_at: datetime


class KnownAnswerView(msgspec.Struct, kw_only=True):
    id: int
    case_id: int
    install_id: str
    expected: str
    deciders: list[str]
    marked_by: str
    marked_at: datetime
    answers: int
    agreed: int


class KnownAnswerList(msgspec.Struct, kw_only=True):
    items: list[KnownAnswerView]
    next_cursor: str | None


class AgreementView(msgspec.Struct, kw_only=True):
    specialist: str
    answers: int
    agreed: int
    agreement: float


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
