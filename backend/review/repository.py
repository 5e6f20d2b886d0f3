"""Every query of the review domain. Claims are compare-and-set UPDATEs: the same SQL on both engines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from backend.review.tables import ReviewCase


class CaseRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    install: uuid.UUID
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


_JSON_COLUMNS = ("reasons", "approvals")


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


async def case_of_install(install_id: uuid.UUID) -> CaseRec | None:
    return _case(await ReviewCase.select().where(ReviewCase.install == install_id).output(load_json=True))


async def insert_case(row: dict[str, Any]) -> None:
    await ReviewCase.insert(ReviewCase(**row))


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
) -> list[CaseRec]:
    """Open cases by due time, then risk (highest first), then id; keyset pagination."""
    where = ReviewCase.state == "open"
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


async def open_case_reasons() -> list[tuple[list[str], datetime]]:
    """(reasons, opened_at) of every open case, for counts and the oldest case's age."""
    rows = (
        await ReviewCase.select(ReviewCase.reasons, ReviewCase.opened_at)
        .where(ReviewCase.state == "open")
        .output(load_json=True)
    )
    return [(r["reasons"], r["opened_at"]) for r in rows]


async def cases_with_reason(reason: str) -> int:
    """Cases ever escalated with `reason` (each case counts once however often it reopened)."""
    return await ReviewCase.count().where(ReviewCase.reason_tags.like(f"%,{reason},%"))
