"""The customers' portal without a browser: sign-in (the demo only in development), what the home page
and an install's page say, the help, objection and visit forms over the mobile API's services, and who
may see what (another customer's install is a 404, staff sessions and bearer tokens open nothing)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx

from backend.app import create_app
from backend.principal import Role
from backend.settings import load_settings
from tests.console.helpers import console_headers
from tests.factories import Factory
from tests.helpers.review import case_id_of, claimed, decided, helped
from tests.mobile_api.helpers import new_install, ready_install
from tests.portal.helpers import flash_of, form, portal_headers
from tests.test_settings import PRODUCTION_ENV

NL = {"Accept-Language": "nl-NL"}
EN = {"Accept-Language": "en"}


@asynccontextmanager
async def _portal(env: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over https (the cookies are Secure) with other settings. Needs `client` (the pool)."""
    app = create_app(load_settings({**os.environ, **env}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            yield c
    finally:
        app.state.ctx.cpu.shutdown()


class TestDemoSignIn:
    async def test_one_click_signs_in_a_demo_customer_in_development(self, client: httpx.AsyncClient) -> None:
        async with _portal({}) as portal:
            page = await portal.get("/portal/login")
            assert page.status_code == 200 and 'value="cust-anna"' in page.text
            r = await portal.post(
                "/portal/login/demo", data={"_csrf_token": portal.cookies["csrftoken"], "customer": "cust-anna"}
            )
            assert r.status_code == 303 and r.headers["location"] == "/portal/"
            cookie = next(line for line in r.headers.get_list("set-cookie") if line.startswith("si_portal="))
            assert (
                "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie and "Path=/portal" in cookie
            )
            home = await portal.get("/portal/", headers=NL)
        assert home.status_code == 200 and "Wat speelt er voor mij" in home.text

    async def test_only_the_demo_customers(self, client: httpx.AsyncClient) -> None:
        async with _portal({}) as portal:
            await portal.get("/portal/login")
            r = await portal.post(
                "/portal/login/demo", data={"_csrf_token": portal.cookies["csrftoken"], "customer": "admin-kees"}
            )
        assert r.status_code == 422 and "si_portal" not in r.headers.get("set-cookie", "")

    async def test_never_in_production(self, client: httpx.AsyncClient) -> None:
        async with _portal({"SELFINSTALL_ENV": "production", **PRODUCTION_ENV}) as portal:
            page = await portal.get("/portal/login", headers=NL)
            assert (
                page.status_code == 200
                and "cust-anna" not in page.text
                and "Aanmelden is nog niet ingesteld" in page.text
            )
            r = await portal.post(
                "/portal/login/demo", data={"_csrf_token": portal.cookies["csrftoken"], "customer": "cust-anna"}
            )
        assert r.status_code == 403 and "si_portal" not in r.headers.get("set-cookie", "")

    async def test_a_form_without_its_csrf_token_is_refused(self, client: httpx.AsyncClient) -> None:
        async with _portal({}) as portal:
            await portal.get("/portal/login")
            r = await portal.post("/portal/login/demo", data={"customer": "cust-anna"})
        assert r.status_code == 403 and "si_portal" not in r.headers.get("set-cookie", "")


class TestAccess:
    async def test_no_session_goes_to_the_sign_in_page(self, client: httpx.AsyncClient) -> None:
        for path in ("/portal/", f"/portal/installs/{uuid.uuid4()}"):
            r = await client.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", path

    async def test_bearer_tokens_and_staff_sessions_open_nothing(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        for role in (Role.SPECIALIST, Role.INSTALLER, Role.ADMIN):
            r = await client.get(f"/portal/installs/{d.id}", headers=make.party(role).headers)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", role
        staff = await console_headers(client, make, Role.SPECIALIST)
        assert (await client.get("/portal/", headers=staff)).status_code == 303
        # Even a staff member's session id in the portal's cookie is not a customer's session.
        session = staff["Cookie"].split("si_console=")[1]
        r = await client.get("/portal/", headers={"Cookie": f"si_portal={session}"})
        assert r.status_code == 303 and r.headers["location"] == "/portal/login"

    async def test_another_customers_install_is_not_found(self, client: httpx.AsyncClient, make: Factory) -> None:
        mine, theirs = await new_install(client, make), await new_install(client, make)
        headers = await portal_headers(client, mine.who.subject)
        assert (await client.get(f"/portal/installs/{mine.id}", headers=headers)).status_code == 200
        r = await client.get(f"/portal/installs/{theirs.id}", headers={**headers, **NL})
        assert r.status_code == 404 and "Deze installatie is niet gevonden." in r.text and theirs.ean not in r.text
        assert 'data-code="install/not-found"' in r.text
        r = await client.post(
            f"/portal/installs/{theirs.id}/help", headers={**headers, **NL}, data=form(headers, message="hoi")
        )
        assert r.status_code == 404 and "Deze installatie is niet gevonden." in r.text and theirs.ean not in r.text
        home = await client.get("/portal/", headers=headers)
        assert mine.ean in home.text and theirs.ean not in home.text and theirs.id not in home.text

    async def test_after_moving_out_only_their_time(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await client.post(f"/mobile/v1/installs/{d.id}/cancel", json={}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        r = await client.post(f"/mobile/v1/connections/{d.ean}/release", headers=d.who.headers)
        assert r.status_code == 200, r.text
        successor = make.party(Role.CUSTOMER)
        r = await client.post(
            "/mobile/v1/connections/claim",
            json={"ean": d.ean, "postcode": "6811AL", "house_number": 14},
            headers=successor.headers,
        )
        assert r.status_code == 201, r.text
        theirs = await client.post(
            "/mobile/v1/installs",
            json={"id": str(uuid.uuid4()), "connection_ean": d.ean, "asset_type": "smart_meter_1p"},
            headers=successor.headers,
        )
        assert theirs.status_code == 201, theirs.text
        old = await client.get("/portal/", headers={**await portal_headers(client, d.who.subject), **EN})
        assert "You have moved out" in old.text and d.id in old.text and theirs.json()["id"] not in old.text
        new = await client.get("/portal/", headers={**await portal_headers(client, successor.subject), **EN})
        assert theirs.json()["id"] in new.text and d.id not in new.text


class TestHome:
    async def test_what_is_going_on_in_dutch_and_english(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await helped(client, d, "Ik weet het niet zeker")
        headers = await portal_headers(client, d.who.subject)
        home = await client.get("/portal/", headers={**headers, **NL})
        assert home.status_code == 200 and '<html lang="nl">' in home.text
        assert d.ean in home.text and "1x35A" in home.text
        assert "Een specialist bekijkt uw installatie." in home.text and "Verwacht besluit:" in home.text
        assert f'href="/portal/installs/{d.id}"' in home.text
        english = await client.get("/portal/?lang=en", headers={**headers, **NL})  # the switch beats the header
        assert '<html lang="en">' in english.text and "Expected decision:" in english.text
        assert "si_lang=en" in english.headers["set-cookie"]
        assert len(home.content) < 100_000 and len(english.content) < 100_000
        scripts = re.findall(r"<script[^>]*>", home.text)
        assert scripts and all(" defer" in tag or " async" in tag for tag in scripts)  # none blocks rendering

    async def test_the_security_headers(self, client: httpx.AsyncClient, make: Factory) -> None:
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        r = await client.get("/portal/", headers=headers)
        assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-frame-options"] == "DENY"
        css = await client.get("/portal/static/portal.css")
        assert css.status_code == 200 and "content-security-policy" in css.headers


class TestInstallPage:
    async def test_ask_for_a_person_with_a_message(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **NL})
        assert page.status_code == 200 and 'id="help-message"' in page.text and "_csrf_token" in page.text
        r = await client.post(
            f"/portal/installs/{d.id}/help", headers=headers, data=form(headers, message="Waar moet de meter?")
        )
        assert r.status_code == 303 and r.headers["location"] == f"/portal/installs/{d.id}?msg=help_sent"
        after = await client.get(r.headers["location"], headers={**headers, **NL})
        assert "Uw bericht is verstuurd" in after.text and "Verwacht besluit:" in after.text
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["state"] == "in_review" and "human_requested" in api["reasons"]
        assert await case_id_of(d.id)

    async def test_a_message_the_api_would_refuse_is_refused(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        typed = "<b>Waar moet de meter?</b> " + "x" * 2001  # no JavaScript: the textarea's limit not kept
        for lang, words in (
            (NL, "Uw bericht is te lang: er passen hoogstens 2000 tekens in. Maak het korter en stuur het opnieuw."),
            (EN, "Your message is too long: at most 2000 characters fit. Shorten it and send it again."),
        ):
            r = await client.post(
                f"/portal/installs/{d.id}/help", headers={**headers, **lang}, data=form(headers, message=typed)
            )
            assert r.status_code == 422 and words in r.text and "…" not in flash_of(r)
            # The text as typed, to shorten (escaped: what came in is never markup on the page).
            assert f'maxlength="2000">&lt;b&gt;Waar moet de meter?&lt;/b&gt; {"x" * 2001}</textarea>' in r.text
            assert "<b>Waar" not in r.text
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["state"] == "draft"

    async def test_object_to_a_rejection(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await helped(client, d)
        spec = make.party(Role.SPECIALIST)
        await decided(client, spec, await case_id_of(d.id), "reject", "not_eligible")
        headers = await portal_headers(client, d.who.subject)
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **NL})
        assert 'id="objection"' in page.text and "Afgekeurd door een specialist." in page.text
        r = await client.post(
            f"/portal/installs/{d.id}/objection", headers=headers, data=form(headers, message="De meter hangt er echt.")
        )
        assert r.headers["location"].endswith("msg=objection_sent")
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["state"] == "in_review"

    async def test_answer_the_specialists_question(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        question = "Wanneer is de meter geplaatst?"
        spec = make.party(Role.SPECIALIST)
        await decided(client, spec, await case_id_of(d.id), "request_info", "more_information", question=question)
        headers = await portal_headers(client, d.who.subject)
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **NL})
        assert question in page.text and 'id="answer-text"' in page.text
        r = await client.post(f"/portal/installs/{d.id}/answer", headers=headers, data=form(headers, text="Op 12 mei."))
        assert r.headers["location"].endswith("msg=answer_sent")
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["state"] == "in_review"
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **NL})
        assert 'id="answer-text"' not in page.text and "Op 12 mei." in page.text  # in the timeline
        again = await client.post(f"/portal/installs/{d.id}/answer", headers=headers, data=form(headers, text="x"))
        assert again.status_code == 409 and "Er staat geen vraag van een specialist voor u open." in again.text

    async def test_objecting_before_a_rejection_says_why_not(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        page = await client.get(f"/portal/installs/{d.id}", headers=headers)
        assert 'id="objection"' not in page.text
        # The state in words, in the reader's language: not its id, nor an unfilled "…".
        for lang, words in (
            (NL, "Dit kan niet in de huidige status (bezig) van de installatie."),
            (EN, "This is not possible in the install's current state (in progress)."),
        ):
            sent = {**headers, **lang}
            r = await client.post(f"/portal/installs/{d.id}/objection", headers=sent, data=form(headers, message="nee"))
            assert r.status_code == 409 and flash_of(r) == words, r.text
        # A problem's code in the URL says nothing: its words come only with the refusal itself.
        page = await client.get(f"/portal/installs/{d.id}?msg=install/state-conflict", headers=headers)
        assert page.status_code == 200 and flash_of(page) == ""

    async def test_pick_a_visit_window(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id, spec = await case_id_of(d.id), make.party(Role.SPECIALIST)
        await claimed(client, spec, case_id)
        start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=3)
        windows = [
            {
                "window_start": (start + timedelta(hours=h)).isoformat(),
                "window_end": (start + timedelta(hours=h + 4)).isoformat(),
            }
            for h in (0, 24)
        ]
        r = await client.post(f"/review/v1/cases/{case_id}/visit", json={"windows": windows}, headers=spec.headers)
        assert r.status_code == 201, r.text
        headers = await portal_headers(client, d.who.subject)
        home = await client.get("/portal/", headers={**headers, **EN})
        assert "pick a window for the visit" in home.text and f'href="/portal/installs/{d.id}#visit"' in home.text
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **EN})
        assert page.text.count('name="window"') == 2 and "Pick a window" in page.text
        second = windows[1]
        picked = await client.post(
            f"/portal/installs/{d.id}/visit",
            headers=headers,
            data=form(headers, window=f"{second['window_start']}|{second['window_end']}"),
        )
        assert picked.headers["location"].endswith("msg=visit_picked")
        visit = (await client.get(f"{d.url}/visit", headers=d.who.headers)).json()
        assert visit["state"] == "planned" and visit["chosen"]["window_start"] == windows[1]["window_start"].replace(
            "+00:00", "Z"
        )
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **EN})
        assert 'name="window"' not in page.text and "Planned:" in page.text


