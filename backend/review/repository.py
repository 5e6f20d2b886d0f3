"""Every query of the review domain. Claims are compare-and-set UPDATEs: the same SQL on both engines."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query import OrderByRaw, Select
from piccolo.query.functions.aggregate import Count

from backend.review.tables import CaseVerdict, QueueCount, ReviewCase


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
    query = queue_query(limit, after, reason, asset_type, municipality, kind)
    return [c for r in await query if (c := _case([r])) is not None]


def queue_query(
    limit: int,
    after: tuple[datetime, int, int] | None,
    reason: str | None = None,
    asset_type: str | None = None,
    municipality: str | None = None,
    kind: str | None = None,
) -> Select:
    """The queue page's query (the plan tests EXPLAIN it).

    The sort is `(due_at, -risk, id)` ascending, which the partial index `review_cases_queue` (open
    cases only) holds as it is, so a page, deep or not, is one bounded range of that index: the cursor
    is a row comparison, the same SQL on both engines. Filters are read off the same range."""
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
        where &= WhereRaw("(due_at, -risk, id) > ({}, {}, {})", due, -risk, case_id)
    return (
        ReviewCase.select().where(where).order_by(OrderByRaw("due_at, -risk, id")).limit(limit).output(load_json=True)
    )


async def queue_counts() -> dict[tuple[str, str], int]:
    """Open cases by (kind, reason), and by (kind, '') all of a kind: a few rows, whatever the table's
    size, kept exact by the triggers on review_cases (see the review migrations)."""
    rows = await QueueCount.select(QueueCount.kind, QueueCount.reason, QueueCount.n)
    return {(r["kind"], r["reason"]): r["n"] for r in rows}


async def oldest_open() -> datetime | None:
    """When the longest-waiting open case was opened (the first entry of a partial index)."""
    rows = await oldest_open_query()
    return rows[0]["opened_at"] if rows else None


def oldest_open_query() -> Select:
    where = ReviewCase.state == "open"
    return ReviewCase.select(ReviewCase.opened_at).where(where).order_by(ReviewCase.opened_at).limit(1)


async def overdue_counts(now: datetime) -> dict[str, int]:
    """Open cases past their due time (the SLA breached), by kind: a range of the queue's partial index."""
    return {r["kind"]: r["n"] for r in await overdue_query(now)}


def overdue_query(now: datetime) -> Select:
    where = (ReviewCase.state == "open") & (ReviewCase.due_at < now)
    return ReviewCase.select(ReviewCase.kind, Count(ReviewCase.id, alias="n")).where(where).group_by(ReviewCase.kind)


async def open_since_before(at: datetime) -> int:
    """Open cases opened before `at` (waiting longer than now - at): a range of the open-since index."""
    rows = await open_since_before_query(at)
    return int(rows[0]["n"]) if rows else 0


def open_since_before_query(at: datetime) -> Select:
    where = (ReviewCase.state == "open") & (ReviewCase.opened_at < at)
    return ReviewCase.select(Count(ReviewCase.id, alias="n")).where(where)


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
