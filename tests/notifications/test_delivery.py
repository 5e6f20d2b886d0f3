"""End to end: an install's moment through the API -> a notification row in the same transaction -> the
sender -> a real SMTP server (aiosmtpd) that shows what a customer would receive."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.notifications.channels import Channel, Outgoing
from backend.notifications.sender import send_round, unsubscribe_url
from backend.notifications.texts import window_words
from backend.principal import Role
from tests.factories import Factory
from tests.helpers.clock import Ticking
from tests.helpers.review import case_id_of, decided, helped, install_in
from tests.integrations.helpers import approved, body, reported, submitted, system
from tests.jobs.test_visits import offered_by_specialist, pick, visit_of
from tests.mobile_api.helpers import Draft, create, locate, ready_install
from tests.notifications.conftest import Inbox, Mail
from tests.notifications.helpers import address, body_of, prefer, told, with_email


class TestApproved:
    async def test_a_dutch_customer_gets_one_dutch_email(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to, "nl")
        await submitted(client, d, "approved")
        [row] = await told(d.id)
        assert (row.moment, row.state, row.subject) == ("approved", "pending", d.who.subject)

        await mail.drain()
        [message] = inbox.to(to)
        assert message["To"] == to
        assert message["Subject"] == "Uw installatie is goedgekeurd"
        text = body_of(message)
        assert "Goed nieuws: uw installatie van de slimme meter (1-fase) aan Jansbinnensingel 14, Arnhem" in text
        link = unsubscribe_url(mail.settings, d.who.subject)
        assert f"Meld u af: {link}" in text
        assert message["List-Unsubscribe"] == f"<{link}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        [raw] = inbox.raw_to(to)  # on the wire as a plain <URL> a mail client reads, not an encoded word
        assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in raw
        assert message["Content-Language"] == "nl"
        assert message["Message-ID"] == f"<{row.id}@localhost>"
        [sent] = await told(d.id)
        assert (sent.state, sent.recipient, sent.attempts) == ("sent", to, 1)

        await mail.drain()  # nothing is sent twice, whatever runs again
        assert len(inbox.to(to)) == 1

    async def test_an_english_customer_gets_english(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to, "en")
        await submitted(client, d, "approved")
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Your install is approved"
        assert "Good news: your install of the smart meter (single phase) at Jansbinnensingel 14" in body_of(message)
        assert "Unsubscribe: http" in body_of(message) and message["Content-Language"] == "en"

    async def test_the_address_of_the_customers_token_is_used_until_they_set_one(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        """The token's `email` claim is remembered when the customer acts (submit), for later messages."""
        d = await ready_install(client, make)
        to = address()
        d.who.headers = with_email(make.settings, d.who.subject, to)
        await submitted(client, d, "approved")
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Uw installatie is goedgekeurd"


