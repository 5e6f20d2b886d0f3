"""Visits: a person comes by when self-service falls short (issue 13).

A specialist holding an escalation case, or the policy for an escalation the planning rule names
(visits.toml `auto_offer_reasons`), offers a visit on the customer's install with time windows; the case
leaves the queue (state `visit`). The customer picks one window; the pick makes a job at the install's
connection for the installer the offer named (else `default_installer`, else a dispatcher assigns it),
carrying the case's brief. A visit follows its job: done or cancelled, and the case is back in the queue
for a specialist to settle the customer's own install with what the visit found. An offer whose windows
all began unpicked lapses (a sweep: `lapse_round`), and its case is back in the queue too. Every change is audited
and in the outbox (`install.visit_offered`, `install.visit_planned`, `install.visit_cancelled`) in its own
transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from backend.errors import Conflict, Invalid, NotFound, RowError
from backend.events.outbox import enqueue
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.enums import InstallState
from backend.installs.flows import StateChange, StateHook
from backend.installs.records import InstallRec
from backend.installs.service import creators_install, record_event, scoped_install, transaction
from backend.installs.snapshot import InstallSnapshot, load_snapshot
from backend.jobs import repository as repo
from backend.jobs.announce import announce
from backend.jobs.enums import DISPATCHABLE, Assignee, JobState, VisitState
from backend.jobs.planning import load_planning_rule, window_faults
from backend.jobs.repository import JobRec, VisitRec
from backend.notifications.enums import Moment
from backend.notifications.service import about_install, notify
from backend.principal import Principal, Role
from backend.review import repository as review_repo
from backend.review.config import load_review_config
from backend.review.repository import CaseRec
from backend.review.service import holds_lease
from backend.words import CASE_STATE_TEXT, INSTALL_STATE_TEXT, VISIT_STATE_WORDS, stated

Window = tuple[datetime, datetime]
POLICY = Principal("automation", Role.SYSTEM)  # who offers a visit the planning rule calls for
CASE_STATE = "visit"  # an escalation case waiting on its visit: out of the queue, back when the visit ends
_FINAL = frozenset({InstallState.APPROVED, InstallState.REJECTED, InstallState.CANCELLED})
LAPSE_BATCH = 200
LAPSE_INTERVAL_S = 300.0  # a lapsed offer waits at most this long to be back in the queue


async def offer_visit(
    urls: tuple[str, ...],
    who: Principal,
    case_id: int,
    now: datetime,
    windows: list[Window] | None,
    installer: str | None,
    note: str,
) -> VisitRec:
    """The specialist holding the case offers a visit: their windows, or the planning rule's."""
    async with transaction():
        case = await review_repo.case_by_id(case_id)
        if case is None:
            raise NotFound("review/case-not-found")
        install = await scoped_install(who, case.install, for_update=True)
        if case.kind != "escalation":
            raise Conflict("visit/not-for-followup", kind=case.kind)
        if case.state != "open":
            raise Conflict("review/case-not-open", state=stated(CASE_STATE_TEXT, case.state))
        if not holds_lease(case, who, now):
            raise Conflict("review/not-lease-holder")
        if install.state != InstallState.IN_REVIEW:
            raise Conflict("visit/install-not-in-review", state=stated(INSTALL_STATE_TEXT, install.state))
        if install.created_by_role != Role.CUSTOMER:
            raise Conflict("visit/not-a-customer-install")
        if windows is None:
            windows = load_planning_rule().windows(now)
        if not windows:
            raise Invalid("visit/no-windows")
        faults = [f for n, (start, end) in enumerate(windows, 1) for f in _offered_window_faults(n, start, end, now)]
        if faults:
            raise Invalid("visit/windows-invalid", rows=faults)
        return await _offer(urls, who, install, case, list(install.reasons), windows, installer, note, now)


def _offered_window_faults(line: int, start: datetime, end: datetime, now: datetime) -> list[RowError]:
    """A job window's fault, or that it has begun: a customer cannot pick a window already running (a job's
    may be created while its window runs). One fault a window (a window that is over was said twice)."""
    return window_faults(line, start, end, now) or (
        [RowError(line, "window-past", "window_start")] if start <= now else []
    )


