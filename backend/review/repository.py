"""Every query of the review domain. Claims are compare-and-set UPDATEs: the same SQL on both engines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from backend.review.tables import CaseVerdict, ReviewCase


class CaseRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    install: uuid.UUID
    kind: str
    state: str
    reasons: list[str]
    reason_tags: str
    risk: int
    due_at: datetime
    asset_type: str
    municipality: str
    opened_at: datetime
    claimed_by: str | None
    lease_expires_at: datetime | None
    first_claimed_by: str | None
    approvals: list[str]
    version: int
    closed_at: datetime | None
    detail: dict[str, Any]


class VerdictRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    case: int
    install: uuid.UUID
    kind: str
    verdict: str
    note: str
    decided_by: str
    created_at: datetime


_JSON_COLUMNS = ("reasons", "approvals", "detail")


def _case(rows: list[dict[str, Any]]) -> CaseRec | None:
    if not rows:
        return None
    row = dict(rows[0])
    for column in _JSON_COLUMNS:  # UPDATE ... RETURNING hands JSON back as text
        if isinstance(row[column], str):
            row[column] = msgspec.json.decode(row[column])
    return msgspec.convert(row, CaseRec, strict=False)


async def case_by_id(case_id: int) -> CaseRec | None:
    return _case(await ReviewCase.select().where(ReviewCase.id == case_id).output(load_json=True))


async def case_of_install(install_id: uuid.UUID, kind: str = "escalation") -> CaseRec | None:
    """The install's case of one kind (the escalation unless asked otherwise)."""
    where = (ReviewCase.install == install_id) & (ReviewCase.kind == kind)
    return _case(await ReviewCase.select().where(where).output(load_json=True))


async def insert_case(row: dict[str, Any]) -> None:
    await ReviewCase.insert(ReviewCase(**row))


async def insert_case_once(row: dict[str, Any]) -> CaseRec | None:
    """Insert unless the install already has a case of this kind (then None), on both engines."""
    rows = (
        await ReviewCase.insert(ReviewCase(**row))
        .on_conflict(target=(ReviewCase.install, ReviewCase.kind), action="DO NOTHING")
        .returning(*ReviewCase.all_columns())
    )
    return _case(rows)


async def update_case(case_id: int, expected_version: int | None, values: dict[str, Any]) -> CaseRec | None:
    """Compare-and-set on `version` (None: unconditionally, for changes the install's own state
    forces); returns None if someone else changed the case first."""
    columns = {getattr(ReviewCase, k): v for k, v in values.items()}
    columns[ReviewCase.version] = ReviewCase.version + 1
    where = ReviewCase.id == case_id
    if expected_version is not None:
        where &= ReviewCase.version == expected_version
    return _case(await ReviewCase.update(columns).where(where).returning(*ReviewCase.all_columns()))


async def try_claim(case_id: int, subject: str, now: datetime, lease_until: datetime) -> CaseRec | None:
    """Take or renew the lease in ONE statement: it wins only if the case is open and unleased,
    its lease has expired, or the caller already holds it. Exactly one of many racers wins."""
    free = (ReviewCase.claimed_by.is_null()) | (ReviewCase.lease_expires_at < now) | (ReviewCase.claimed_by == subject)
    rows = (
        await ReviewCase.update(
            {
                ReviewCase.claimed_by: subject,
                ReviewCase.lease_expires_at: lease_until,
                ReviewCase.version: ReviewCase.version + 1,
            }
        )
        .where((ReviewCase.id == case_id) & (ReviewCase.state == "open") & free)
        .returning(*ReviewCase.all_columns())
    )
    return _case(rows)


async def queue(
    now: datetime,
    limit: int,
    after: tuple[datetime, int, int] | None,
    reason: str | None,
    asset_type: str | None,
    municipality: str | None,
    kind: str | None = None,
) -> list[CaseRec]:
    """Open cases by due time, then risk (highest first), then id; keyset pagination."""
    where = ReviewCase.state == "open"
    if kind:
        where &= ReviewCase.kind == kind
    if reason:
        where &= ReviewCase.reason_tags.like(f"%,{reason},%")
    if asset_type:
        where &= ReviewCase.asset_type == asset_type
    if municipality:
        where &= ReviewCase.municipality == municipality
    if after is not None:
        due, risk, case_id = after
        where &= (ReviewCase.due_at > due) | (
            (ReviewCase.due_at == due)
            & ((ReviewCase.risk < risk) | ((ReviewCase.risk == risk) & (ReviewCase.id > case_id)))
        )
    query = (
        ReviewCase.select()
        .where(where)
        .order_by(ReviewCase.due_at)
        .order_by(ReviewCase.risk, ascending=False)
        .order_by(ReviewCase.id)
        .output(load_json=True)
    )
    return [c for r in await query.limit(limit) if (c := _case([r])) is not None]


async def open_case_reasons() -> list[tuple[str, list[str], datetime]]:
    """(kind, reasons, opened_at) of every open case, for counts and the oldest case's age."""
    rows = (
        await ReviewCase.select(ReviewCase.kind, ReviewCase.reasons, ReviewCase.opened_at)
        .where(ReviewCase.state == "open")
        .output(load_json=True)
    )
    return [(r["kind"], r["reasons"], r["opened_at"]) for r in rows]


async def cases_with_reason(reason: str) -> int:
    """Cases ever escalated with `reason` (each case counts once however often it reopened)."""
    where = (ReviewCase.kind == "escalation") & ReviewCase.reason_tags.like(f"%,{reason},%")
    return await ReviewCase.count().where(where)


async def insert_verdict(row: dict[str, Any]) -> None:
    await CaseVerdict.insert(CaseVerdict(**row))


async def verdicts_of_case(case_id: int) -> list[VerdictRec]:
    rows = await CaseVerdict.select().where(CaseVerdict.case == case_id).order_by(CaseVerdict.id)
    return [msgspec.convert(r, VerdictRec) for r in rows]


async def verdict_counts() -> dict[tuple[str, str], int]:
    """Follow-up verdicts ever given, by (kind, verdict)."""
    rows = await CaseVerdict.select(CaseVerdict.kind, CaseVerdict.verdict, Count(alias="n")).group_by(
        CaseVerdict.kind, CaseVerdict.verdict
    )
    return {(r["kind"], r["verdict"]): r["n"] for r in rows}