class TestRejected:
    async def test_the_reason_and_the_specialists_words_are_in_the_email(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await install_in(client, make)
        to = address()
        await prefer(client, d.who, to, "nl")
        await helped(client, d)
        spec = make.party(Role.SPECIALIST)
        await decided(
            client,
            spec,
            await case_id_of(d.id),
            "reject",
            "unsafe_installation",
            message_to_customer="De kabel ligt los.",
        )
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Uw installatie is afgekeurd"
        text = body_of(message)
        assert "De reden:\n- De installatie is niet veilig." in text
        assert "De specialist schrijft:\nDe kabel ligt los." in text
        assert "nieuwe installatie beginnen of bezwaar maken" in text
        assert spec.subject not in text  # a specialist decides, never by name

    async def test_in_english_too(self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail) -> None:
        d = await install_in(client, make)
        to = address()
        await prefer(client, d.who, to, "en")
        await helped(client, d)
        await decided(client, make.party(Role.SPECIALIST), await case_id_of(d.id), "reject", "wrong_asset")
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Your install was rejected"
        assert "The reason:\n- The installed asset is not the right one." in body_of(message)


class TestOtherMoments:
    async def test_a_specialists_request_for_information(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await install_in(client, make)
        to = address()
        await prefer(client, d.who, to)
        await helped(client, d)
        await decided(
            client,
            make.party(Role.SPECIALIST),
            await case_id_of(d.id),
            "request_info",
            "photo_unclear",
            extra_photo="een foto van de aardlekschakelaar",
            question="Zit de meter in een afgesloten kast?",
        )
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "We hebben iets van u nodig"
        text = body_of(message)
        assert "- Een foto is niet duidelijk genoeg." in text
        assert "De vraag:\nZit de meter in een afgesloten kast?" in text
        assert "Stuur deze extra foto:\neen foto van de aardlekschakelaar" in text
        assert [r.moment for r in await told(d.id)] == ["info_requested"]  # told once, with what is asked

    async def test_an_installers_retake_is_not_the_customers(self, client: AsyncClient, make: Factory) -> None:
        """The customer owns the connection, but the installer's install is the installer's to redo."""
        customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=customer.subject)
        r = await create(client, installer, ean)
        assert r.status_code == 201, r.text
        d = Draft(who=installer, id=r.json()["id"], ean=ean, asset_type="smart_meter_1p")
        assert (await locate(client, d, make.fix())).status_code == 200
        await submitted(client, d, "needs_retake")  # no photos yet: fixable
        assert await told(d.id) == []

    async def test_a_retake_asked_by_the_automation(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make, skip=("cabinet_overview",))
        to = address()
        await prefer(client, d.who, to)
        await submitted(client, d, "needs_retake")
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Er moet iets opnieuw bij uw installatie"
        assert "Open de app" in body_of(message)

    async def test_a_visit_planned_says_when(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d, _, _, _ = await offered_by_specialist(client, make)
        to = address()
        await prefer(client, d.who, to, "en")
        window = (await visit_of(client, d))["windows"][0]
        assert (await pick(client, d, window)).status_code == 200
        assert (await pick(client, d, window)).status_code == 200  # the same pick again: told once
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "An installer is coming"
        start, end = (datetime.fromisoformat(window[k]) for k in ("window_start", "window_end"))
        assert f"When: {window_words(start, end, 'en')}." in body_of(message)
        assert " between " in window_words(start, end, "en")

    async def test_the_device_confirmed(self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail) -> None:
        d = await approved(client, make)
        to = address()
        await prefer(client, d.who, to, moments=["device_confirmed"])  # approval switched off: only this one
        await reported(client, system(make), body(d.serial, d.ean, import_kwh=4520.0))
        await reported(client, system(make), body(d.serial, d.ean, import_kwh=4521.0))  # already confirmed
        await mail.drain()
        [message] = inbox.to(to)
        assert message["Subject"] == "Uw slimme meter (1-fase) is aangemeld"
        assert sorted((r.moment, r.state, r.last_error) for r in await told(d.id)) == [
            ("approved", "skipped", "moment switched off"),
            ("device_confirmed", "sent", None),
        ]


class TestMovedOut:
    async def test_the_customer_of_the_install_is_told_not_the_next_occupant(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await approved(client, make)
        old_address, new_address, new = address(), address(), make.party(Role.CUSTOMER)
        await prefer(client, d.who, old_address)
        await prefer(client, new, new_address)
        r = await client.post(f"/mobile/v1/connections/{d.ean}/release", headers=d.who.headers)
        assert r.status_code == 200, r.text
        claim = {"ean": d.ean, "postcode": "6811AL", "house_number": 14}
        assert (await client.post("/mobile/v1/connections/claim", json=claim, headers=new.headers)).status_code == 201
        await reported(client, system(make), body(d.serial, d.ean, import_kwh=4520.0))  # the old install confirmed
        await mail.drain()
        assert [m["Subject"] for m in inbox.to(old_address)] == [
            "Uw installatie is goedgekeurd",
            "Uw slimme meter (1-fase) is aangemeld",
        ]
        assert inbox.to(new_address) == []


class TestNotSent:
    async def test_an_unsubscribed_customer_gets_no_email(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to)
        r = await client.post(
            unsubscribe_url(mail.settings, d.who.subject).removeprefix(mail.settings.public_url),
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 200 and "afgemeld" in r.text
        await submitted(client, d, "approved")
        await mail.drain()
        assert inbox.to(to) == []
        [row] = await told(d.id)
        assert (row.state, row.last_error) == ("skipped", "unsubscribed")

    async def test_a_customer_without_an_address_is_skipped(
        self, client: AsyncClient, make: Factory, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        await submitted(client, d, "approved")
        await mail.drain()
        [row] = await told(d.id)
        assert (row.state, row.last_error, row.recipient) == ("skipped", "no address", None)

    async def test_without_smtp_the_notification_waits(self, client: AsyncClient, make: Factory) -> None:
        """`make run` without SMTP_HOST: written, not sent (no channel, nothing to send with)."""
        d = await ready_install(client, make)
        await submitted(client, d, "approved")
        [row] = await told(d.id)
        assert row.state == "pending" and row.attempts == 0


class TestServerAway:
    async def test_pending_while_down_then_delivered_once(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to)
        await submitted(client, d, "approved")
        mail.server.stop()
        try:
            await mail.drain()
            [row] = await told(d.id)
            assert (row.state, row.attempts) == ("pending", 1)
            assert row.last_error and "ConnectError" in row.last_error
            assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=20)  # backed off
            assert await mail.drain() == []  # not due again yet
        finally:
            mail.server.start()
        later = datetime.now(UTC) + timedelta(minutes=2)
        await mail.drain(later)
        assert len(inbox.to(to)) == 1
        [row] = await told(d.id)
        assert (row.state, row.attempts) == ("sent", 2)
        await mail.drain(later + timedelta(hours=1))
        assert len(inbox.to(to)) == 1

    async def test_a_message_too_old_is_not_sent(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to)
        await submitted(client, d, "approved")
        await mail.drain(datetime.now(UTC) + timedelta(seconds=mail.settings.notify_max_age_s + 60))
        assert inbox.to(to) == []
        [row] = await told(d.id)
        assert (row.state, row.last_error) == ("failed", "too old to send")


class _Crash(BaseException):
    """The worker dies (kill -9, OOM) right after the server accepted the message."""


class _DiesAfterSending:
    """The e-mail channel of a worker that dies between the server's 250 and marking the row sent."""

    def __init__(self, channel: Channel) -> None:
        self.name, self.address, self.inner = channel.name, channel.address, channel

    async def send(self, message: Outgoing) -> None:
        await self.inner.send(message)
        raise _Crash


class TestAtLeastOnce:
    async def test_two_senders_at_once_send_it_once(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to)
        await submitted(client, d, "approved")
        await asyncio.gather(mail.drain(), mail.drain(), mail.drain())  # each takes a row by compare-and-set
        assert len(inbox.to(to)) == 1

    async def test_a_slow_server_makes_each_row_taken_and_sent_at_its_own_time(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        """Each send takes longer than the lease (the clock moves 100 s a reading): a row taken late in the
        round is leased from when it is taken, not from the round's start (then already run out, and
        another worker would send it too), and its sent_at is when it was sent."""
        installs = []
        for _ in range(2):
            d = await ready_install(client, make)
            await prefer(client, d.who, address())
            await submitted(client, d, "approved")
            installs.append(d.id)
        clock = Ticking(datetime.now(UTC), timedelta(seconds=100))
        for _ in range(1000):  # other tests' rows may come first; bounded
            if await send_round(mail.settings, mail.channels, clock) is None:
                break
        rows = [row for install_id in installs for row in await told(install_id)]
        assert [row.state for row in rows] == ["sent", "sent"]
        assert rows[0].sent_at != rows[1].sent_at, rows  # each at its own moment, not the round's
        assert all(row.attempts == 1 for row in rows)

    async def test_a_crash_after_the_send_sends_it_again_with_the_same_message_id(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        """The documented at-least-once window: the row was never marked, so it goes again once its
        lease ends, as the same message (Message-ID) the mail store can recognise."""
        d = await ready_install(client, make)
        to = address()
        await prefer(client, d.who, to)
        await submitted(client, d, "approved")
        dying = {"email": _DiesAfterSending(mail.channels["email"])}
        with pytest.raises(_Crash):
            for _ in range(1000):  # other tests' rows may come first; ours ends the loop
                await send_round(mail.settings, dying, lambda: datetime.now(UTC))
        assert len(inbox.to(to)) == 1
        [row] = await told(d.id)
        assert row.state == "pending"
        await mail.drain()  # its lease still holds: no other worker sends it meanwhile
        assert len(inbox.to(to)) == 1
        await mail.drain(datetime.now(UTC) + timedelta(minutes=5))  # the lease (2 x SMTP_TIMEOUT_S + 30 s) ended
        first, second = inbox.to(to)
        assert first["Message-ID"] == second["Message-ID"] == f"<{row.id}@localhost>"
        [row] = await told(d.id)
        assert row.state == "sent"