async def _offer(
    urls: tuple[str, ...],
    who: Principal,
    install: InstallRec,
    case: CaseRec,
    reasons: list[str],
    windows: list[Window],
    installer: str | None,
    note: str,
    now: datetime,
) -> VisitRec:
    if await repo.live_visit(install.id) is not None:
        raise Conflict("visit/already-offered")
    ordered = sorted({(s.astimezone(UTC), e.astimezone(UTC)) for s, e in windows})
    snap = await load_snapshot(install)
    visit = await repo.insert_visit(
        {
            "install": install.id,
            "case_id": case.id,
            "state": VisitState.OFFERED.value,
            "windows": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in ordered],
            "installer_subject": installer or load_planning_rule().default_installer or None,
            "brief": _brief(snap, reasons, note),
            "offered_by": who.subject,
            "created_at": now,
            "updated_at": now,
        }
    )
    await review_repo.update_case(case.id, None, {"state": CASE_STATE, "claimed_by": None, "lease_expires_at": None})
    facts = {"visit_id": visit.id, "case_id": case.id, "windows": len(ordered)}
    await record_event(who, "visit.offered", now, install, **facts)
    await enqueue(
        "install.visit_offered",
        {
            "install_id": str(install.id),
            **facts,
            "ean": snap.connection.ean,
            "customer_ref": install.customer_subject,  # by reference only, as every install event
            "first_window_start": ordered[0][0].isoformat(),
            "actor_role": who.role.value,
            "at": now.isoformat(),
        },
        now,
        urls,
    )
    return visit


def _brief(snap: InstallSnapshot, reasons: list[str], note: str) -> dict[str, Any]:
    """What the installer is shown of the case: its reasons, what the checks still found wrong, the serial
    and reading the customer gave, the specialist's note. Never the photos or the customer's messages."""
    failing = [
        {"check": c.check_name, "subject": c.subject, "status": c.status, "fix": c.fix, "fix_params": c.fix_params}
        for c in snap.checks
        if c.status != "pass"
    ]
    return {
        "reasons": reasons,
        "checks": failing,
        "serial": snap.asset.serial if snap.asset else None,
        "reading": snap.install.reading,
        "note": note,
    }


def visit_hook(urls: tuple[str, ...]) -> StateHook:
    """The install-state flow of visits (after the review hook, which opens the case): an escalation the
    planning rule names gets a visit offered at once; an install settled meanwhile cancels its live visit
    and the visit's job if it has not begun."""

    async def on_state_change(change: StateChange) -> None:
        if not change.state_changed:
            return
        install = change.install
        if change.to_state == InstallState.IN_REVIEW:
            if install.created_by_role != Role.CUSTOMER or not load_planning_rule().offers_on(change.reasons):
                return
            case = await review_repo.case_of_install(install.id)
            if case is None or case.state != "open" or await repo.live_visit(install.id) is not None:
                return
            windows = load_planning_rule().windows(change.at)
            await _offer(urls, POLICY, install, case, change.reasons, windows, None, "", change.at)
        elif InstallState(change.to_state) in _FINAL:
            visit = await repo.live_visit(install.id)
            if visit is not None:
                await _cancel(urls, change.actor, visit, install, change.at)

    return on_state_change


async def _cancel(urls: tuple[str, ...], who: Principal, visit: VisitRec, install: InstallRec, at: datetime) -> None:
    """The customer's install was settled: the visit is off, and its job with it unless it has begun."""
    if visit.job is not None:
        await _cancel_job(urls, who, visit.job, at)
    await _move(visit, VisitState.CANCELLED, at)
    await record_event(who, "visit.cancelled", at, install, visit_id=visit.id)
    await _announce_cancelled(urls, who, visit, install, at, "install-settled")


