"""Quality use cases: mark known answers, serve them blind to specialists, record their agreement."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from backend.errors import Conflict, Forbidden, NotFound
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.records import PhotoRec
from backend.installs.service import record_event, scoped_install, transaction
from backend.principal import Principal
from backend.quality import repository as repo
from backend.quality.repository import CalibrationAnswerRec, KnownAnswerRec
from backend.review import repository as review_repo
from backend.review.repository import CaseRec
from backend.review.service import CaseDetail, case_detail

# The final decision of a case, as a specialist's outcome (request_info never closes a case).
_EXPECTED = {"approved": "approve", "rejected": "reject"}
CALIBRATION_WINDOW_S = 600
_BATCH = 50


@dataclass(frozen=True, slots=True)
class KnownAnswerPage:
    items: list[KnownAnswerRec]
    counts: dict[int, tuple[int, int]]  # id -> (answers, agreed)
    next_after: int | None


def _not_a_known_answer(why: str) -> Conflict:
    return Conflict("quality/not-a-known-answer", why=why)


async def mark_known_answer(ctx: InstallContext, who: Principal, case_id: int) -> KnownAnswerRec:
    """A closed escalation decided by a specialist becomes a known answer; its final decision is expected."""
    now = ctx.clock()
    async with transaction():
        case = await review_repo.case_by_id(case_id)
        if case is None:
            raise NotFound("review/case-not-found")
        if case.kind != "escalation":
            raise _not_a_known_answer(f"kind {case.kind}")
        if case.state != "closed":
            raise _not_a_known_answer(f"state {case.state}")
        decisions = await installs_repo.decisions_of(case.install)
        by_specialists = [d for d in decisions if d.policy_version.startswith("review-")]
        final = decisions[-1] if decisions else None
        if final is None or final not in by_specialists or final.outcome not in _EXPECTED:
            raise _not_a_known_answer("no final decision by a specialist")
        existing = await repo.known_answer_of_case(case.id)
        values = {
            "expected": _EXPECTED[final.outcome],
            "deciders": sorted({d.decided_by for d in by_specialists}),
            "marked_by": who.subject,
            "marked_at": now,
            "retired_at": None,
        }
        if existing is not None and existing.retired_at is None:
            raise Conflict("quality/known-answer-exists", known_answer_id=existing.id)
        if existing is not None:  # marked again after retirement: its earlier answers still count
            marked = await repo.update_known_answer(existing.id, values)
        else:
            marked = await repo.insert_known_answer({**values, "case": case.id, "install": case.install})
        if marked is None:  # a concurrent admin marked it first
            raise Conflict("quality/known-answer-exists", known_answer_id=0)
        install = await scoped_install(who, case.install)
        await record_event(who, "quality.known-answer", now, install, case_id=case.id, known_answer_id=marked.id)
        return marked


async def retire_known_answer(ctx: InstallContext, who: Principal, known_answer_id: int) -> None:
    """No longer served; the answers already given keep counting."""
    async with transaction():
        known = await repo.known_answer_by_id(known_answer_id)
        if known is None or known.retired_at is not None:
            raise NotFound("quality/known-answer-not-found")
        now = ctx.clock()
        await repo.update_known_answer(known.id, {"retired_at": now})
        install = await scoped_install(who, known.install)
        await record_event(who, "quality.known-answer-retired", now, install, known_answer_id=known.id)


async def list_known_answers(limit: int, after: int | None) -> KnownAnswerPage:
    """Active known answers by id, with how often they were answered and agreed with."""
    rows = await repo.active_known_answers(limit + 1, after)
    page = rows[:limit]
    return KnownAnswerPage(
        items=page,
        counts=await repo.answer_counts([k.id for k in page]),
        next_after=page[-1].id if len(rows) > limit else None,
    )


def _served(subject: str, window: int, answered: int, share: float) -> bool:
    digest = hashlib.sha256(f"{subject}|{window}|{answered}".encode()).digest()
    return int.from_bytes(digest, "big") / 2**256 < share


async def calibration_for(ctx: InstallContext, who: Principal) -> tuple[KnownAnswerRec, CaseRec] | None:
    """The known answer to serve `who` now, if any, never one `who` decided or answered. Whether one is
    served is sha256(subject, 10-minute window, answers given so far) < share: reproducible, stable while
    the page is reloaded, and a fresh draw once the specialist answers (so a served window rarely repeats)."""
    window = int(ctx.clock().timestamp()) // CALIBRATION_WINDOW_S
    answered = await repo.answers_by(who.subject)
    if not _served(who.subject, window, answered, ctx.policy.quality.known_answer_share):
        return None
    after = None
    while batch := await repo.unanswered_by(who.subject, _BATCH, after):
        for known in batch:
            if who.subject not in known.deciders:
                case = await review_repo.case_by_id(known.case)
                assert case is not None  # known answers cascade with their case
                return known, case
        after = batch[-1].id
    return None


async def _servable(who: Principal, known_answer_id: int) -> KnownAnswerRec:
    known = await repo.known_answer_by_id(known_answer_id)
    if known is None or known.retired_at is not None:
        raise NotFound("quality/known-answer-not-found")
    if who.subject in known.deciders:
        raise Forbidden("quality/own-known-answer")
    return known


async def calibration_detail(who: Principal, known_answer_id: int) -> tuple[KnownAnswerRec, CaseDetail]:
    """The evidence of a known answer, for a blind answer (the view leaves out the decision)."""
    known = await _servable(who, known_answer_id)
    return known, await case_detail(who, known.case)


async def calibration_photo(who: Principal, known_answer_id: int, photo_id: int) -> PhotoRec:
    """A photo of a known answer's install, for its original bytes (EXIF included)."""
    known = await _servable(who, known_answer_id)
    photo = await installs_repo.photo_by_id(known.install, photo_id)
    if photo is None:
        raise NotFound("quality/known-answer-not-found")
    return photo


async def answer(
    ctx: InstallContext, who: Principal, known_answer_id: int, outcome: str
) -> tuple[KnownAnswerRec, CalibrationAnswerRec]:
    """Record a blind answer and whether it agrees with the expected outcome; the install is untouched."""
    async with transaction():
        known = await _servable(who, known_answer_id)
        recorded = await repo.insert_answer_once(
            {
                "known_answer": known.id,
                "specialist": who.subject,
                "answer": outcome,
                "agreed": outcome == known.expected,
                "created_at": ctx.clock(),
            }
        )
        if recorded is None:
            raise Conflict("quality/already-answered")
        return known, recorded


async def agreement() -> dict[str, tuple[int, int]]:
    """{specialist: (answers, agreed)} over every calibration answer."""
    return await repo.agreement_by_specialist()
