"""The install an installer does at a customer's connection, in the customer's portal: shown read-only (no
guide, no step or answer form; its next action says it is the installer's), every step form refused with 403
install/not-creator and nothing changed; once decided, the customer may still ask for a person about it."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import Factory
from tests.jobs.helpers import JobInstall, finished, started_job_install
from tests.mobile_api.helpers import slots_of
from tests.portal.helpers import flash_of, form, portal_headers

EN = {"Accept-Language": "en"}
NOTE = "An installer does this install at your connection. There is nothing you need to do."


def _forms(page: httpx.Response) -> list[str]:
    """The actions of the page's forms (the language switch is no form of an install)."""
    return re.findall(r'<form[^>]*action="(/portal/installs/[^"]+)"', page.text)


@pytest.fixture
async def job_install(client: httpx.AsyncClient, make: Factory) -> JobInstall:
    return await started_job_install(client, make)


class TestReadOnly:
    async def test_the_page_shows_it_without_guide_or_forms(
        self, client: httpx.AsyncClient, job_install: JobInstall
    ) -> None:
        j = job_install
        headers = {**await portal_headers(client, j.owner.who.subject), **EN}
        page = await client.get(f"/portal/installs/{j.owner.id}", headers=headers)
        assert page.status_code == 200, page.text
        assert NOTE in page.text and "Scan the asset" not in page.text
        assert "/guide" not in page.text and _forms(page) == []
        home = await client.get("/portal/", headers=headers)
        assert f'/portal/installs/{j.owner.id}"' in home.text  # listed, to open and read
        assert f"/portal/installs/{j.owner.id}/guide" not in home.text and NOTE in home.text

    async def test_the_guide_and_its_steps_are_refused(
        self, client: httpx.AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        j = job_install
        headers = await portal_headers(client, j.owner.who.subject)
        url = f"/portal/installs/{j.owner.id}/guide"
        r = await client.get(url, headers={**headers, **EN})
        assert r.status_code == 403 and "Only whoever started this install can carry it out" in r.text
        steps = {
            "scan": {"payload": j.payload},
            "location": {"lat": "51.9681", "lon": "5.9172", "accuracy_m": "6"},
            "reading": {"value": "99999"},
            "submit": {},
        }
        for step, fields in steps.items():
            r = await client.post(f"{url}/{step}", headers=headers, data=form(headers, **fields))
            assert r.status_code == 403, step
        for slot in slots_of(j.owner.asset_type):
            files = {"photo": (f"{slot}.jpg", make.photo(slot, payload=j.payload, serial=j.serial), "image/jpeg")}
            sent = {**headers, **EN}
            r = await client.post(f"{url}/photos/{slot}", headers=sent, data=form(headers), files=files)
            assert r.status_code == 403 and "Only whoever started this install can carry it out" in r.text, slot
        r = await client.post(
            f"/portal/installs/{j.owner.id}/help", headers={**headers, **EN}, data=form(headers, message="Ik kijk mee")
        )
        assert r.status_code == 403 and "Only whoever started this install can carry it out" in flash_of(r)
        api = (await client.get(j.installer.url, headers=j.installer.who.headers)).json()
        assert (api["state"], api["asset"], api["reading"], api["location"], api["photos"]) == (
            "draft",
            None,
            None,
            None,
            [],
        )


class TestOnceDecided:
    async def test_only_asking_for_a_person_is_offered(
        self, client: httpx.AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        j = job_install
        await finished(client, make, j)
        headers = await portal_headers(client, j.owner.who.subject)
        page = await client.get(f"/portal/installs/{j.owner.id}", headers={**headers, **EN})
        assert _forms(page) == [f"/portal/installs/{j.owner.id}/help"]
        r = await client.post(
            f"/portal/installs/{j.owner.id}/help", headers=headers, data=form(headers, message="Wat is geplaatst?")
        )
        assert r.status_code == 303 and "msg=help_sent" in r.headers["location"], r.headers["location"]
        api = (await client.get(j.installer.url, headers=j.installer.who.headers)).json()
        assert api["state"] == "approved"
