"""Who opens which console page (issue 13): admins the operator pages, specialists their queue; the other
role gets a 403 page in words, no session the sign-in page, and a customer or installer no session at all."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from backend.installs.tables import Asset
from backend.jobs.tables import Job
from backend.principal import Role
from tests.console.helpers import console_headers
from tests.factories import Factory

ADMIN_PAGES = [
    "/console/jobs",
    "/console/assets",
    "/console/connections",
    "/console/outbox",
    "/console/assets/keys",
    "/console/figures",
    "/console/settings",
]
ADMIN_FORMS = [("/console/jobs", {"ean": "871687000000000054"}), ("/console/jobs/1/cancel", {"version": "1"})]


class TestAdminPages:
    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_an_admin_opens_them(self, client: AsyncClient, make: Factory, path: str) -> None:
        headers = await console_headers(client, make, Role.ADMIN, "admin-kees")
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert 'href="/console/jobs">Opdrachten</a>' in r.text and "admin-kees" in r.text
        assert 'href="/console/queue"' not in r.text  # the navigation is the operator's

    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_a_specialist_gets_a_403_page_in_words(self, client: AsyncClient, make: Factory, path: str) -> None:
        r = await client.get(path, headers=await console_headers(client, make, Role.SPECIALIST))
        assert r.status_code == 403
        assert "alleen voor beheerders; u bent aangemeld als specialisten" in r.text
        assert 'id="home" href="/console/queue"' in r.text

    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_an_english_reader_reads_english(self, client: AsyncClient, make: Factory, path: str) -> None:
        headers = {**await console_headers(client, make, Role.ADMIN), "Accept-Language": "en"}
        r = await client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert '<html lang="en">' in r.text and 'href="/console/jobs">Jobs</a>' in r.text
        dutch = ("Opdrachten", "Apparaten", "Aansluitingen", "Volgende", "Zoeken", "alle<", "Afmelden", "Status zaak")
        assert [w for w in dutch if w in r.text] == []
        forbidden = await client.get(
            path, headers={**await console_headers(client, make, Role.SPECIALIST), "Accept-Language": "en"}
        )
        assert forbidden.status_code == 403 and "No access" in forbidden.text
        assert "only for administrators; you are signed in as specialists" in forbidden.text

    async def test_the_sign_in_page_and_its_refusal_in_the_readers_language(self, client: AsyncClient) -> None:
        for lang, heading, refusal in (
            ("en", "Sign in", "This token is invalid or has expired."),
            ("nl", "Aanmelden", "Dit token is ongeldig of verlopen."),
        ):
            page = await client.get("/console/login", headers={"Accept-Language": lang})
            assert f'<html lang="{lang}">' in page.text and f"<h1>{heading}</h1>" in page.text
            csrf = page.cookies["csrftoken"]
            r = await client.post(
                "/console/login",
                data={"token": "not-a-token", "_csrf_token": csrf},
                headers={"Cookie": f"csrftoken={csrf}", "Accept-Language": lang},
            )
            assert r.status_code == 401 and refusal in r.text

    @pytest.mark.parametrize("path", ADMIN_PAGES)
    async def test_without_a_session_the_sign_in_page(self, client: AsyncClient, path: str) -> None:
        r = await client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/console/login"

    @pytest.mark.parametrize(("path", "form"), ADMIN_FORMS)
    async def test_a_specialists_form_changes_nothing(
        self, client: AsyncClient, make: Factory, path: str, form: dict[str, str]
    ) -> None:
        before = await Job.count()
        r = await client.post(path, data=form, headers=await console_headers(client, make, Role.SPECIALIST))
        assert r.status_code == 403 and await Job.count() == before

    async def test_a_specialist_prints_no_labels(self, client: AsyncClient, make: Factory) -> None:
        serial, _ = await make.asset()
        headers = await console_headers(client, make, Role.SPECIALIST)
        r = await client.post("/console/assets/labels.svg", data={"serial": [serial]}, headers=headers)
        assert r.status_code == 403 and "<svg" not in r.text
        assert (await Asset.select(Asset.label_key_id).where(Asset.serial == serial))[0]["label_key_id"] is None


class TestSpecialistPages:
    async def test_an_admin_gets_a_403_page_on_the_queue(self, client: AsyncClient, make: Factory) -> None:
        r = await client.get("/console/queue", headers=await console_headers(client, make, Role.ADMIN))
        assert r.status_code == 403 and "alleen voor specialisten" in r.text
        assert 'id="home" href="/console/jobs"' in r.text

    async def test_the_index_sends_each_role_home(self, client: AsyncClient, make: Factory) -> None:
        for role, home in ((Role.ADMIN, "/console/jobs"), (Role.SPECIALIST, "/console/queue")):
            r = await client.get("/console/", headers=await console_headers(client, make, role))
            assert r.status_code == 303 and r.headers["location"] == home


class TestSignIn:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SYSTEM])
    async def test_other_roles_open_no_session(self, client: AsyncClient, make: Factory, role: Role) -> None:
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        token = make.party(role).headers["Authorization"].removeprefix("Bearer ")
        r = await client.post(
            "/console/login", data={"token": token, "_csrf_token": csrf}, headers={"Cookie": f"csrftoken={csrf}"}
        )
        assert r.status_code == 403 and "alleen voor specialisten en beheerders" in r.text
        assert "si_console" not in r.cookies

    async def test_an_admin_lands_on_dispatch(self, client: AsyncClient, make: Factory) -> None:
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        token = make.party(Role.ADMIN).headers["Authorization"].removeprefix("Bearer ")
        r = await client.post(
            "/console/login", data={"token": token, "_csrf_token": csrf}, headers={"Cookie": f"csrftoken={csrf}"}
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/jobs"
