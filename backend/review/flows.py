"""The install-state flow of the review domain: escalations open (or reopen) a case in the queue."""

from __future__ import annotations

from backend.installs import repository as installs_repo
from backend.installs.flows import StateChange
from backend.review import repository as repo
from backend.review.config import load_review_config
from backend.review.followups import open_followup
from backend.review.kinds import CaseKind
from backend.validation.results import Reason

_FINAL = frozenset({"approved", "rejected", "cancelled"})


async def on_state_change(change: StateChange) -> None:
    """In the install's transaction: to in_review opens the case; a final state closes it; a request
    for a person after the decision opens (or reopens) a customer_help follow-up."""
    if change.to_state in _FINAL and not change.state_changed:
        if Reason.HUMAN_REQUESTED.value in change.reasons:
            await open_followup(
                change.install, CaseKind.CUSTOMER_HELP.value, [Reason.HUMAN_REQUESTED.value], change.at, {}
            )
        return
    case = await repo.case_of_install(change.install.id)
    if change.to_state == "in_review" and not change.state_changed and case is not None:
        # New reasons while in review (a request for a person): the case takes them on, keeps its
        # claim, and becomes due no later than before.
        config = load_review_config()
        due = min(case.due_at, config.due_at(change.at, change.reasons))
        await repo.update_case(
            case.id,
            None,
            {
                "reasons": change.reasons,
                "due_at": due,
                "reason_tags": "," + ",".join(change.reasons) + ",",
                "risk": config.risk(change.reasons),
            },
        )
    elif change.to_state == "in_review":
        config = load_review_config()
        values = {
            "state": "open",
            "reasons": change.reasons,
            "reason_tags": "," + ",".join(change.reasons) + ",",
            "risk": config.risk(change.reasons),
            "due_at": config.due_at(change.at, change.reasons),
            "opened_at": change.at,
            "claimed_by": None,
            "lease_expires_at": None,
            "approvals": [],
            "closed_at": None,
        }
        if case is None:
            connection = await installs_repo.connection_by_id(change.install.connection)
            assert connection is not None
            await repo.insert_case(
                {
                    **values,
                    "install": change.install.id,
                    "asset_type": change.install.asset_type,
                    "municipality": connection.city,
                    "first_claimed_by": None,
                }
            )
        else:  # back in the queue with its history (earlier decisions and events stay)
            await repo.update_case(case.id, None, values)
    elif change.to_state in _FINAL and case is not None and case.state != "closed":
        await repo.update_case(
            case.id, None, {"state": "closed", "closed_at": change.at, "claimed_by": None, "lease_expires_at": None}
        )
