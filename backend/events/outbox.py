"""Enqueue domain events in the caller's transaction: never lost, never sent for a rollback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.events import repository as repo
from backend.installs.flows import StateChange, StateHook

# Install states that other systems hear about, and the event each one announces.
STATE_EVENTS = {
    "approved": "install.approved",
    "in_review": "install.escalated",
    "rejected": "install.rejected",
    "needs_retake": "install.retake_requested",
    "cancelled": "install.cancelled",
}


async def enqueue(event_type: str, payload: dict[str, Any], at: datetime, urls: tuple[str, ...]) -> uuid.UUID:
    """Store the event and one pending delivery per webhook URL (inside the current transaction)."""
    event_id = uuid.uuid4()
    await repo.insert_event(event_id, event_type, payload, at, urls)
    return event_id


def outbox_hook(urls: tuple[str, ...]) -> StateHook:
    """The install-state flow that announces approvals, escalations, rejections..."""

    async def on_state_change(change: StateChange) -> None:
        event_type = STATE_EVENTS.get(change.to_state)
        if event_type is None or not change.state_changed:
            return
        payload = {
            "install_id": str(change.install.id),
            "asset_type": change.install.asset_type,
            "from_state": change.install.state,
            "to_state": change.to_state,
            "reasons": change.reasons,
            "actor_role": change.actor.role.value,
            "at": change.at.isoformat(),
        }
        await enqueue(event_type, payload, change.at, urls)

    return on_state_change
