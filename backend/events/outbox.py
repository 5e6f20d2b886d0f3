"""Enqueue domain events in the caller's transaction: never lost, never sent for a rollback."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from backend.events import repository as repo
from backend.installs.flows import RegistryChange, RegistryHook, StateChange, StateHook

# Install states that other systems hear about, and the event each one announces.
STATE_EVENTS = {
    "approved": "install.approved",
    "in_review": "install.escalated",
    "rejected": "install.rejected",
    "needs_retake": "install.retake_requested",
    "cancelled": "install.cancelled",
}
# Every event type a subscription may ask for (a new `enqueue` type is added here, or no filter can name it).
# Connection and asset changes other systems hear about (backend/installs: RegistryChange); a refused claim
# stays on the audit trail only.
REGISTRY_EVENTS = frozenset(
    {"connection.claimed", "connection.released", "connection.reassigned", "asset.retired", "asset.swapped"}
)
EVENT_TYPES = frozenset(
    {
        *STATE_EVENTS.values(),
        "install.confirmed",  # backend/integrations/flows.py: the device itself reported in
        "install.info_requested",  # backend/review/info.py
        "install.visit_offered",  # backend/jobs/visits.py
        "install.visit_planned",
        "install.visit_cancelled",
        "review.decided",
        "review.first_approval",
        "review.verdict",
        "job.created",
        "job.assigned",
        "job.started",
        "job.done",
        "job.cancelled",
        *REGISTRY_EVENTS,
    }
)


async def enqueue(event_type: str, payload: dict[str, Any], at: datetime, urls: tuple[str, ...]) -> uuid.UUID:
    """Store the event and one pending delivery per receiver (inside the current transaction): each of
    `urls` (WEBHOOK_URLS: every event) and each subscription that asks for this type."""
    event_id = uuid.uuid4()
    await repo.insert_event(event_id, event_type, payload, at, urls)
    return event_id


def outbox_hook(urls: tuple[str, ...]) -> StateHook:
    """The install-state flow that announces approvals, escalations, rejections... with the facts a
    registry or billing acts on, read in the change's transaction."""

    async def on_state_change(change: StateChange) -> None:
        event_type = STATE_EVENTS.get(change.to_state)
        if event_type is None or not change.state_changed:
            return
        facts = await repo.install_facts(change.install.id)
        payload = {
            "install_id": str(change.install.id),
            "ean": facts.ean,
            "asset_type": change.install.asset_type,
            "serial": facts.serial,  # the scanned meter, once a label was scanned
            "reading": change.install.reading,  # kWh, as the installer or customer typed it
            # The asset's installation moment: set by the approval in this same transaction.
            "installed_at": facts.installed_at.isoformat()
            if facts.installed_at and event_type == "install.approved"
            else None,
            # The customer by reference only: the install's customer (its customer_subject, kept when they move
            # out), never a name, address, e-mail or their messages (a receiver that needs more asks its own
            # customer system).
            "customer_ref": facts.customer_subject,
            "created_by_role": change.install.created_by_role,  # customer (self-install) or installer
            "from_state": change.install.state,
            "to_state": change.to_state,
            "reasons": change.reasons,
            "actor_role": change.actor.role.value,
            "at": change.at.isoformat(),
        }
        await enqueue(event_type, payload, change.at, urls)

    return on_state_change


def registry_hook(urls: tuple[str, ...]) -> RegistryHook:
    """The flow that announces a connection claimed, released or handed over, an asset retired or swapped:
    the facts (EANs, serials, customers by reference), never the admin's reason."""

    async def on_registry_change(change: RegistryChange) -> None:
        if change.action in REGISTRY_EVENTS:
            payload = {**change.facts, "actor_role": change.actor.role.value, "at": change.at.isoformat()}
            await enqueue(change.action, payload, change.at, urls)

    return on_registry_change
