"""Every query of the quality domain: known answers, calibration answers and their counts."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from backend.quality.tables import CalibrationAnswer, KnownAnswer


class KnownAnswerRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    case: int
    install: uuid.UUID
    expected: str
    deciders: list[str]
    marked_by: str
    marked_at: datetime
    retired_at: datetime | None


class CalibrationAnswerRec(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    known_answer: int
    specialist: str
    answer: str
    agreed: bool
    created_at: datetime


def _known(rows: list[dict[str, Any]]) -> KnownAnswerRec | None:
    if not rows:
        return None
    row = dict(rows[0])
    if isinstance(row["deciders"], str):  # RETURNING hands JSON back as text
        row["deciders"] = msgspec.json.decode(row["deciders"])
    return msgspec.convert(row, KnownAnswerRec, strict=False)


async def known_answer_by_id(known_answer_id: int) -> KnownAnswerRec | None:
    query = KnownAnswer.select().where(KnownAnswer.id == known_answer_id).output(load_json=True)
    return _known(await query)


async def known_answer_of_case(case_id: int) -> KnownAnswerRec | None:
    return _known(await KnownAnswer.select().where(KnownAnswer.case == case_id).output(load_json=True))


async def insert_known_answer(row: dict[str, Any]) -> KnownAnswerRec | None:
    """Insert unless the case is a known answer already (then None): one statement on both engines."""
    rows = (
        await KnownAnswer.insert(KnownAnswer(**row))
        .on_conflict(target=KnownAnswer.case, action="DO NOTHING")
        .returning(*KnownAnswer.all_columns())
    )
    return _known(rows)


async def update_known_answer(known_answer_id: int, values: dict[str, Any]) -> KnownAnswerRec | None:
    columns = {getattr(KnownAnswer, k): v for k, v in values.items()}
    rows = (
        await KnownAnswer.update(columns).where(KnownAnswer.id == known_answer_id).returning(*KnownAnswer.all_columns())
    )
    return _known(rows)


async def active_known_answers(limit: int, after_id: int | None) -> list[KnownAnswerRec]:
    """Known answers not retired, by id; keyset pagination (retired_at is indexed)."""
    where = KnownAnswer.retired_at.is_null()
    if after_id is not None:
        where &= KnownAnswer.id > after_id
    query = KnownAnswer.select().where(where).order_by(KnownAnswer.id).limit(limit).output(load_json=True)
    return [k for r in await query if (k := _known([r])) is not None]


async def unanswered_by(specialist: str, limit: int, after_id: int | None) -> list[KnownAnswerRec]:
    """Active known answers `specialist` has not answered yet, by id (deciders are filtered by the caller)."""
    answered = CalibrationAnswer.select(CalibrationAnswer.known_answer).where(
        CalibrationAnswer.specialist == specialist
    )
    where = KnownAnswer.retired_at.is_null() & KnownAnswer.id.not_in(answered)
    if after_id is not None:
        where &= KnownAnswer.id > after_id
    query = KnownAnswer.select().where(where).order_by(KnownAnswer.id).limit(limit).output(load_json=True)
    return [k for r in await query if (k := _known([r])) is not None]


async def answer_counts(known_answer_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{known answer id: (answers, agreed)} for the given ids."""
    if not known_answer_ids:
        return {}
    rows = (
        await CalibrationAnswer.select(CalibrationAnswer.known_answer, CalibrationAnswer.agreed, Count(alias="n"))
        .where(CalibrationAnswer.known_answer.is_in(known_answer_ids))
        .group_by(CalibrationAnswer.known_answer, CalibrationAnswer.agreed)
    )
    counts: dict[int, tuple[int, int]] = {}
    for r in rows:
        answers, agreed = counts.get(r["known_answer"], (0, 0))
        counts[r["known_answer"]] = (answers + r["n"], agreed + (r["n"] if r["agreed"] else 0))
    return counts


async def insert_answer_once(row: dict[str, Any]) -> CalibrationAnswerRec | None:
    """Insert unless this specialist answered this known answer already (then None)."""
    rows = (
        await CalibrationAnswer.insert(CalibrationAnswer(**row))
        .on_conflict(target=(CalibrationAnswer.known_answer, CalibrationAnswer.specialist), action="DO NOTHING")
        .returning(*CalibrationAnswer.all_columns())
    )
    return msgspec.convert(rows[0], CalibrationAnswerRec, strict=False) if rows else None


async def answers_by(specialist: str) -> int:
    """How many known answers `specialist` has answered (the specialist column is indexed)."""
    return await CalibrationAnswer.count().where(CalibrationAnswer.specialist == specialist)


async def agreement_by_specialist() -> dict[str, tuple[int, int]]:
    """{specialist: (answers, agreed)} over every calibration answer ever given."""
    rows = await CalibrationAnswer.select(
        CalibrationAnswer.specialist, CalibrationAnswer.agreed, Count(alias="n")
    ).group_by(CalibrationAnswer.specialist, CalibrationAnswer.agreed)
    out: dict[str, tuple[int, int]] = {}
    for r in rows:
        answers, agreed = out.get(r["specialist"], (0, 0))
        out[r["specialist"]] = (answers + r["n"], agreed + (r["n"] if r["agreed"] else 0))
    return out


async def active_count() -> int:
    """Known answers in service."""
    return await KnownAnswer.count().where(KnownAnswer.retired_at.is_null())
