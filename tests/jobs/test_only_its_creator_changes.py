"""The connection's owner reads the install an installer does at their connection but changes nothing of it
(service.require_creator): every step of the installer's job install is refused to them with 403
install/not-creator, nothing is stored and the job goes on; once the install is decided they may ask for
a person about it, which leaves the install as it is."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from backend.installs.tables import Event, Photo
from backend.principal import Role
from backend.review.tables import ReviewCase
from tests.factories import Factory
from tests.helpers.review import case_id_of, decided, helped, install_of
from tests.jobs.helpers import JOBS, JobInstall, finished, started_job_install
from tests.mobile_api.helpers import (
    ask_help,
    enter_reading,
    locate,
    problem,
    scan,
    slots_of,
    submit,
    upload,
)
from tests.uploads.helpers import create_ietf, create_tus

EN = {"Accept-Language": "en"}


@pytest.fixture
async def job_install(client: AsyncClient, make: Factory) -> JobInstall:
    return await started_job_install(client, make)


async def _job_state(client: AsyncClient, make: Factory, job_id: int) -> str:
    r = await client.get(f"{JOBS}/{job_id}", headers=make.party(Role.ADMIN).headers)
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


async def _customer_help_cases(install_id: str) -> int:
    return await ReviewCase.count().where(
        (ReviewCase.install == uuid.UUID(install_id)) & (ReviewCase.kind == "customer_help")
    )


class TestTheOwnerCannotDoTheInstallersJob:
    async def test_every_step_is_refused_and_nothing_changes(
        self, client: AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        j, owner = job_install, job_install.owner
        before = await install_of(client, j.installer)
        events_before = await Event.count().where(Event.install == uuid.UUID(owner.id))
        photo = make.photo("meter_label", payload=j.payload, serial=j.serial)
        refused = {
            "scan": await scan(client, owner, j.payload),
            "reading": await enter_reading(client, owner, 99999),
            "location": await locate(client, owner, make.fix()),
            **{f"photo {slot}": await upload(client, owner, slot, photo) for slot in slots_of(owner.asset_type)},
            "resumable upload": await create_ietf(client, owner, "meter_label", photo[:1000]),
            "tus upload": await create_tus(client, owner, "meter_label", len(photo)),
            "submit": await submit(client, owner),
            "help": await ask_help(client, owner, "Ik kijk even mee"),
            "objection": await client.post(f"{owner.url}/objection", json={"message": "x"}, headers=owner.who.headers),
            "cancel": await client.post(f"{owner.url}/cancel", json={}, headers=owner.who.headers),
        }
        for step, r in refused.items():
            body = problem(r, 403, "install/not-creator")
            assert "Ik kijk even mee" not in r.text, step
            assert body["detail"], step
        # The specialist's question is asked of the installer: its older code, for the app.
        r = await client.post(f"{owner.url}/messages", json={"text": "x"}, headers=owner.who.headers)
        problem(r, 403, "message/not-creator")

        after = await install_of(client, j.installer)
        assert (after["state"], after["asset"], after["reading"], after["location"], after["photos"]) == (
            "draft",
            None,
            None,
            None,
            [],
        )
        assert after["version"] == before["version"] and after["reasons"] == []
        assert await Photo.count().where(Photo.install == uuid.UUID(owner.id)) == 0
        assert await Event.count().where(Event.install == uuid.UUID(owner.id)) == events_before
        assert await _job_state(client, make, j.job) == "in_progress"
        await finished(client, make, j)  # the installer's job goes on as if nobody had tried
        assert await _job_state(client, make, j.job) == "done"

    async def test_the_owner_still_reads_it_and_is_told_it_is_the_installers(
        self, client: AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        seen = await install_of(client, job_install.owner, **EN)
        assert seen["id"] == job_install.owner.id and seen["state"] == "draft"
        # Not the installer's steps as the owner's to do: theirs is to wait.
        assert [(a["code"], a["text"]) for a in seen["next_actions"]] == [
            ("wait", "An installer does this install at your connection. There is nothing you need to do.")
        ]
        mine = await install_of(client, job_install.installer)
        assert "scan_label" in [a["code"] for a in mine["next_actions"]]
        r = await scan(client, job_install.owner, job_install.payload)
        assert (
            "Alleen wie deze installatie begon, kan hem uitvoeren" in problem(r, 403, "install/not-creator")["detail"]
        )

    async def test_in_review_the_owner_does_not_send_it_to_a_person(
        self, client: AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        """Mid-job or mid-review the installer's install is not the owner's to escalate; only after the decision."""
        await helped(client, job_install.installer)
        problem(await ask_help(client, job_install.owner), 403, "install/not-creator")
        assert await _customer_help_cases(job_install.owner.id) == 0


class TestWhatTheOwnerMayDoOnceDecided:
    async def test_ask_for_a_person_about_the_approved_install(
        self, client: AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        j = job_install
        approved = await finished(client, make, j)
        r = await ask_help(client, j.owner, "Wat is er precies geplaatst?")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved" and r.json()["reading"] == approved["reading"]
        assert [a["code"] for a in r.json()["next_actions"]] == ["ask_for_help"]  # no new install of theirs here
        assert await _customer_help_cases(j.owner.id) == 1  # a person contacts the customer
        again = await ask_help(client, j.owner, "Wat is er precies geplaatst?")  # a retry whose answer was lost
        assert again.status_code == 200 and again.json() == r.json(), again.text
        assert await _job_state(client, make, j.job) == "done"
        # The installer's timeline does not say it was them who asked.
        texts = [e["text"] for e in (await install_of(client, j.installer, **EN))["timeline"]]
        assert "The customer asked for help from a person." in texts
        assert "You asked for help from a person." not in texts

    async def test_a_rejection_is_objected_to_by_the_installer_not_the_owner(
        self, client: AsyncClient, make: Factory, job_install: JobInstall
    ) -> None:
        j = job_install
        await helped(client, j.installer)
        await decided(client, make.party(Role.SPECIALIST), await case_id_of(j.owner.id), "reject", "not_eligible")
        r = await client.post(f"{j.owner.url}/objection", json={"message": "x"}, headers=j.owner.who.headers)
        problem(r, 403, "install/not-creator")
        assert (await install_of(client, j.installer))["state"] == "rejected"
        r = await ask_help(client, j.owner, "Waarom afgekeurd?")  # the owner's way to a person
        assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
        body = {"message": "De meter hangt er echt."}
        r = await client.post(f"{j.installer.url}/objection", json=body, headers=j.installer.who.headers)
        assert r.status_code == 200 and r.json()["state"] == "in_review", r.text
