"""Follow-up cases: a second look at an install that leaves its state alone (QA samples, device reports)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.errors import Conflict, Invalid
from backend.events.outbox import enqueue
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.records import InstallRec
from backend.installs.service import record_event, scoped_install, transaction
from backend.principal import Principal
from backend.review import repository as repo
from backend.review.config import load_review_config
from backend.review.kinds import FOLLOWUP_KINDS, VERDICTS
from backend.review.repository import CaseRec
from backend.review.service import get_case, holds_lease
from backend.words import CASE_STATE_TEXT, stated


async def open_followup(
    install: InstallRec, kind: str, reasons: list[str], at: datetime, detail: dict[str, Any]
) -> CaseRec | None:
    """Open a follow-up case of `kind` for an install (inside the caller's transaction) unless one of that kind is already open; returns it or None."""  # noqa: E501 - the agreed contract
    if kind not in FOLLOWUP_KINDS:
        raise Invalid("review/unknown-case-kind", kind=kind, allowed=", ".join(sorted(FOLLOWUP_KINDS)))
    config = load_review_config()
    values: dict[str, Any] = {
        "state": "open",
        "reasons": reasons,
        "reason_tags": "," + ",".join(reasons) + ",",
        "risk": config.followup_risk[kind],
        "due_at": config.followup_due_at(kind, at),
        "opened_at": at,
        "claimed_by": None,
        "lease_expires_at": None,
        "approvals": [],
        "closed_at": None,
        "detail": detail,
    }
    existing = await repo.case_of_install(install.id, kind)
    if existing is None:
        connection = await installs_repo.connection_by_id(install.connection)
        assert connection is not None
        row = {
            **values,
            "install": install.id,
            "kind": kind,
            "asset_type": install.asset_type,
            "municipality": connection.city,
            "first_claimed_by": None,
        }
        # ON CONFLICT DO NOTHING: a concurrent opener of the same kind wins, this one returns None.
        return await repo.insert_case_once(row)
    if existing.state == "open":
        return None
    # Closed before: reopened with the new detail; the earlier verdicts stay in their own rows.
    return await repo.update_case(existing.id, None, values)


async def give_verdict(
    ctx: InstallContext, who: Principal, case_id: int, verdict: str, note: str, version: int
) -> CaseRec:
    """The lease holder closes a follow-up with a verdict of its kind; the install's state is untouched."""
    now = ctx.clock()
    async with transaction():
        case = await get_case(case_id)
        if case.kind not in FOLLOWUP_KINDS:
            raise Conflict("review/verdict-not-for-escalation")
        allowed = VERDICTS[case.kind]
        if verdict not in allowed:
            raise Invalid("review/unknown-verdict", verdict=verdict, kind=case.kind, allowed=", ".join(allowed))
        install = await scoped_install(who, case.install)
        if case.state != "open":
            raise Conflict("review/case-not-open", state=stated(CASE_STATE_TEXT, case.state))
        if not holds_lease(case, who, now):
            raise Conflict("review/not-lease-holder")
        closed = await repo.update_case(
            case.id, version, {"state": "closed", "closed_at": now, "claimed_by": None, "lease_expires_at": None}
        )
        if closed is None:
            raise Conflict("review/stale-version", current=case.version, extra={"current_version": case.version})
        await repo.insert_verdict(
            {
                "case": case.id,
                "install": install.id,
                "kind": case.kind,
                "verdict": verdict,
                "note": note,
                "decided_by": who.subject,
                "created_at": now,
            }
        )
        await record_event(who, "review.verdict", now, install, case_id=case.id, kind=case.kind, verdict=verdict)
        # Published, so field service (or whoever subscribes) can act on a disagreement or escalation.
        await enqueue(
            "review.verdict",
            {
                "install_id": str(install.id),
                "case_id": case.id,
                "kind": case.kind,
                "verdict": verdict,
                "decided_by": who.subject,
                "at": now.isoformat(),
            },
            now,
            ctx.settings.webhook_urls,
        )
        return closed