async def _cancel_job(urls: tuple[str, ...], who: Principal, job_id: int, at: datetime) -> None:
    """Cancel the visit's job unless it has begun. A dispatcher's change meanwhile (an assign) is no
    reason to refuse the customer's own cancel: re-read the job and cancel it if it is still not begun."""
    while (job := await repo.job_by_id(job_id)) is not None and JobState(job.state) in DISPATCHABLE:
        if await repo.update_job(job.id, job.version, {"state": JobState.CANCELLED, "updated_at": at}):
            await announce(urls, who, "job.cancelled", at, job.id, job.state, JobState.CANCELLED, reason="visit")
            return


async def _announce_cancelled(
    urls: tuple[str, ...], who: Principal, visit: VisitRec, install: InstallRec, at: datetime, reason: str
) -> None:
    """`install.visit_cancelled` in the outbox, with what its siblings carry; `reason`: install-settled (the
    install was decided or withdrawn) or no-window-picked (every offered window began unpicked)."""
    connection = await installs_repo.connection_by_id(install.connection)
    assert connection is not None  # a foreign key
    payload = {
        "install_id": str(install.id),
        "visit_id": visit.id,
        "case_id": visit.case_id,
        "ean": connection.ean,
        "customer_ref": install.customer_subject,  # by reference only, as every install event
        "reason": reason,
        "actor_role": who.role.value,
        "at": at.isoformat(),
    }
    await enqueue("install.visit_cancelled", payload, at, urls)


async def lapse_offers(ctx: InstallContext, now: datetime) -> int:
    """Offered visits whose last window has begun unpicked can no longer be picked nor offered again: each
    is cancelled and its case is back in the queue (`open`, due per the SLA from now) for a specialist to
    settle the install or offer new windows; the customer's timeline says so. One short transaction a
    visit; safe on many workers (the visit's compare-and-set lets one of them do it). Returns how many."""
    lapsed, after = 0, 0
    while True:
        batch = await repo.offered_visits(after, LAPSE_BATCH)
        for visit in batch:
            if max(w.start for w in visit.windows) <= now:
                lapsed += await _lapse(ctx.settings.webhook_urls, visit, now)
        if len(batch) < LAPSE_BATCH:
            return lapsed
        after = batch[-1].id


async def _lapse(urls: tuple[str, ...], visit: VisitRec, now: datetime) -> int:
    async with transaction():
        install = await scoped_install(POLICY, visit.install, for_update=True)
        lapsed = {"state": VisitState.CANCELLED.value, "updated_at": now}
        if not await repo.update_visit(visit.id, visit.version, lapsed):
            return 0  # picked, settled or lapsed by another worker meanwhile
        await record_event(POLICY, "visit.lapsed", now, install, visit_id=visit.id)
        await _announce_cancelled(urls, POLICY, visit, install, now, "no-window-picked")
        case = await review_repo.case_by_id(visit.case_id) if visit.case_id is not None else None
        if case is not None and case.state == CASE_STATE:
            due = load_review_config().due_at(now, case.reasons)
            await review_repo.update_case(case.id, None, {"state": "open", "due_at": due})
        return 1


async def lapse_round(ctx: InstallContext) -> str | None:
    """One round of the lifespan's loop (backend/periodic.py): how many offers lapsed, if any."""
    lapsed = await lapse_offers(ctx, ctx.clock())
    return f"{lapsed} unpicked visits lapsed" if lapsed else None


async def end_visit(job: JobRec, to_state: JobState, at: datetime) -> None:
    """A visit's job is done or cancelled (backend/jobs/service.py): so is the visit, and its case is back in
    the queue, where a specialist settles the customer's own install with what the visit found."""
    visit = await repo.visit_by_job(job.id)
    if visit is None or visit.state != VisitState.PLANNED:
        return
    await _move(visit, VisitState.DONE if to_state is JobState.DONE else VisitState.CANCELLED, at)
    if visit.case_id is not None:
        case = await review_repo.case_by_id(visit.case_id)
        if case is not None and case.state == CASE_STATE:
            await review_repo.update_case(case.id, None, {"state": "open"})


