"""Issue 13's flows end to end, each through the API from its first step to the customer's mailbox (a real
SMTP server, aiosmtpd): the pieces are tested one by one beside their code; here they must work together.

- dispatch -> the installer's job list -> an install from the job -> approval -> the customer's e-mail
  -> the device confirmed -> a second e-mail;
- a specialist's request for an extra photo and an answer -> the customer's e-mail -> photo and reply ->
  the case back in the queue;
- self-service that fails three times (complexity) -> a visit offered by the policy -> a window picked
  -> the customer's e-mail -> the installer's job with the case's brief.
"""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_row, install_of, whole_queue
from tests.integrations.helpers import body, in_review_complexity, reported, system
from tests.jobs.helpers import JOBS, MY_JOBS, created_job, start
from tests.jobs.test_visits import pick, visit_of, visit_row
from tests.mobile_api.helpers import Draft, enter_reading, locate, scan, slots_of, submit, upload
from tests.notifications.conftest import Inbox, Mail
from tests.notifications.helpers import address, body_of, prefer
from tests.review.test_info_requests import QUESTION, asked, message


class TestDispatchToConfirmedMeter:
    async def test_the_customer_hears_of_the_installers_work_twice(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        customer, installer, admin = make.party(Role.CUSTOMER), make.party(Role.INSTALLER), make.party(Role.ADMIN)
        to = address()
        await prefer(client, customer, to, "nl")
        serial, payload = await make.asset()
        ean = await make.connection(owner=customer.subject)
        job = await created_job(client, admin, ean, installer=installer.subject, serial=serial)

        listed = (await client.get(MY_JOBS, headers=installer.headers)).json()["items"]
        assert [j["id"] for j in listed] == [job["id"]]
        install_id = str(uuid.uuid4())
        assert (await start(client, installer, job["id"], install_id)).status_code == 201
        d = Draft(who=installer, id=install_id, ean=ean, asset_type="smart_meter_1p", serial=serial)
        assert (await scan(client, d, payload)).status_code == 200
        assert (await locate(client, d, make.fix())).status_code == 200
        assert (await enter_reading(client, d, 4512.7)).status_code == 200
        for slot in slots_of("smart_meter_1p"):
            assert (await upload(client, d, slot, make.photo(slot, payload=payload, serial=serial))).status_code == 201
        assert (await submit(client, d)).json()["state"] == "approved"

        await mail.drain()
        [approved_mail] = inbox.to(to)
        assert approved_mail["Subject"] == "Uw installatie is goedgekeurd"
        # The installer's own install, yet the customer's: they see it and were told of it.
        mine = await client.get(f"/mobile/v1/installs/{install_id}", headers=customer.headers)
        assert mine.status_code == 200 and mine.json()["state"] == "approved", mine.text

        answer = await reported(client, system(make), body(serial, ean, import_kwh=4520.0))
        assert answer["outcomes"] == ["confirmed"]
        await mail.drain()
        approved_again, confirmed = inbox.to(to)
        assert approved_again is approved_mail  # never sent twice for one event
        assert "heeft zich bij ons gemeld" in body_of(confirmed), body_of(confirmed)


class TestRequestForInformation:
    async def test_asked_told_answered_and_back_in_the_queue(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d, case_id, spec = await asked(client, make, extra_photo="een foto van de aardlekschakelaar", question=QUESTION)
        to = address()
        await prefer(client, d.who, to, "nl")  # set after the request: the row is addressed when it is sent
        await mail.drain()
        [told] = inbox.to(to)
        assert "aardlekschakelaar" in body_of(told) and QUESTION in body_of(told), body_of(told)

        seen = await install_of(client, d)
        slot = next(a["subject"] for a in seen["next_actions"] if a["code"] == "upload_extra_photo")
        assert (await message(client, d, "Op 12 mei.")).status_code in (200, 201)
        assert (await upload(client, d, slot, make.photo("cabinet_overview"))).status_code == 201
        row = await case_row(d.id)
        assert row["state"] == "open" and row["claimed_by"] is None
        assert case_id in [i["case_id"] for i in await whole_queue(client, spec, reason="human_requested")]


class TestComplexityToVisit:
    async def test_a_visit_offered_picked_told_and_on_the_installers_list(
        self, client: AsyncClient, make: Factory, inbox: Inbox, mail: Mail
    ) -> None:
        d = await in_review_complexity(client, make)
        to = address()
        await prefer(client, d.who, to, "en")
        visit = await visit_of(client, d)
        assert visit["state"] == "offered" and visit["windows"], visit
        r = await pick(client, d, visit["windows"][0])
        assert r.status_code == 200, r.text
        await mail.drain()
        # The retakes were told as they came; the pick, once, in the customer's language.
        assert [m["Subject"] for m in inbox.to(to)].count("An installer is coming") == 1

        # A dispatcher assigns the visit's job (visits.toml names no default installer); it is then on
        # the installer's list with the case's brief, and the case waits for it.
        job_id = (await visit_row(d.id))["job"]
        installer = make.party(Role.INSTALLER)
        r = await client.post(
            f"{JOBS}/{job_id}/assign",
            json={"version": 1, "installer": installer.subject},
            headers=make.party(Role.ADMIN).headers,
        )
        assert r.status_code == 200, r.text
        [item] = (await client.get(MY_JOBS, headers=installer.headers)).json()["items"]
        assert item["id"] == job_id and item["visit"]["reasons"] == ["complexity"]
        assert (await case_row(d.id))["state"] == "visit"
