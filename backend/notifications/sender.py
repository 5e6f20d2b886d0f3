"""Deliver pending notifications: one round of the background loop (backend/periodic.every).

At least once, never twice at once: a worker holds a row by a compare-and-set on `locked_until` before
sending, so two workers never send it together; it is marked sent after the channel accepted it. If a
worker dies between the two (the SMTP server said 250, our UPDATE never ran), the row is taken again
once its lease ends and sent again, with the same Message-ID: the one case in which a customer can get
a message twice, and the id lets their mail store tell it is the same one. A message is never lost: it
was written in the transaction of what it tells, and stays pending until a channel accepts it, refuses
it for good, or it grows too old to be worth sending (NOTIFY_MAX_AGE_S)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from backend.notifications import repository as repo
from backend.notifications.channels import Channel, Outgoing, PermanentFailure, TemporaryFailure
from backend.notifications.enums import Delivery, Errand, Moment
from backend.notifications.repository import NotificationRec
from backend.notifications.service import default_preference
from backend.notifications.smtp import EmailChannel
from backend.notifications.texts import render, render_address_check
from backend.notifications.tokens import address_token, unsubscribe_token
from backend.principal import Principal, Role
from backend.settings import Settings

log = logging.getLogger("selfinstall")

BATCH = 50  # rows one round takes at most; the next round takes the rest
FIRST_RETRY_S = 30.0
MAX_RETRY_S = 3600.0
UNSUBSCRIBE_PATH = "/notifications/v1/unsubscribe"
ADDRESS_PATH = "/notifications/v1/address"


def channels_from(settings: Settings) -> dict[str, Channel]:
    """The channels this deployment sends on: e-mail once SMTP_HOST is set, none otherwise (messages are
    still written, and wait for a channel)."""
    return {"email": EmailChannel(settings)} if settings.smtp_host else {}


def backoff(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    return timedelta(seconds=min(FIRST_RETRY_S * 2 ** (attempts - 1), MAX_RETRY_S))


def unsubscribe_url(settings: Settings, subject: str) -> str:
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}?token={unsubscribe_token(settings.unsubscribe_secret, subject)}"


def address_url(settings: Settings, subject: str, address: str, asked_at: datetime) -> str:
    token = address_token(settings.unsubscribe_secret, subject, address, asked_at)
    return f"{settings.public_url}{ADDRESS_PATH}?token={token}"


async def send_round(settings: Settings, channels: Mapping[str, Channel], clock: Callable[[], datetime]) -> str | None:
    """Send what is due on the configured channels; what it did, for the log (None: nothing was due).
    The clock is read afresh for each row: a slow server makes a round long, and a lease counted from
    the round's start could have run out when the row is taken, so another worker would send it too."""
    if not channels:
        return None
    names = tuple(channels)
    lease = timedelta(seconds=settings.smtp_timeout_s * 2 + 30)  # longer than any one send can take
    counts: dict[str, int] = {}
    for row in await repo.due(clock(), names, BATCH):
        if not await repo.take(row.id, clock(), lease, names):
            continue  # another worker has it
        outcome = await _deliver(settings, channels[row.channel], row, clock)
        counts[outcome] = counts.get(outcome, 0) + 1
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or None


async def _deliver(settings: Settings, channel: Channel, row: NotificationRec, clock: Callable[[], datetime]) -> str:
    attempts = row.attempts + 1
    now = clock()
    if now - row.created_at > timedelta(seconds=settings.notify_max_age_s):
        await repo.finish(row.id, Delivery.FAILED, attempts - 1, last_error="too old to send")
        return "expired"
    preference = await repo.preference(row.subject) or default_preference(Principal(row.subject, Role.CUSTOMER), now)
    link: str | None
    if row.moment == Errand.ADDRESS_CHECK:  # to the address typed, whatever else is chosen: they asked for it
        to, link = row.facts["address"], None
        if preference.email_pending != to:  # confirmed already, or another address typed since
            await repo.finish(row.id, Delivery.SKIPPED, attempts - 1, last_error="address no longer asked")
            return "skipped"
        subject, body = render_address_check(
            preference.language, address_url(settings, row.subject, to, row.created_at)
        )
    else:
        if row.moment not in preference.moments:
            await repo.finish(row.id, Delivery.SKIPPED, attempts - 1, last_error="moment switched off")
            return "skipped"
        address = channel.address(preference)
        if address is None:
            why = "unsubscribed" if not preference.email_enabled else "no address"
            await repo.finish(row.id, Delivery.SKIPPED, attempts - 1, last_error=why)
            return "skipped"
        to, link = address, unsubscribe_url(settings, row.subject)
        subject, body = render(Moment(row.moment), row.facts, preference.language, link)
    try:
        await channel.send(Outgoing(row.id, to, preference.language, subject, body, link))
    except TemporaryFailure as failure:
        await repo.retry_at(row.id, attempts, clock() + backoff(attempts), str(failure))
        log.warning("notification %s not sent yet (attempt %d): %s", row.id, attempts, failure)
        return "to retry"
    except PermanentFailure as failure:
        await repo.finish(row.id, Delivery.FAILED, attempts, last_error=str(failure)[:500], recipient=to)
        log.warning("notification %s refused for good: %s", row.id, failure)
        return "failed"
    await repo.finish(row.id, Delivery.SENT, attempts, recipient=to, sent_at=clock(), last_error=None)
    return "sent"
