"""Every query of the notifications domain. Callers own the transaction (`insert_notifications` runs in
the transaction of the change it tells)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.notifications.enums import Delivery
from backend.notifications.tables import Notification, NotificationPreference


class NotificationRec(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    event: str
    channel: str
    moment: str
    install: uuid.UUID | None
    subject: str
    facts: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    recipient: str | None
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime


class PreferenceRec(msgspec.Struct, frozen=True, kw_only=True):
    subject: str
    email: str | None
    email_pending: str | None
    provider_email: str | None
    language: str
    moments: list[str]
    email_enabled: bool
    updated_at: datetime


# --- the outbox -----------------------------------------------------------------------------------


async def insert_notifications(rows: list[dict[str, Any]]) -> None:
    """One row per channel; an (event, channel) already told is left as it is (UNIQUE index)."""
    await Notification.insert(*[Notification(**row) for row in rows]).on_conflict(
        target=(Notification.event, Notification.channel), action="DO NOTHING"
    )


def _due(now: datetime, channels: tuple[str, ...]) -> Any:
    return (
        (Notification.state == Delivery.PENDING.value)
        & (Notification.next_attempt_at <= now)
        & Notification.channel.is_in(list(channels))
        & (Notification.locked_until.is_null() | (Notification.locked_until < now))
    )


async def due(now: datetime, channels: tuple[str, ...], limit: int) -> list[NotificationRec]:
    """Pending notifications on these channels whose time has come and that no worker holds, oldest first."""
    rows = await (
        Notification.select()
        .where(_due(now, channels))
        .order_by(Notification.next_attempt_at)
        .limit(limit)
        .output(load_json=True)
    )
    return [msgspec.convert(r, NotificationRec, strict=False) for r in rows]


async def take(notification_id: uuid.UUID, now: datetime, lease: timedelta, channels: tuple[str, ...]) -> bool:
    """Hold one for this worker: a compare-and-set that re-checks it is still due, so two workers never
    send it at once (the same SQL on both engines)."""
    rows = await (
        Notification.update({Notification.locked_until: now + lease})
        .where((Notification.id == notification_id) & _due(now, channels))
        .returning(Notification.id)
    )
    return bool(rows)


async def finish(notification_id: uuid.UUID, state: Delivery, attempts: int, **values: Any) -> None:
    """Its outcome: sent (with recipient and time), skipped or failed (with why)."""
    await Notification.update(
        {
            Notification.state: state.value,
            Notification.attempts: attempts,
            Notification.locked_until: None,
            **{getattr(Notification, k): v for k, v in values.items()},
        }
    ).where(Notification.id == notification_id)


async def retry_at(notification_id: uuid.UUID, attempts: int, at: datetime, error: str) -> None:
    await Notification.update(
        {
            Notification.attempts: attempts,
            Notification.next_attempt_at: at,
            Notification.locked_until: None,
            Notification.last_error: error[:500],
        }
    ).where(Notification.id == notification_id)


async def errands_since(subject: str, errand: str, since: datetime) -> int:
    """How many `errand` messages a customer caused since `since` (notifications_subject)."""
    return await Notification.count().where(
        (Notification.subject == subject) & (Notification.created_at >= since) & (Notification.moment == errand)
    )


class Backlog(msgspec.Struct, frozen=True, kw_only=True):
    pending: int
    failing: int  # pending after a failed attempt
    oldest_pending_at: datetime | None


async def backlog() -> Backlog:
    """What is still to send (the partial index of pending rows), and since when."""
    pending = Notification.state == Delivery.PENDING.value
    oldest = (
        await Notification.select(Notification.created_at).where(pending).order_by(Notification.created_at).limit(1)
    )
    return Backlog(
        pending=await Notification.count().where(pending),
        failing=await Notification.count().where(pending & (Notification.attempts > 0)),
        oldest_pending_at=oldest[0]["created_at"] if oldest else None,
    )


# --- preferences ----------------------------------------------------------------------------------


async def preference(subject: str) -> PreferenceRec | None:
    rows = await NotificationPreference.select().where(NotificationPreference.subject == subject).output(load_json=True)
    return msgspec.convert(rows[0], PreferenceRec, strict=False) if rows else None


async def upsert_preference(subject: str, values: dict[str, Any], update: tuple[str, ...]) -> None:
    """Insert the customer's row with `values`, or, if they have one, set only the columns `update` names
    to those values (one statement: concurrent first writes of one customer cannot both insert)."""
    columns = [getattr(NotificationPreference, k) for k in update]
    await NotificationPreference.insert(NotificationPreference(subject=subject, **values)).on_conflict(
        target=NotificationPreference.subject, action="DO UPDATE", values=columns
    )
