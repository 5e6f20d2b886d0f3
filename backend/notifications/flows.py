"""The install-state flow that tells the customer: a decision, or something to redo; and what a specialist asks.

It runs in the change's transaction like every flow, so the message exists exactly when the change
committed. A specialist's decision is recorded before the state changes (review.service.decide), so
the reason in words and their message are read here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.installs import repository as installs_repo
from backend.installs.conversation import Ask
from backend.installs.flows import StateChange
from backend.installs.records import InstallRec
from backend.notifications.enums import Moment
from backend.notifications.service import about_install, notify, remember_provider_email
from backend.principal import Role
from backend.review.config import load_review_config

# A new state and the review outcome whose reason codes word it.
_DECIDED = {"approved": "approve", "rejected": "reject"}


def _moment(change: StateChange) -> Moment | None:
    if change.to_state == "approved":
        return Moment.APPROVED
    if change.to_state == "rejected":
        return Moment.REJECTED
    # A retake is for whoever makes the install: the customer's own, not an installer's. A specialist's
    # request for information is told with what it asks (tell_asked, from review.info).
    if change.to_state == "needs_retake" and change.actor.role is not Role.SPECIALIST:
        return Moment.RETAKE_NEEDED if change.install.created_by_role == Role.CUSTOMER.value else None
    return None


async def _decision_words(change: StateChange) -> dict[str, Any]:
    """A specialist's reason in words (both languages) and their own message, if this change is theirs."""
    decisions = await installs_repo.decisions_of(change.install.id)
    last = decisions[-1] if decisions else None
    if last is None or last.created_at != change.at or last.decided_by == "automation" or not last.reason_code:
        return {}
    return _words(_DECIDED[change.to_state], last.reason_code, last.message)


def _words(outcome: str, reason_code: str, message: str | None) -> dict[str, Any]:
    words = load_review_config().reason_codes[outcome].get(reason_code)
    facts: dict[str, Any] = {"reasons": [{"nl": words[0], "en": words[1]}]} if words else {}
    if message:
        facts["message"] = message
    return facts


async def tell_asked(
    install: InstallRec, request_id: int, reason_code: str, asked: Ask, message: str | None, at: datetime
) -> None:
    """A specialist's request for information, with what it asks (an extra photo, a question), in the
    request's own transaction (review.info); once per request."""
    about = await about_install(install)
    if about is None:
        return
    facts = {**about.facts, **_words("request_info", reason_code, message)}
    if asked.photo_label:
        facts["photo_label"] = asked.photo_label
    if asked.question:
        facts["question"] = asked.question
    await notify(Moment.INFO_REQUESTED, install.id, about.customer, at, facts, event=f"info/{request_id}")


async def on_state_change(change: StateChange) -> None:
    """Tell the install's customer about its decision, a retake or a specialist's question."""
    if change.actor.role is Role.CUSTOMER:
        await remember_provider_email(change.actor, change.at)
    moment = _moment(change) if change.state_changed else None
    if moment is None:
        return
    about = await about_install(change.install)
    if about is not None:
        facts = {**about.facts, **await _decision_words(change)}
        await notify(moment, change.install.id, about.customer, change.at, facts)