async def _move(visit: VisitRec, to_state: VisitState, at: datetime) -> None:
    if not await repo.update_visit(visit.id, visit.version, {"state": to_state.value, "updated_at": at}):
        raise Conflict("visit/changed")


async def latest_visit(install_id: uuid.UUID) -> VisitRec | None:
    """The install's latest visit, for the specialist's case page."""
    return await repo.latest_visit(install_id)


async def customer_visit(who: Principal, install_id: uuid.UUID) -> VisitRec:
    """The caller's install's latest visit, or 404 (another's install is not even said to exist)."""
    install = await scoped_install(who, install_id)
    visit = await repo.latest_visit(install.id)
    if visit is None:
        raise NotFound("visit/not-found")
    return visit


async def pick_window(
    urls: tuple[str, ...], who: Principal, install_id: uuid.UUID, start: datetime, end: datetime, now: datetime
) -> VisitRec:
    """The customer picks one of the offered windows, before it begins: the visit is planned and its job
    made, assigned to the installer the offer named. The same window again is a retry; another is refused
    (re-planning goes through a person: ask for help). Only the install's creator picks (require_creator)."""
    async with transaction():
        install = await creators_install(who, install_id)
        visit = await repo.latest_visit(install.id)
        if visit is None:
            raise NotFound("visit/not-found")
        picked = (start.astimezone(UTC), end.astimezone(UTC))
        if visit.state == VisitState.PLANNED and picked == (visit.window_start, visit.window_end):
            return visit
        if visit.state != VisitState.OFFERED:
            raise Conflict("visit/not-open", state=stated(VISIT_STATE_WORDS, visit.state))
        if picked not in {(w.start, w.end) for w in visit.windows}:
            raise Invalid("visit/window-not-offered")
        if picked[0] <= now:
            raise Invalid("visit/window-passed")
        assignee = Assignee.INSTALLER if visit.installer_subject else None
        state = JobState.ASSIGNED if assignee else JobState.PLANNED
        job_id = await repo.insert_job(
            {
                "connection": install.connection,
                "asset_type": install.asset_type,
                "asset": None,  # the installer brings and scans the meter; the customer's scan is in the brief
                "window_start": picked[0],
                "window_end": picked[1],
                "assignee": assignee,
                "installer_subject": visit.installer_subject,
                "state": state.value,
                "created_by": who.subject,
                "created_at": now,
                "updated_at": now,
            }
        )
        values = {"state": VisitState.PLANNED.value, "window_start": picked[0], "window_end": picked[1], "job": job_id}
        if not await repo.update_visit(visit.id, visit.version, {**values, "updated_at": now}):
            raise Conflict("visit/changed")
        job = await repo.job_by_id(job_id)
        assert job is not None
        await announce(urls, who, "job.created", now, job_id, None, state, ean=job.ean, visit_id=visit.id)
        facts = {"visit_id": visit.id, "job_id": job_id, "window_start": picked[0].isoformat()}
        await record_event(who, "visit.planned", now, install, **facts, window_end=picked[1].isoformat())
        await enqueue(
            "install.visit_planned",
            {
                "install_id": str(install.id),
                **facts,
                "window_end": picked[1].isoformat(),
                "ean": job.ean,
                "customer_ref": install.customer_subject,
                "installer_assigned": assignee is not None,
                "actor_role": who.role.value,
                "at": now.isoformat(),
            },
            now,
            urls,
        )
        about = await about_install(install)
        if about is not None:  # the customer is told when, in words, in their language (backend/notifications)
            window = {"window_start": picked[0].isoformat(), "window_end": picked[1].isoformat()}
            facts = {**about.facts, **window}
            await notify(
                Moment.VISIT_PLANNED, install.id, about.customer, now, facts, event=f"visit/{visit.id}/planned"
            )
        planned = await repo.latest_visit(install.id)
        assert planned is not None
        return planned


async def visits_of_jobs(jobs: list[JobRec]) -> dict[int, VisitRec]:
    """The visits these jobs were made for (an installer's list shows their briefs)."""
    return await repo.visits_by_jobs([j.id for j in jobs])
