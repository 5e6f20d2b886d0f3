"""A typed address is used only once the customer follows the link we mail to it: through the API, a real
SMTP server (aiosmtpd) and the link's page, as a customer would."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.notifications.sender import ADDRESS_PATH
from backend.notifications.service import ADDRESS_CHECKS_A_DAY
from backend.notifications.tokens import ADDRESS_LINK_VALID, unsubscribe_token
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.integrations.helpers import submitted
from tests.mobile_api.helpers import problem, ready_install
from tests.notifications.conftest import Inbox, Mail
from tests.notifications.helpers import EVERY_MOMENT, SETTINGS, address, body_of, check_link, confirm, with_email

LINK = re.compile(r"http\S+" + re.escape(ADDRESS_PATH) + r"\?token=\S+")


def typed(email: str | None, language: str = "nl") -> dict:
    return {"email": email, "language": language, "moments": EVERY_MOMENT, "email_enabled": True}


class TestTheCheck:
    async def test_mailed_to_the_typed_address_used_once_followed(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await ready_install(client, make)
        theirs, typo = address(), address()
        d.who.headers = with_email(make.settings, d.who.subject, theirs)
        r = await client.put(SETTINGS, json=typed(typo, "en"), headers=d.who.headers)
        assert (r.json()["email"], r.json()["email_pending"]) == (theirs, typo), r.text

        await submitted(client, d, "approved")  # news before the check: to the account's address, not the typed one
        await mail.drain()
        [check] = inbox.to(typo)
        assert check["Subject"] == "Is this your e-mail address?" and "List-Unsubscribe" not in check
        [approved] = inbox.to(theirs)
        assert approved["Subject"] == "Your install is approved"

        link = LINK.search(body_of(check))
        assert link is not None, body_of(check)
        path = link.group(0).removeprefix(mail.settings.public_url)
        page = await client.get(path)  # a mail scanner fetching the link confirms nothing
        assert page.status_code == 200 and typo in page.text and '<form method="post"' in page.text
        assert (await client.get(SETTINGS, headers=d.who.headers)).json()["email_pending"] == typo
        for _ in range(2):  # the button, pressed twice: the same outcome
            done = await client.post(path, headers={"Accept-Language": "en"})
            assert done.status_code == 200 and "Your e-mail address is confirmed" in done.text
        view = (await client.get(SETTINGS, headers=d.who.headers)).json()
        assert (view["email"], view["email_source"], view["email_pending"]) == (typo, "customer", None)

    async def test_the_accounts_address_needs_no_check(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        who, theirs = make.party(Role.CUSTOMER), address()
        headers = with_email(make.settings, who.subject, theirs)
        r = await client.put(SETTINGS, json=typed(theirs), headers=headers)
        assert (r.json()["email"], r.json()["email_pending"]) == (theirs, None)
        await mail.drain()
        assert inbox.to(theirs) == []

    async def test_a_corrected_typo_mails_only_the_corrected_address(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        who, typo, right = make.party(Role.CUSTOMER), address(), address()
        await client.put(SETTINGS, json=typed(typo), headers=who.headers)
        await client.put(SETTINGS, json=typed(right), headers=who.headers)
        await mail.drain()
        assert inbox.to(typo) == []  # not sent yet when corrected: never sent
        [check] = inbox.to(right)
        assert check["Subject"] == "Is dit uw e-mailadres?"
        problem(await client.post(check_link(who.subject, typo)), 409, "notifications/address-link-superseded")
        assert (await client.get(SETTINGS, headers=who.headers)).json()["email"] is None

    async def test_the_same_address_again_is_one_message_a_day(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        who, to = make.party(Role.CUSTOMER), address()
        for _ in range(3):
            r = await client.put(SETTINGS, json=typed(to), headers=who.headers)
            assert r.status_code == 200, r.text
        await mail.drain()
        assert len(inbox.to(to)) == 1

    async def test_an_address_typed_again_after_another_gets_its_link(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        who, first, second = make.party(Role.CUSTOMER), address(), address()
        for to in (first, second):
            assert (await client.put(SETTINGS, json=typed(to), headers=who.headers)).status_code == 200
        await mail.drain()  # the first one's message skipped: the second was typed before it went out
        assert inbox.to(first) == [] and len(inbox.to(second)) == 1
        assert (await client.put(SETTINGS, json=typed(first), headers=who.headers)).status_code == 200
        await mail.drain()
        assert len(inbox.to(first)) == 1

    async def test_other_changes_keep_the_address_waiting_for_its_check(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        """A client that PUTs back what it GOT (the address in use) with another language cancels nothing."""
        who, theirs, new = make.party(Role.CUSTOMER), address(), address()
        headers = with_email(make.settings, who.subject, theirs)
        await client.put(SETTINGS, json=typed(new), headers=headers)
        view = (await client.get(SETTINGS, headers=headers)).json()
        assert (view["email"], view["email_pending"]) == (theirs, new)
        r = await client.put(SETTINGS, json=typed(view["email"], "en"), headers=headers)
        assert (r.json()["email"], r.json()["email_pending"], r.json()["language"]) == (theirs, new, "en")
        await confirm(client, who.subject, new)
        assert (await client.get(SETTINGS, headers=headers)).json()["email"] == new

    async def test_a_few_new_addresses_a_day_then_429(self, client: AsyncClient, make: Factory) -> None:
        who = make.party(Role.CUSTOMER)
        for _ in range(ADDRESS_CHECKS_A_DAY):
            assert (await client.put(SETTINGS, json=typed(address()), headers=who.headers)).status_code == 200
        pending = (await client.get(SETTINGS, headers=who.headers)).json()["email_pending"]
        r = await client.put(SETTINGS, json=typed(address()), headers=who.headers)
        body = problem(r, 429, "notifications/too-many-address-checks")
        assert str(ADDRESS_CHECKS_A_DAY) in body["detail"]
        assert (await client.get(SETTINGS, headers=who.headers)).json()["email_pending"] == pending  # nothing changed
        again = await client.put(SETTINGS, json=typed(pending), headers=who.headers)  # the one asked: still fine
        assert again.status_code == 200
        other = make.party(Role.CUSTOMER)  # the bound is per customer
        assert (await client.put(SETTINGS, json=typed(address()), headers=other.headers)).status_code == 200


class TestTheLink:
    async def test_past_its_time_it_is_refused(self, client: AsyncClient, make: Factory) -> None:
        who, to = make.party(Role.CUSTOMER), address()
        await client.put(SETTINGS, json=typed(to), headers=who.headers)
        old = datetime.now(UTC) - ADDRESS_LINK_VALID - timedelta(minutes=1)
        for method in ("GET", "POST"):
            problem(
                await client.request(method, check_link(who.subject, to, old)),
                400,
                "notifications/address-link-expired",
            )
        assert (await client.get(SETTINGS, headers=who.headers)).json()["email_pending"] == to

    async def test_it_cannot_be_moved_to_another_customer_or_address(self, client: AsyncClient, make: Factory) -> None:
        anna, bram, to = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER), address()
        await client.put(SETTINGS, json=typed(to), headers=anna.headers)
        annas = check_link(anna.subject, to).partition("token=")[2]
        brams = check_link(bram.subject, to).partition("token=")[2]
        moved = f"{brams.partition('.')[0]}.{annas.partition('.')[2]}"
        problem(await client.post(f"{ADDRESS_PATH}?token={moved}"), 400, "notifications/invalid-address-link")
        # a token of the other purpose (unsubscribe), signed with the same secret, is no address link
        unsub = unsubscribe_token(make.settings.unsubscribe_secret, anna.subject)
        problem(await client.post(f"{ADDRESS_PATH}?token={unsub}"), 400, "notifications/invalid-address-link")
        assert (await client.get(SETTINGS, headers=anna.headers)).json()["email"] is None

    @pytest.mark.parametrize("token", ["nonsense", "!!!.???", "Zm9v.Zm9v", "A" * 701])
    async def test_a_token_we_did_not_sign_is_400(self, client: AsyncClient, token: str) -> None:
        r = await client.post(f"{ADDRESS_PATH}?token={token}")
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text

    async def test_in_dutch_by_default(self, client: AsyncClient, make: Factory, settings: Settings) -> None:
        who, to = make.party(Role.CUSTOMER), address()
        await client.put(SETTINGS, json=typed(to), headers=who.headers)
        page = await client.get(check_link(who.subject, to))
        assert "Bevestig uw e-mailadres" in page.text
