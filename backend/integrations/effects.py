"""What a device report does to the install it concerns (inside the report's transaction)."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.i18n import N_
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.placement import place
from backend.installs.records import InstallRec
from backend.installs.service import record_event, save_checks, save_install
from backend.integrations import repository as repo
from backend.integrations.flows import confirm
from backend.integrations.repository import ReportRec
from backend.principal import Principal
from backend.review.followups import open_followup
from backend.validation.results import CheckResult, Reason, Status, ordered


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # an approved install's device reported in at its connection
    AUTO_APPROVED = "auto_approved"  # an install in review approved on this report (policy [device])
    ALREADY_CONFIRMED = "already_confirmed"  # a later report of a confirmed install: nothing to do
    NOTED = "noted"  # an install not yet decided: kept as evidence; its approval confirms it
    DEVICE_MISMATCH = "device_mismatch"  # the device is not where its install says: suspected fraud
    READING_MISMATCH = "reading_mismatch"  # the reported reading is far from the one the customer typed
    UNMATCHED = "unmatched"  # neither the serial nor the connection belongs to any install


@dataclass(slots=True)
class Effects:
    outcomes: list[Outcome]
    install: uuid.UUID | None = None  # the install the report was matched to
    flagged: list[uuid.UUID] = field(default_factory=list)  # installs it cast doubt on
    reading_difference_kwh: float | None = None


UNDECIDED = frozenset({"draft", "needs_retake", "in_review"})
# Reasons a device's own report can settle: the automation was unsure, or self-service ran out
# of tries. Fraud, a person asked for, approval or specialist knowledge stay with a specialist.
SETTLED_BY_DEVICE = frozenset({Reason.UNCERTAIN.value, Reason.COMPLEXITY.value})


def _report_facts(report: ReportRec) -> dict[str, Any]:
    return {
        "report_id": report.report_id,
        "reported_serial": report.device_serial,
        "source": report.source,
        "reported_at": report.reported_at.isoformat(),
    }


async def _latest_attempt(install: InstallRec) -> int:
    """The attempt of the install's latest install-level checks: a line added there is read with them."""
    return max((c.attempt for c in await installs_repo.checks_of(install.id) if c.photo is None), default=0)


async def _evidence_line(install: InstallRec, result: CheckResult, at: datetime) -> None:
    await save_checks(install.id, await _latest_attempt(install), [result], at, {})


def _match_line(report: ReportRec, difference: float | None, far: bool, threshold: float) -> CheckResult:
    evidence = {
        **_report_facts(report),
        "reported_at_this_connection": True,
        "import_kwh": report.import_kwh,
        "reading_difference_kwh": difference,
        "max_reading_difference_kwh": threshold,
    }
    if not far:
        return CheckResult(
            check="device_report",
            subject="device",
            status=Status.PASS,
            confidence=1.0,
            evidence=evidence,
            user_fixable=False,
        )
    return CheckResult(
        check="device_report",
        subject="reading",
        status=Status.FAIL,
        confidence=0.8,
        evidence=evidence,
        user_fixable=False,
        fix=N_("The reading the meter reports itself is far from the one entered."),
    )


