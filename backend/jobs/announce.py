"""A job's or visit's change in the audit log and the outbox, in the change's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.events.outbox import enqueue
from backend.installs.service import record_event
from backend.principal import Principal


async def announce(
    urls: tuple[str, ...],
    who: Principal,
    action: str,
    at: datetime,
    job_id: int,
    from_state: str | None,
    to_state: str,
    **detail: Any,
) -> None:
    """The change in the audit log and, for other systems, in the outbox (the caller's transaction)."""
    facts = {"job": job_id, "from": from_state, "to": str(to_state), **detail}
    await record_event(who, action, at, **facts)
    await enqueue(action, {**facts, "actor_role": who.role.value, "at": at.isoformat()}, at, urls)