class TestClaim:
    async def test_link_a_connection_with_its_proof(self, client: httpx.AsyncClient, make: Factory) -> None:
        ean = await make.connection(postcode="6811AL", house_number=14)
        customer = make.party(Role.CUSTOMER)
        headers = await portal_headers(client, customer.subject)
        empty = await client.get("/portal/", headers={**headers, **NL})
        assert "Er is nog geen aansluiting" in empty.text and 'id="claim-ean"' in empty.text
        grouped = " ".join(ean[i : i + 4] for i in range(0, len(ean), 4))  # as a bill prints it
        fields = {"ean": grouped, "postcode": "6811 al", "house_number": "14"}
        r = await client.post("/portal/connections/claim", headers=headers, data=form(headers, **fields))
        assert r.status_code == 303 and r.headers["location"] == "/portal/?msg=claimed"
        home = await client.get(r.headers["location"], headers={**headers, **NL})
        assert "De aansluiting is aan uw account gekoppeld." in home.text and f'id="conn-{ean}"' in home.text
        mine = (await client.get("/mobile/v1/connections", headers=customer.headers)).json()["items"]
        assert [c["connection"]["ean"] for c in mine] == [ean]

    async def test_a_wrong_answer_counts_and_the_limit_holds(self, client: httpx.AsyncClient, make: Factory) -> None:
        ean = await make.connection(postcode="6811AL", house_number=14)
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        wrong = {"ean": ean, "postcode": "6811AL", "house_number": "15"}
        r = await client.post("/portal/connections/claim", headers={**headers, **EN}, data=form(headers, **wrong))
        assert r.status_code == 422 and "The details do not match a connection." in r.text
        assert f'value="{ean}"' in r.text and 'value="15"' in r.text  # as typed, to correct
        for _ in range(4):  # CLAIM_FAILURES_ALLOWED is 5 in the window
            await client.post("/portal/connections/claim", headers=headers, data=form(headers, **wrong))
        right = {**wrong, "house_number": "14"}
        r = await client.post("/portal/connections/claim", headers={**headers, **EN}, data=form(headers, **right))
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0 and "Too many failed attempts" in r.text

    async def test_another_customers_connection_is_refused(self, client: httpx.AsyncClient, make: Factory) -> None:
        ean = await make.connection(owner=make.party(Role.CUSTOMER).subject, postcode="6811AL", house_number=14)
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        fields = {"ean": ean, "postcode": "6811AL", "house_number": "14"}
        r = await client.post("/portal/connections/claim", headers={**headers, **NL}, data=form(headers, **fields))
        assert r.status_code == 409 and f'id="conn-{ean}"' not in r.text

    async def test_a_malformed_form_is_refused_in_words(self, client: httpx.AsyncClient, make: Factory) -> None:
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        for fields in (
            {"ean": "12345", "postcode": "6811AL", "house_number": "14"},
            {"ean": "871687000000000009", "postcode": "6811\x00AL", "house_number": "14"},
            {"ean": "871687000000000009", "postcode": "6811AL", "house_number": "veertien"},
            {"ean": "871687000000000009", "postcode": "6811AL", "house_number": "9" * 40},
            {},
        ):
            r = await client.post("/portal/connections/claim", headers={**headers, **EN}, data=form(headers, **fields))
            assert r.status_code == 422 and "Check the EAN (18 digits)" in r.text, fields


