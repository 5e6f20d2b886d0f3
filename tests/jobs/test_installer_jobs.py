"""An installer's side of dispatch: their job list, an install started from a job, the job following it
(issue 13): dispatch -> job list -> install from the job -> allocated asset, evidence, submit -> approved
-> job done."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.jobs.service import today_began
from backend.principal import Role
from tests.factories import Factory, Party, dispatch
from tests.jobs.helpers import JOBS, MY_JOBS, created_job, job_actions, start, window
from tests.mobile_api.helpers import (
    Draft,
    enter_reading,
    locate,
    new_install,
    problem,
    ready_install,
    scan,
    slots_of,
    submit,
    upload,
)


async def _dispatched(client: AsyncClient, make: Factory, installer: Party, **fields: object) -> tuple[dict, str, str]:
    """An admin's job for `installer` at a customer's connection, with an allocated meter: (job, serial, payload)."""
    serial, payload = await make.asset()
    ean = await make.connection(owner=make.party(Role.CUSTOMER).subject)
    job = await created_job(client, make.party(Role.ADMIN), ean, installer=installer.subject, serial=serial, **fields)
    return job, serial, payload


async def _job(client: AsyncClient, make: Factory, job_id: int) -> dict:
    r = await client.get(f"{JOBS}/{job_id}", headers=make.party(Role.ADMIN).headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestFromDispatchToDone:
    async def test_the_job_follows_its_install_to_done(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        job, serial, payload = await _dispatched(client, make, installer)
        listed = await client.get(MY_JOBS, headers=installer.headers)
        assert listed.status_code == 200, listed.text
        (item,) = listed.json()["items"]
        assert (item["id"], item["state"], item["serial"], item["connection"]["ean"]) == (
            job["id"],
            "assigned",
            serial,
            job["ean"],
        )
        assert item["asset_label"] == "slimme meter (1-fase)" and item["install_id"] is None

        install_id = str(uuid.uuid4())
        r = await start(client, installer, job["id"], install_id)
        assert r.status_code == 201, r.text
        assert (r.json()["id"], r.json()["state"], r.json()["connection"]["ean"]) == (install_id, "draft", job["ean"])
        assert (await start(client, installer, job["id"], install_id)).status_code == 200  # a retry
        problem(await start(client, installer, job["id"]), 409, "job/state-conflict")  # one install a job
        assert (await _job(client, make, job["id"]))["state"] == "in_progress"
        (item,) = (await client.get(MY_JOBS, headers=installer.headers)).json()["items"]
        assert (item["state"], item["install_id"]) == ("in_progress", install_id)

        d = Draft(who=installer, id=install_id, ean=job["ean"], asset_type="smart_meter_1p", serial=serial)
        assert (await scan(client, d, payload)).status_code == 200
        assert (await locate(client, d, make.fix())).status_code == 200
        assert (await enter_reading(client, d, 4512.7)).status_code == 200
        for slot in slots_of("smart_meter_1p"):
            r = await upload(client, d, slot, make.photo(slot, payload=payload, serial=serial))
            assert r.status_code == 201, r.text
        r = await submit(client, d)
        assert r.json()["state"] == "approved", r.text
        done = await _job(client, make, job["id"])
        assert (done["state"], done["install_id"]) == ("done", install_id)
        assert await job_actions(job["id"]) == [
            ("job.created", "assigned"),
            ("job.started", "in_progress"),
            ("job.done", "done"),
        ]
        assert (await client.get(MY_JOBS, headers=installer.headers)).json()["items"] == []  # done: off the list

    async def test_a_cancelled_install_cancels_its_job_and_frees_the_asset(
        self, client: AsyncClient, make: Factory
    ) -> None:
        installer = make.party(Role.INSTALLER)
        job, serial, _ = await _dispatched(client, make, installer)
        install_id = (await start(client, installer, job["id"])).json()["id"]
        r = await client.post(
            f"/mobile/v1/installs/{install_id}/cancel", json={"reason": "niet thuis"}, headers=installer.headers
        )
        assert r.status_code == 200, r.text
        assert (await _job(client, make, job["id"]))["state"] == "cancelled"
        again = await created_job(client, make.party(Role.ADMIN), job["ean"], serial=serial)
        assert again["serial"] == serial


class TestTheCustomersOwnJob:
    async def test_is_done_by_their_approved_install_there(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        admin = make.party(Role.ADMIN)
        job = await created_job(client, admin, d.ean, self_install=True)
        elsewhere = await created_job(client, admin, await make.connection(), self_install=True)
        assert (await submit(client, d)).json()["state"] == "approved"
        done = await _job(client, make, job["id"])
        assert (done["state"], done["install_id"]) == ("done", d.id)
        assert (await _job(client, make, elsewhere["id"]))["state"] == "assigned"
        assert await job_actions(job["id"]) == [("job.created", "assigned"), ("job.done", "done")]


class TestAllocatedAsset:
    async def test_another_asset_is_refused_by_kind_not_serial(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        job, serial, _ = await _dispatched(client, make, installer)
        install_id = (await start(client, installer, job["id"])).json()["id"]
        d = Draft(who=installer, id=install_id, ean=job["ean"], asset_type="smart_meter_1p")
        other_serial, other_payload = await make.asset()
        body = problem(await scan(client, d, other_payload), 422, "qr/not-allocated-asset")
        assert "(slimme meter (1-fase))" in body["detail"] and "smart_meter_1p" not in body["detail"]  # its label
        assert other_serial not in body["detail"] and serial not in body["detail"]
        r = await client.post(
            f"{d.url}/scan", json={"payload": other_payload}, headers={**installer.headers, "Accept-Language": "en"}
        )
        assert "than the one allocated to this job" in problem(r, 422, "qr/not-allocated-asset")["detail"]
        view = (await client.get(d.url, headers=installer.headers)).json()
        assert view["asset"] is None  # nothing was linked

    async def test_a_meter_held_by_a_job_is_refused_to_any_other_install(
        self, client: AsyncClient, make: Factory
    ) -> None:
        installer, admin = make.party(Role.INSTALLER), make.party(Role.ADMIN)
        job, serial, payload = await _dispatched(client, make, installer)
        # the customer's own install elsewhere, and another job of another installer without a meter
        own = await new_install(client, make)
        problem(await scan(client, own, payload), 422, "qr/asset-reserved")
        other = make.party(Role.INSTALLER)
        bare = await created_job(client, admin, await make.connection(), installer=other.subject)
        bare_id = (await start(client, other, bare["id"])).json()["id"]
        bare_draft = Draft(who=other, id=bare_id, ean=bare["ean"], asset_type="smart_meter_1p")
        body = problem(await scan(client, bare_draft, payload), 422, "qr/asset-reserved")
        assert serial in body["detail"]  # the label in hand says the serial; nothing of the job is told
        # the job's own install takes it; once the job is cancelled the meter is free for anyone
        mine = (await start(client, installer, job["id"])).json()["id"]
        assert (
            await scan(client, Draft(who=installer, id=mine, ean=job["ean"], asset_type="smart_meter_1p"), payload)
        ).status_code == 200
        second, second_serial, second_payload = await _dispatched(client, make, installer)
        r = await client.post(
            f"{JOBS}/{second['id']}/cancel", json={"version": second["version"]}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        assert (await scan(client, own, second_payload)).status_code == 200

    async def test_a_job_without_allocation_takes_any_fitting_asset(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        job = await created_job(client, make.party(Role.ADMIN), await make.connection(), installer=installer.subject)
        install_id = (await start(client, installer, job["id"])).json()["id"]
        _, payload = await make.asset()
        d = Draft(who=installer, id=install_id, ean=job["ean"], asset_type="smart_meter_1p")
        assert (await scan(client, d, payload)).status_code == 200


class TestJobList:
    async def test_todays_first_then_upcoming_only_their_own_by_cursor(
        self, client: AsyncClient, make: Factory
    ) -> None:
        installer, other = make.party(Role.INSTALLER), make.party(Role.INSTALLER)
        admin = make.party(Role.ADMIN)
        began = today_began(datetime.now(UTC))
        tomorrow = began + timedelta(days=1, hours=8)
        later_today = datetime.now(UTC) + timedelta(minutes=5)
        yesterday = began - timedelta(hours=10)

        async def job_at(start_at: datetime, who: Party = installer) -> int:
            at = {"window_start": start_at.isoformat(), "window_end": (start_at + timedelta(hours=2)).isoformat()}
            return (await created_job(client, admin, await make.connection(), installer=who.subject, **at))["id"]

        next_week = await job_at(began + timedelta(days=7, hours=8))
        soon = await job_at(later_today)
        tomorrows = await job_at(tomorrow)
        await job_at(tomorrow, other)
        cancelled = await job_at(tomorrow)
        await client.post(f"{JOBS}/{cancelled}/cancel", json={"version": 1}, headers=admin.headers)
        # A job whose window ended before today: the dispatcher's to plan again, not on today's list.
        ean = await make.connection()
        await dispatch(ean, installer=installer.subject, starts_in=yesterday - datetime.now(UTC), hours=2)

        r = await client.get(MY_JOBS, params={"limit": 2}, headers=installer.headers)
        assert [j["id"] for j in r.json()["items"]] == [soon, tomorrows]
        r = await client.get(MY_JOBS, params={"limit": 2, "cursor": r.json()["next_cursor"]}, headers=installer.headers)
        assert [j["id"] for j in r.json()["items"]] == [next_week] and r.json()["next_cursor"] is None
        english = await client.get(MY_JOBS, headers={**installer.headers, "Accept-Language": "en"})
        assert english.json()["items"][0]["asset_label"] == "smart meter (single phase)"

    async def test_another_installers_job_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        installer, other = make.party(Role.INSTALLER), make.party(Role.INSTALLER)
        job, _, _ = await _dispatched(client, make, installer)
        problem(await start(client, other, job["id"]), 404, "job/not-found")
        admin = make.party(Role.ADMIN)
        r = await client.post(
            f"{JOBS}/{job['id']}/assign", json={"version": 1, "installer": other.subject}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        problem(await start(client, installer, job["id"]), 404, "job/not-found")  # re-assigned away
        assert (await start(client, other, job["id"])).status_code == 201

    async def test_a_planned_or_customers_job_is_no_installers(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        admin = make.party(Role.ADMIN)
        planned = await created_job(client, admin, await make.connection(), **window())
        problem(await start(client, installer, planned["id"]), 404, "job/not-found")
