"""What to tell a customer, written in the transaction of what happened; their preferences; unsubscribing.

`notify` is what other domains call. It only writes rows (one per channel): whether and where a
message goes is decided when it is sent (backend/notifications/sender.py), so an unsubscribe or a new
address counts for what is still pending."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.errors import Conflict, TooManyRequests
from backend.installs import repository as installs_repo
from backend.installs.catalog import load_catalog
from backend.installs.records import InstallRec
from backend.installs.service import transaction
from backend.notifications import repository as repo
from backend.notifications.enums import Delivery, Errand, Moment
from backend.notifications.repository import PreferenceRec
from backend.notifications.tokens import address_of, subject_of
from backend.principal import Principal

# The channels a notification is written for. A channel added here (SMS, push) gets its own row per
# event, delivered once its sender is configured (sender.channels_from).
CHANNELS = ("email",)
EVERY_MOMENT = [m.value for m in Moment]
# Typed addresses a customer may have checked a day: each check mails a stranger's address if they
# mistype (or mean harm), so a customer cannot make us a mailer for anyone.
ADDRESS_CHECKS_A_DAY = 5


async def notify(
    moment: Moment | Errand,
    install_id: uuid.UUID | None,
    customer_subject: str,
    at: datetime,
    facts: dict[str, Any],
    event: str | None = None,
    channels: tuple[str, ...] = CHANNELS,
) -> None:
    """Tell the customer about `moment`, once per channel, inside the caller's transaction. `event`
    names what is told (an outbox event id, say); the same event again writes nothing. By default it
    is the moment, install and time: one message per moment of an install at one time."""
    key = event or f"{moment.value}/{install_id}/{at.isoformat()}"
    await repo.insert_notifications(
        [
            {
                "id": uuid.uuid4(),
                "event": key,
                "channel": channel,
                "moment": moment.value,
                "install": install_id,
                "subject": customer_subject,
                "facts": facts,
                "state": Delivery.PENDING.value,
                "next_attempt_at": at,
                "created_at": at,
            }
            for channel in channels
        ]
    )


@dataclass(frozen=True, slots=True)
class InstallFacts:
    """Who is told about an install, and the words every message about it uses."""

    customer: str
    facts: dict[str, Any]


async def about_install(install: InstallRec) -> InstallFacts | None:
    """The install's customer (the connection's owner when it was made: a later occupant is never told)
    and what and where it is, in words; None without a customer (an installer's job at a connection no
    customer had claimed)."""
    if install.customer_subject is None:
        return None
    connection = await installs_repo.connection_by_id(install.connection)
    if connection is None:
        return None
    spec = load_catalog().types.get(install.asset_type)
    what = {"nl": spec.label_nl, "en": spec.label_en} if spec else install.asset_type
    where = f"{connection.street} {connection.house_number}{connection.house_number_suffix}, {connection.city}"
    return InstallFacts(install.customer_subject, {"what": what, "where": where})


# --- preferences ----------------------------------------------------------------------------------


def default_preference(who: Principal, now: datetime) -> PreferenceRec:
    """What a customer without a row gets: every moment, in Dutch, to their identity provider's address."""
    return PreferenceRec(
        subject=who.subject,
        email=None,
        email_pending=None,
        provider_email=who.email,
        language="nl",
        moments=EVERY_MOMENT,
        email_enabled=True,
        updated_at=now,
    )


async def preference_of(who: Principal, now: datetime) -> PreferenceRec:
    """The caller's own preferences (no one reads another's); the token's address where none is stored."""
    stored = await repo.preference(who.subject)
    if stored is None:
        return default_preference(who, now)
    if stored.provider_email is None and who.email:
        return msgspec.structs.replace(stored, provider_email=who.email)
    return stored


async def set_preference(
    who: Principal, email: str | None, language: str, moments: list[Moment], email_enabled: bool, now: datetime
) -> PreferenceRec:
    """Replace the caller's own preferences (PUT); the token's address is remembered beside them.

    An address the customer types is only used once they follow the link we mail to it (an address
    check, `confirm_address`): until then messages go where they went, so a typo never sends their
    installs' news to a stranger. Their checked address or their account's is used at once; null
    goes back to the account's."""
    values: dict[str, Any] = {
        "language": language,
        "moments": sorted({m.value for m in moments}, key=EVERY_MOMENT.index),
        "email_enabled": email_enabled,
        "updated_at": now,
    }
    if who.email:
        values["provider_email"] = who.email
    async with transaction():
        stored = await repo.preference(who.subject)
        pending = stored.email_pending if stored else None
        in_use = (stored and (stored.email or stored.provider_email)) or who.email
        checked = {who.email, *((stored.email, stored.provider_email) if stored else ())} - {None}
        if pending is not None and email is not None and email == in_use:
            pass  # the address in use sent back beside other changes (the GET's view PUT again): the check stands
        elif email is None or email in checked:
            values |= {"email": email, "email_pending": None}
        else:
            values["email_pending"] = email
            if email != pending:  # the address already waiting has its message: a PUT again sends none
                await _ask_to_check(who.subject, email, now)
        await repo.upsert_preference(who.subject, values, tuple(values))
    return await preference_of(who, now)


async def _ask_to_check(subject: str, address: str, now: datetime) -> None:
    """Mail `address` its check link (sender.py makes the link): a message of its own each time it is newly
    typed (typed again after another one, its earlier message may have been skipped), at most
    ADDRESS_CHECKS_A_DAY a day, then 429."""
    if await repo.errands_since(subject, Errand.ADDRESS_CHECK, now - timedelta(days=1)) >= ADDRESS_CHECKS_A_DAY:
        raise TooManyRequests("notifications/too-many-address-checks", limit=ADDRESS_CHECKS_A_DAY)
    event = f"{Errand.ADDRESS_CHECK.value}/{subject}/{address}/{now.isoformat()}"
    await notify(Errand.ADDRESS_CHECK, None, subject, now, {"address": address}, event, channels=("email",))


async def confirm_address(secret: str, token: str, now: datetime) -> str:
    """The customer followed the link: the address it names becomes theirs, if it is still the one they
    asked for (a later change, or no change at all, makes an older link do nothing). Idempotent. Returns
    the address; 409 `notifications/address-link-superseded` when another address was asked since."""
    subject, address = address_of(secret, token, now)
    async with transaction():
        stored = await repo.preference(subject)
        if stored is not None and stored.email == address:
            return address  # followed twice
        if stored is None or stored.email_pending != address:
            raise Conflict("notifications/address-link-superseded")
        await repo.upsert_preference(
            subject,
            {"email": address, "email_pending": None, "updated_at": now},
            ("email", "email_pending", "updated_at"),
        )
    return address


async def remember_provider_email(who: Principal, now: datetime) -> None:
    """Keep the address the customer's token carries, for the messages sent when they are not there (a
    specialist's decision). Runs inside the caller's transaction; a customer's own address wins anyway."""
    if not who.email:
        return
    stored = await repo.preference(who.subject)
    if stored is not None and stored.provider_email == who.email:
        return
    values = {"provider_email": who.email, "moments": EVERY_MOMENT, "updated_at": now}
    await repo.upsert_preference(who.subject, values, ("provider_email", "updated_at"))


async def unsubscribe(secret: str, token: str, now: datetime) -> str:
    """Stop e-mail to the customer the token was made for (idempotent); returns their subject."""
    subject = subject_of(secret, token)
    async with transaction():
        await repo.upsert_preference(
            subject,
            {"email_enabled": False, "moments": EVERY_MOMENT, "updated_at": now},
            ("email_enabled", "updated_at"),
        )
    return subject