class TestHostileForms:
    """The forms' bodies as an attacker sends them: refused in words, never a server error, nothing changed."""

    async def test_hostile_fields(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        for action, fields in (
            ("help", {"message": "a\x00b"}),
            ("help", {"message": "\x1b[31m"}),
            ("objection", {"message": ""}),
            ("objection", {"message": "x" * 5000}),
            ("visit", {"window": "gisteren|morgen"}),
            ("visit", {"window": "2026-12-08T08:00:00|2026-12-08T12:00:00"}),  # no zone: not as offered
            ("visit", {}),
            ("answer", {"text": ""}),
            ("answer", {"text": "a\x00b"}),
        ):
            sent = {**headers, **EN}
            r = await client.post(f"/portal/installs/{d.id}/{action}", headers=sent, data=form(headers, **fields))
            assert r.status_code == 422 and 'class="flash error"' in r.text, (action, r.text)
            assert "…" not in flash_of(r) and "request is invalid" not in r.text, (action, r.text)
        for body, kind in (
            (b"\xff\xfe\x00", "application/x-www-form-urlencoded"),
            (b'{"message": 1}', "application/json"),
        ):
            r = await client.post(
                f"/portal/installs/{d.id}/objection", headers={**headers, "Content-Type": kind}, content=body
            )
            assert r.status_code < 500, r.text
        api = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert api["state"] == "draft" and api["reasons"] == []

    async def test_a_visit_form_on_an_install_without_a_visit(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        window = "2026-12-08T08:00:00+01:00|2026-12-08T12:00:00+01:00"
        r = await client.post(f"/portal/installs/{d.id}/visit", headers=headers, data=form(headers, window=window))
        assert r.status_code == 404 and "Voor deze installatie is geen bezoek aangeboden." in r.text


class TestProblemPages:
    """A refusal under /portal is a page in words (a person's browser reads it), never problem+json."""

    async def test_unknown_page_no_csrf_token_wrong_method(self, client: httpx.AsyncClient, make: Factory) -> None:
        headers = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        for method, path, sent, status, code, words in (
            ("GET", "/portal/nergens", NL, 404, "request/not-found", "Deze pagina of route bestaat niet."),
            ("GET", "/portal/installs/geen-id", EN, 404, "request/not-found", "This route does not exist."),
            ("POST", "/portal/logout", {"Cookie": headers["Cookie"], **EN}, 403, "request/form-expired", "reload the"),
            ("PUT", "/portal/", EN, 405, "request/method-not-allowed", ""),
        ):
            r = await client.request(method, path, headers=sent)
            assert r.status_code == status and r.headers["content-type"].startswith("text/html"), (path, r.text)
            assert f'data-code="{code}"' in r.text and words in r.text and "<h1>" in r.text, r.text
        # The API next door still answers problem+json.
        r = await client.get("/mobile/v1/nergens")
        assert r.headers["content-type"].startswith("application/problem+json")