async def matched(
    ctx: InstallContext, who: Principal, install: InstallRec, report: ReportRec, repeat: bool, now: datetime
) -> Effects:
    """The serial reports at the connection of the install that scanned it (`repeat`: not for the
    first time, so an agreeing report adds no evidence line)."""
    urls, policy = ctx.settings.webhook_urls, ctx.policy.device
    difference = (
        round(report.import_kwh - install.reading, 3)
        if report.import_kwh is not None and install.reading is not None
        else None
    )
    far = difference is not None and abs(difference) > policy.max_reading_difference_kwh
    if install.state == "approved":
        if await repo.confirmed_at(install.id) is not None:
            # A meter keeps counting: later readings say nothing about the one typed at install time.
            return Effects([Outcome.ALREADY_CONFIRMED], install.id)
        await confirm(urls, install, report, now)
        if not far:
            return Effects([Outcome.CONFIRMED], install.id, reading_difference_kwh=difference)
        line = _match_line(report, difference, far, policy.max_reading_difference_kwh)
        await _evidence_line(install, line, now)
        await open_followup(install, "reading_mismatch", [Reason.UNCERTAIN.value], now, line.evidence)
        return Effects([Outcome.CONFIRMED, Outcome.READING_MISMATCH], install.id, reading_difference_kwh=difference)
    line = _match_line(report, difference, far, policy.max_reading_difference_kwh)
    if install.state in UNDECIDED and (far or not repeat):
        await _evidence_line(install, line, now)
    settles = install.state == "in_review" and install.reasons and set(install.reasons) <= SETTLED_BY_DEVICE
    approvable = settles and policy.auto_approve_in_review and not far and install.asset is not None
    if approvable and await _auto_approve(ctx, who, install, install.asset, report, now):
        return Effects([Outcome.AUTO_APPROVED, Outcome.CONFIRMED], install.id, reading_difference_kwh=difference)
    if far or not repeat:
        await record_event(who, "device.reported", now, install, **line.evidence)
    outcomes = [Outcome.NOTED, Outcome.READING_MISMATCH] if far else [Outcome.NOTED]
    return Effects(outcomes, install.id, reading_difference_kwh=difference)


async def _auto_approve(
    ctx: InstallContext, who: Principal, install: InstallRec, asset_id: int, report: ReportRec, now: datetime
) -> bool:
    """Approve as a specialist would, with the report as the deciding evidence; the approval's
    flows close the case, announce it and confirm the install (flows.confirmation_hook). False, nothing
    written, when the asset can no longer be placed at the install's connection (installs.placement):
    then it stays with a specialist."""
    if not await place(ctx, install, asset_id, now):
        return False
    decisions = await installs_repo.decisions_of(install.id)
    await installs_repo.insert_decision(
        {
            "install": install.id,
            "attempt": len(decisions) + 1,
            "outcome": "approved",
            "reasons": ["device_report"],
            "policy_version": ctx.policy.version,
            "decided_by": who.subject,
            "created_at": now,
        }
    )
    await record_event(
        who,
        "install.device-approved",
        now,
        install,
        to_state="approved",
        report_id=report.report_id,
        settled_reasons=install.reasons,
        policy_version=ctx.policy.version,
        asset_type=install.asset_type,
    )
    await save_install(ctx, who, install, now, state="approved", decided_at=now)
    return True


async def mismatch(
    ctx: InstallContext, who: Principal, install: InstallRec, report: ReportRec, reported_here: bool, now: datetime
) -> bool:
    """The report contradicts the install: its device reports elsewhere (`reported_here` False), or
    another device reports at its connection. Suspected fraud: a reason while the install is
    undecided, a follow-up case once approved. False if there is nothing to flag."""
    asset = await installs_repo.asset_by_id(install.asset) if install.asset is not None else None
    # Only what the install's own parties may know: never the other connection's EAN.
    evidence = {
        **_report_facts(report),
        "scanned_serial": asset.serial if asset else None,
        "reported_at_this_connection": reported_here,
    }
    line = CheckResult(
        check="device_report",
        subject="device",
        status=Status.FAIL,
        confidence=0.9,
        evidence=evidence,
        user_fixable=False,
        escalate_as=Reason.SUSPECTED_FRAUD,
    )
    if install.state in UNDECIDED:
        await _evidence_line(install, line, now)
        reasons = [r.value for r in ordered({Reason(r) for r in install.reasons} | {Reason.SUSPECTED_FRAUD})]
        if reasons != install.reasons:
            # In review the case takes the reason on (review flows); a draft carries it into its
            # submit as a standing reason, so it cannot be approved automatically.
            await save_install(ctx, who, install, now, reasons=reasons)
    elif install.state == "approved":
        await _evidence_line(install, line, now)
        await open_followup(install, "device_mismatch", [Reason.SUSPECTED_FRAUD.value], now, evidence)
    else:
        return False
    await record_event(who, "device.mismatch", now, install, **evidence)
    return True
