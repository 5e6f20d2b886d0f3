"""Review use cases: the queue, claims with leases, decisions. Only specialists reach these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from backend.errors import Conflict, Invalid, NotFound
from backend.events.outbox import enqueue
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.conversation import Ask
from backend.installs.placement import place_or_refuse, refuse_unplaceable
from backend.installs.records import CheckRec, EventRec, FixRec, InstallRec, PhotoRec
from backend.installs.service import record_event, save_install, scoped_install, transaction
from backend.installs.snapshot import InstallSnapshot, load_snapshot
from backend.principal import Principal
from backend.review import repository as repo
from backend.review.config import load_review_config
from backend.review.info import info_requested
from backend.review.repository import CaseRec, VerdictRec
from backend.validation.results import Reason
from backend.words import CASE_STATE_TEXT, stated

DecisionOutcome = Literal["approve", "reject", "request_info"]


@dataclass(frozen=True, slots=True)
class QueuePage:
    cases: list[CaseRec]
    next_after: tuple[datetime, int, int] | None
    counts: dict[str, int]
    depth: int  # open cases in the whole queue
    oldest_opened_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: CaseRec
    snapshot: InstallSnapshot
    all_photos: list[PhotoRec]  # retaken ones too
    all_checks: list[CheckRec]  # every attempt
    fixes: list[FixRec]
    events: list[EventRec]
    verdicts: list[VerdictRec]  # follow-up verdicts given on this case


async def queue(
    limit: int,
    after: tuple[datetime, int, int] | None,
    reason: str | None,
    asset_type: str | None,
    municipality: str | None,
    now: datetime,
    kind: str | None = None,
) -> QueuePage:
    """Open cases by due time then risk, with counts per reason over the whole queue."""
    rows = await repo.queue(now, limit + 1, after, reason, asset_type, municipality, kind)
    page = rows[:limit]
    nxt = (page[-1].due_at, page[-1].risk, page[-1].id) if len(rows) > limit else None
    counts = {r.value: 0 for r in Reason}
    depth = 0
    for (case_kind, case_reason), n in (await repo.queue_counts()).items():
        if not case_reason:
            depth += n
        elif case_kind == "escalation":  # follow-ups carry their own reasons; the counts are the escalations'
            counts[case_reason] = counts.get(case_reason, 0) + n
    return QueuePage(cases=page, next_after=nxt, counts=counts, depth=depth, oldest_opened_at=await repo.oldest_open())


async def get_case(case_id: int) -> CaseRec:
    """The case or 404."""
    case = await repo.case_by_id(case_id)
    if case is None:
        raise NotFound("review/case-not-found")
    return case


async def case_detail(who: Principal, case_id: int) -> CaseDetail:
    """Everything the automation saw, for one case."""
    case = await get_case(case_id)
    install = await scoped_install(who, case.install)
    return CaseDetail(
        case=case,
        snapshot=await load_snapshot(install),
        all_photos=await installs_repo.photos_of(install.id, current_only=False),
        all_checks=await installs_repo.checks_of(install.id),
        fixes=await installs_repo.fixes_of(install.id),
        events=await installs_repo.events_of(install.id),
        verdicts=await repo.verdicts_of_case(case.id),
    )


def holds_lease(case: CaseRec, who: Principal, now: datetime) -> bool:
    """`who` holds an unexpired lease on the case."""
    return case.claimed_by == who.subject and case.lease_expires_at is not None and case.lease_expires_at > now


async def claim(ctx: InstallContext, who: Principal, case_id: int) -> CaseRec:
    """Take (or renew) the lease; exactly one of many concurrent claimers wins, the rest get 409."""
    now = ctx.clock()
    lease_until = now + timedelta(minutes=load_review_config().lease_minutes)
    async with transaction():
        won = await repo.try_claim(case_id, who.subject, now, lease_until)
        if won is None:
            case = await get_case(case_id)
            if case.state != "open":
                raise Conflict("review/case-not-open", state=stated(CASE_STATE_TEXT, case.state))
            raise Conflict(
                "review/claimed-by-other",
                holder=case.claimed_by,
                until=case.lease_expires_at.isoformat() if case.lease_expires_at else "",
                extra={"holder": case.claimed_by, "lease_expires_at": case.lease_expires_at},
            )
        if who.subject in won.approvals:
            # Four eyes: the second pair decides. Holding the lease, the first approver would only keep the
            # others from it (for its whole length); undone with the claim by leaving the transaction.
            raise Conflict("review/second-approver-required")
        if won.first_claimed_by is None:
            won = await repo.update_case(won.id, won.version, {"first_claimed_by": who.subject}) or won
        install = await installs_repo.install_by_id(won.install)
        # The customer's timeline tells of an escalation's claim; a follow-up's is internal.
        action = "review.claimed" if won.kind == "escalation" else "review.followup-claimed"
        await record_event(who, action, now, install, case_id=won.id, lease_expires_at=lease_until.isoformat())
        return won


async def release(ctx: InstallContext, who: Principal, case_id: int) -> CaseRec:
    """Give the case back to the queue before the lease runs out."""
    now = ctx.clock()
    async with transaction():
        case = await get_case(case_id)
        if not holds_lease(case, who, now):
            raise Conflict("review/not-lease-holder")
        released = await repo.update_case(case.id, case.version, {"claimed_by": None, "lease_expires_at": None})
        if released is None:
            raise Conflict("review/stale-version", current=case.version + 1)
        await record_event(
            who, "review.released", now, await installs_repo.install_by_id(case.install), case_id=case.id
        )
        return released


def _check_reason_code(outcome: DecisionOutcome, reason_code: str) -> None:
    codes = load_review_config().reason_codes[outcome]
    if reason_code not in codes:
        raise Invalid(
            "review/unknown-reason-code", reason_code=reason_code, outcome=outcome, allowed=", ".join(sorted(codes))
        )


async def decide(
    ctx: InstallContext,
    who: Principal,
    case_id: int,
    outcome: DecisionOutcome,
    reason_code: str,
    note: str,
    message: str,
    version: int,
    asked: Ask | None = None,
) -> CaseRec:
    """The lease holder decides; a stale `version` is refused; approval_required needs two approvers.
    A request for information may ask for an extra photo and/or a question (`asked`)."""
    _check_reason_code(outcome, reason_code)
    if asked is not None and asked != Ask() and outcome != "request_info":
        raise Invalid("review/ask-needs-request-info", outcome=outcome)
    now = ctx.clock()
    config = load_review_config()
    async with transaction():
        # Lock the install first, then read the case: a concurrent decision on the same case waits
        # here and then finds it decided (PostgreSQL; SQLite's IMMEDIATE transaction serialises).
        case = await get_case(case_id)
        if case.kind != "escalation":  # follow-ups leave the install alone: they take a verdict
            raise Conflict("review/decision-not-for-followup", kind=case.kind)
        install = await scoped_install(who, case.install, for_update=True)
        case = await get_case(case_id)
        if case.state != "open":
            raise Conflict("review/case-not-open", state=stated(CASE_STATE_TEXT, case.state))
        if not holds_lease(case, who, now):
            raise Conflict("review/not-lease-holder")
        if case.version != version:
            raise Conflict("review/stale-version", current=case.version, extra={"current_version": case.version})
        customer_text = message or None  # without one, the customer sees the reason code's words
        earlier = await installs_repo.decisions_of(install.id)
        if earlier and earlier[-1].outcome == "rejected" and earlier[-1].decided_by == who.subject:
            # Back after an objection (a rejection is final otherwise): another specialist judges it.
            raise Conflict("review/objection-needs-another-specialist")
        decision: dict[str, Any] = {
            "install": install.id,
            "attempt": len(earlier) + 1,
            "reasons": [reason_code],
            "policy_version": f"review-{config.version}",
            "decided_by": who.subject,
            "reason_code": reason_code,
            "note": note or None,
            "message": customer_text,
            "created_at": now,
        }
        if outcome == "approve" and Reason.APPROVAL_REQUIRED.value in case.reasons and not case.approvals:
            # Four eyes: the first approval is recorded and the case goes back to the queue for another,
            # if an approval could place the asset at all (else the second specialist would be asked in vain).
            await refuse_unplaceable(ctx, install, _scanned_asset(install))
            updated = await repo.update_case(
                case.id, case.version, {"approvals": [who.subject], "claimed_by": None, "lease_expires_at": None}
            )
            await installs_repo.insert_decision({**decision, "outcome": "first_approval", "message": None})
            await record_event(who, "review.first-approval", now, install, case_id=case.id, reason_code=reason_code)
            await enqueue(
                "review.first_approval",
                {
                    "install_id": str(install.id),
                    "case_id": case.id,
                    "reason_code": reason_code,
                    "decided_by": who.subject,
                    "at": now.isoformat(),
                },
                now,
                ctx.settings.webhook_urls,
            )
            assert updated is not None
            return updated
        if outcome == "approve" and who.subject in case.approvals:
            raise Conflict("review/second-approver-required")
        to_state = {"approve": "approved", "reject": "rejected"}.get(outcome, "needs_retake")
        # Recorded before the change, so its state hooks (the customer's notification) can read why.
        await installs_repo.insert_decision({**decision, "outcome": to_state})
        if outcome == "approve":
            await place_or_refuse(ctx, install, _scanned_asset(install), now)
            await save_install(ctx, who, install, now, state="approved", decided_at=now, customer_message=customer_text)
        elif outcome == "reject":
            await save_install(ctx, who, install, now, state="rejected", decided_at=now, customer_message=customer_text)
        else:  # request_info: back to the customer, who acts and resubmits; the case waits for them
            await repo.update_case(
                case.id, None, {"state": "waiting_customer", "claimed_by": None, "lease_expires_at": None}
            )
            await save_install(
                ctx, who, install, now, state="needs_retake", awaiting_info=True, customer_message=customer_text
            )
            await info_requested(ctx, who, install, case.id, reason_code, asked or Ask(), customer_text, now)
        await record_event(
            who,
            "review.decided",
            now,
            install,
            to_state=to_state,
            case_id=case.id,
            outcome=outcome,
            reason_code=reason_code,
        )
        await enqueue(
            "review.decided",
            {
                "install_id": str(install.id),
                "case_id": case.id,
                "outcome": outcome,
                "reason_code": reason_code,
                "decided_by": who.subject,
                "at": now.isoformat(),
            },
            now,
            ctx.settings.webhook_urls,
        )
        closed = await repo.case_by_id(case.id)
        assert closed is not None
        return closed


def _scanned_asset(install: InstallRec) -> int:
    """The asset an approval places (installs.placement: refused in words where the registry cannot hold it
    there: installed elsewhere, retired, or the connection holds another of its kind); 409 without one."""
    if install.asset is None:
        raise Conflict("review/no-asset")
    return install.asset


async def original_photo(case_id: int, photo_id: int) -> PhotoRec:
    """A photo of the case's install, for its original bytes (EXIF included)."""
    case = await get_case(case_id)
    photo = await installs_repo.photo_by_id(case.install, photo_id)
    if photo is None:
        raise NotFound("review/case-not-found")
    return photo
