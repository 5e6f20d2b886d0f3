"""/mobile/v1/me/notifications (a customer's own preferences) and the one-click unsubscribe link."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from backend.notifications.sender import UNSUBSCRIBE_PATH
from backend.notifications.tokens import subject_of, unsubscribe_token
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.mobile_api.helpers import problem
from tests.notifications.helpers import EVERY_MOMENT, SETTINGS, address, confirm, prefer, with_email

BODY = {"email": "anna@example.com", "language": "en", "moments": ["approved"], "email_enabled": True}


class TestOwnPreferences:
    async def test_defaults_until_set(self, client: AsyncClient, make: Factory) -> None:
        who = make.party(Role.CUSTOMER)
        r = await client.get(SETTINGS, headers=who.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "email": None,
            "email_source": None,
            "email_pending": None,
            "language": "nl",
            "moments": EVERY_MOMENT,
            "email_enabled": True,
        }

    async def test_the_accounts_address_until_the_customer_sets_one(self, client: AsyncClient, make: Factory) -> None:
        who, theirs, own = make.party(Role.CUSTOMER), address(), address()
        headers = with_email(make.settings, who.subject, theirs)
        r = await client.get(SETTINGS, headers=headers)
        assert (r.json()["email"], r.json()["email_source"]) == (theirs, "account")
        r = await client.put(SETTINGS, json={**BODY, "email": own}, headers=headers)
        assert (r.json()["email"], r.json()["email_source"], r.json()["email_pending"]) == (theirs, "account", own)
        await confirm(client, who.subject, own)  # the link mailed to it (tests/notifications/test_address_check.py)
        r = await client.get(SETTINGS, headers=headers)
        assert (r.json()["email"], r.json()["email_source"], r.json()["email_pending"]) == (own, "customer", None)
        r = await client.put(SETTINGS, json={**BODY, "email": None}, headers=headers)
        assert (r.json()["email"], r.json()["email_source"]) == (theirs, "account")

    async def test_a_customer_reads_and_writes_only_their_own(self, client: AsyncClient, make: Factory) -> None:
        anna, bram = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        mine = await prefer(client, anna, "anna@example.com", "en", ["approved", "rejected"])
        assert mine == {
            "email": "anna@example.com",
            "email_source": "customer",
            "email_pending": None,
            "language": "en",
            "moments": ["approved", "rejected"],
            "email_enabled": True,
        }
        theirs = (await client.get(SETTINGS, headers=bram.headers)).json()
        assert theirs["email"] is None and theirs["language"] == "nl"
        assert (await client.get(SETTINGS, headers=anna.headers)).json() == mine

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"email": "not an address"}, "email"),
            ({"email": "a@b"}, "email"),
            ({"language": "de"}, "language"),
            ({"moments": ["everything"]}, "moments"),
            ({"subject": "someone-else"}, "subject"),  # the subject is the token's, never the body's
        ],
    )
    async def test_bad_bodies_are_400(self, client: AsyncClient, make: Factory, change: dict, field: str) -> None:
        r = await client.put(SETTINGS, json={**BODY, **change}, headers=make.party(Role.CUSTOMER).headers)
        body = problem(r, 400, "request/invalid")
        assert field in r.text, body

    @pytest.mark.parametrize("role", [Role.INSTALLER, Role.SPECIALIST, Role.ADMIN, Role.SYSTEM])
    @pytest.mark.parametrize("method", ["GET", "PUT"])
    async def test_other_roles_are_refused(self, client: AsyncClient, make: Factory, role: Role, method: str) -> None:
        r = await client.request(
            method, SETTINGS, json=BODY if method == "PUT" else None, headers=make.party(role).headers
        )
        problem(r, 403, "auth/forbidden")

    @pytest.mark.parametrize("method", ["GET", "PUT"])
    async def test_no_token_is_401(self, client: AsyncClient, method: str) -> None:
        r = await client.request(method, SETTINGS, json=BODY if method == "PUT" else None)
        problem(r, 401, "auth/unauthenticated")


class TestUnsubscribeToken:
    def test_it_names_its_customer(self, settings: Settings) -> None:
        assert subject_of(settings.unsubscribe_secret, unsubscribe_token(settings.unsubscribe_secret, "cust-anna")) == (
            "cust-anna"
        )

    def test_another_secret_made_it(self, settings: Settings) -> None:
        forged = unsubscribe_token("a-secret-that-is-not-ours-0123456789", "cust-anna")
        with pytest.raises(Exception, match="notifications/invalid-unsubscribe-token"):
            subject_of(settings.unsubscribe_secret, forged)

    def test_it_cannot_be_moved_to_another_customer(self, settings: Settings) -> None:
        """The MAC binds the subject: anna's signature on bram's name is refused."""
        anna = unsubscribe_token(settings.unsubscribe_secret, "cust-anna")
        bram = unsubscribe_token(settings.unsubscribe_secret, "cust-bram")
        moved = f"{bram.partition('.')[0]}.{anna.partition('.')[2]}"
        with pytest.raises(Exception, match="notifications/invalid-unsubscribe-token"):
            subject_of(settings.unsubscribe_secret, moved)


class TestUnsubscribeLink:
    async def test_the_page_asks_and_the_post_unsubscribes(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        who = make.party(Role.CUSTOMER)
        await prefer(client, who, address())
        url = f"{UNSUBSCRIBE_PATH}?token={unsubscribe_token(settings.unsubscribe_secret, who.subject)}"
        page = await client.get(url)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<form method="post"' in page.text
        assert (await client.get(SETTINGS, headers=who.headers)).json()["email_enabled"] is True  # GET changed nothing

        for _ in range(2):  # RFC 8058's one-click POST, twice: the same outcome
            r = await client.post(url, content=b"List-Unsubscribe=One-Click")
            assert r.status_code == 200 and "U bent afgemeld" in r.text
        after = (await client.get(SETTINGS, headers=who.headers)).json()
        assert after["email_enabled"] is False and after["email"] is not None  # the address is kept

        r = await client.post(url, headers={"Accept-Language": "en"})
        assert "You are unsubscribed" in r.text

    async def test_only_the_tokens_customer_is_unsubscribed(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        anna, bram = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        await prefer(client, bram, address())
        await client.post(f"{UNSUBSCRIBE_PATH}?token={unsubscribe_token(settings.unsubscribe_secret, anna.subject)}")
        assert (await client.get(SETTINGS, headers=bram.headers)).json()["email_enabled"] is True
        assert (await client.get(SETTINGS, headers=anna.headers)).json()["email_enabled"] is False

    @pytest.mark.parametrize("token", ["nonsense", "Y3VzdC1hbm5h.AAAAAAAAAAAAAAAAAAAAAA", "!!!.???", "Zm9v"])
    @pytest.mark.parametrize("method", ["GET", "POST"])
    async def test_a_token_we_did_not_sign_is_400(self, client: AsyncClient, token: str, method: str) -> None:
        r = await client.request(method, f"{UNSUBSCRIBE_PATH}?token={token}")
        problem(r, 400, "notifications/invalid-unsubscribe-token")

    async def test_no_token_is_400(self, client: AsyncClient) -> None:
        problem(await client.post(UNSUBSCRIBE_PATH), 400, "request/invalid")
