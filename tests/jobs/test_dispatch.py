"""Dispatch over /admin/v1/jobs: create, allocate, assign, re-assign, cancel, list and import (issue 13)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient

from backend.jobs.service import MAX_BATCH
from backend.principal import Role
from tests.factories import Factory, Party
from tests.helpers.webhooks import OutboxEvent
from tests.jobs.helpers import JOBS, create_job, created_job, job_actions, job_count, start, window
from tests.mobile_api.helpers import problem


@pytest.fixture
def admin(make: Factory) -> Party:
    return make.party(Role.ADMIN)


def _faults(body: dict[str, Any]) -> list[tuple[int, str | None, str]]:
    return [(e["line"], e["field"], e["kind"]) for e in body["errors"]]


class TestCreateJob:
    async def test_an_installers_job_with_an_allocated_asset(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        ean, (serial, _) = await make.connection(), await make.asset()
        job = await created_job(client, admin, ean, installer="inst-a", serial=serial)
        assert (job["state"], job["assignee"], job["installer"], job["serial"]) == (
            "assigned",
            "installer",
            "inst-a",
            serial,
        )
        assert job["ean"] == ean and job["version"] == 1 and job["install_id"] is None
        assert job["address"] == "Jansbinnensingel 14, 6811AL Arnhem" and job["created_by"] == admin.subject
        assert await job_actions(job["id"]) == [("job.created", "assigned")]
        events = await OutboxEvent.select().where(OutboxEvent.event_type == "job.created").output(load_json=True)
        assert [e["payload"]["to"] for e in events if e["payload"]["job"] == job["id"]] == ["assigned"]

    async def test_planned_without_an_assignee_and_the_customers_own(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        planned = await created_job(client, admin, await make.connection())
        assert (planned["state"], planned["assignee"], planned["installer"]) == ("planned", None, None)
        own = await created_job(client, admin, await make.connection(), self_install=True)
        assert (own["state"], own["assignee"]) == ("assigned", "customer")

    async def test_every_fault_is_named_and_nothing_is_stored(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        ean = await make.connection(capacity="3x25A")
        battery, _ = await make.asset("home_battery")
        before = await job_count()
        r = await create_job(
            client, admin, ean, installer="inst-a", self_install=True, serial=battery, **window(hours=30)
        )
        body = problem(r, 422, "jobs/invalid")
        assert _faults(body) == [
            (1, "asset_type", "capacity"),  # a single-phase meter on a three-phase connection
            (1, "window_end", "window-too-long"),
            (1, "installer", "assignee"),
            (1, "serial", "serial-other-type"),
        ]
        english = await client.post(
            JOBS,
            json={"ean": "871687999999999999", "asset_type": "toaster", **window(timedelta(days=-2))},
            headers={**admin.headers, "Accept-Language": "en"},
        )
        body = problem(english, 422, "jobs/invalid")
        assert _faults(body) == [
            (1, "ean", "unknown-ean"),
            (1, "asset_type", "unknown-asset-type"),
            (1, "window_end", "window-past"),
        ]
        assert "unknown connection (EAN) 871687999999999999" in body["detail"]
        assert await job_count() == before

    async def test_a_role_the_catalog_does_not_let_install_it(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        ean = await make.connection(capacity="3x25A")
        r = await create_job(client, admin, ean, asset_type="smart_meter_3p", self_install=True)
        assert _faults(problem(r, 422, "jobs/invalid")) == [(1, "self_install", "role-not-allowed")]


class TestAllocation:
    async def test_an_asset_is_allocated_to_one_live_job_at_a_time(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        serial, _ = await make.asset()
        first = await created_job(client, admin, await make.connection(), serial=serial)
        r = await create_job(client, admin, await make.connection(), serial=serial)
        body = problem(r, 422, "jobs/invalid")
        assert _faults(body) == [(1, "serial", "serial-allocated")]
        assert f"opdracht {first['id']}" in body["detail"]
        cancelled = await client.post(
            f"{JOBS}/{first['id']}/cancel", json={"version": 1, "reason": "afgezegd"}, headers=admin.headers
        )
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled", cancelled.text
        again = await created_job(client, admin, await make.connection(), serial=serial)  # free again
        assert again["serial"] == serial

    async def test_unknown_installed_or_twice_in_one_batch(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        installed, _ = await make.asset(status="installed")
        r = await create_job(client, admin, await make.connection(), serial=installed)
        assert _faults(problem(r, 422, "jobs/invalid")) == [(1, "serial", "serial-not-in-stock")]
        r = await create_job(client, admin, await make.connection(), serial="MTR1-NOSUCH")
        assert _faults(problem(r, 422, "jobs/invalid")) == [(1, "serial", "unknown-serial")]


class TestAssignAndCancel:
    async def test_assign_then_reassign_each_by_the_version_read(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        job = await created_job(client, admin, await make.connection())
        url = f"{JOBS}/{job['id']}"
        r = await client.post(f"{url}/assign", json={"version": 1, "installer": "inst-a"}, headers=admin.headers)
        assert (r.status_code, r.json()["state"], r.json()["installer"], r.json()["version"]) == (
            200,
            "assigned",
            "inst-a",
            2,
        )
        stale = await client.post(f"{url}/assign", json={"version": 1, "installer": "inst-b"}, headers=admin.headers)
        assert "versie 2" in problem(stale, 409, "job/stale-version")["detail"]
        r = await client.post(f"{url}/assign", json={"version": 2, "self_install": True}, headers=admin.headers)
        assert (r.json()["assignee"], r.json()["installer"]) == ("customer", None)
        for body in ({"version": 3}, {"version": 3, "installer": "inst-b", "self_install": True}):
            problem(await client.post(f"{url}/assign", json=body, headers=admin.headers), 422, "job/assignee-invalid")
        assert await job_actions(job["id"]) == [
            ("job.created", "planned"),
            ("job.assigned", "assigned"),
            ("job.assigned", "assigned"),
        ]

    async def test_a_job_in_progress_or_ended_is_not_dispatched_again(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        installer = make.party(Role.INSTALLER)
        job = await created_job(client, admin, await make.connection(), installer=installer.subject)
        assert (await start(client, installer, job["id"])).status_code == 201
        url = f"{JOBS}/{job['id']}"
        for action, body in (("assign", {"version": 2, "installer": "inst-b"}), ("cancel", {"version": 2})):
            r = await client.post(f"{url}/{action}", json=body, headers=admin.headers)
            assert problem(r, 409, "job/state-conflict")["detail"] == "De opdracht is bezig; dat kan nu niet."
        ended = await created_job(client, admin, await make.connection())
        assert (
            await client.post(f"{JOBS}/{ended['id']}/cancel", json={"version": 1}, headers=admin.headers)
        ).is_success
        r = await client.post(f"{JOBS}/{ended['id']}/cancel", json={"version": 2}, headers=admin.headers)
        problem(r, 409, "job/state-conflict")

    async def test_unknown_job_is_404(self, client: AsyncClient, admin: Party) -> None:
        problem(await client.get(f"{JOBS}/2147483647", headers=admin.headers), 404, "job/not-found")
        r = await client.post(f"{JOBS}/2147483647/cancel", json={"version": 1}, headers=admin.headers)
        problem(r, 404, "job/not-found")


class TestListJobs:
    async def test_by_window_with_a_cursor_and_filters(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        installer = f"inst-{make.party(Role.INSTALLER).subject}"
        ids = [
            (
                await created_job(
                    client, admin, await make.connection(), installer=installer, **window(timedelta(hours=h))
                )
            )["id"]
            for h in (30, 10, 20)
        ]
        r = await client.get(JOBS, params={"installer": installer, "limit": 2}, headers=admin.headers)
        page = r.json()
        assert [j["id"] for j in page["items"]] == [ids[1], ids[2]] and page["next_cursor"]
        r = await client.get(
            JOBS, params={"installer": installer, "limit": 2, "cursor": page["next_cursor"]}, headers=admin.headers
        )
        assert [j["id"] for j in r.json()["items"]] == [ids[0]] and r.json()["next_cursor"] is None
        await client.post(f"{JOBS}/{ids[2]}/cancel", json={"version": 1}, headers=admin.headers)
        r = await client.get(JOBS, params={"installer": installer, "state": "cancelled"}, headers=admin.headers)
        assert [j["id"] for j in r.json()["items"]] == [ids[2]]
        r = await client.get(f"{JOBS}/{ids[2]}", headers=admin.headers)
        assert r.json()["state"] == "cancelled" and r.json()["version"] == 2


def _csv(*lines: str) -> bytes:
    return (
        "ean,asset_type,window_start,window_end,installer,self_install,serial\n" + "".join(f"{x}\n" for x in lines)
    ).encode()


class TestImportJobs:
    async def test_a_good_csv_creates_every_line(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        eans = [await make.connection() for _ in range(3)]
        serial, _ = await make.asset()
        w = window()
        at = f"{w['window_start']},{w['window_end']}"
        body = _csv(
            f"{eans[0]},smart_meter_1p,{at},inst-a,,{serial}",
            "",
            f"{eans[1]},smart_meter_1p,{at},,true,",
            f"{eans[2]},smart_meter_1p,{at},,,",
        )
        r = await client.post(f"{JOBS}/import", content=body, headers={**admin.headers, "Content-Type": "text/csv"})
        assert r.status_code == 201, r.text
        jobs = r.json()["jobs"]
        assert r.json()["created"] == 3
        assert [(j["ean"], j["state"], j["assignee"], j["serial"]) for j in jobs] == [
            (eans[0], "assigned", "installer", serial),
            (eans[1], "assigned", "customer", None),
            (eans[2], "planned", None, None),
        ]

    async def test_a_json_list_too(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        items = [{"ean": await make.connection(), "asset_type": "smart_meter_1p", **window()} for _ in range(2)]
        r = await client.post(f"{JOBS}/import", json=items, headers=admin.headers)
        assert r.status_code == 201 and r.json()["created"] == 2, r.text

    async def test_bad_lines_are_named_by_number_and_nothing_is_stored(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        ean = await make.connection()
        serial, _ = await make.asset()
        w = window()
        at = f"{w['window_start']},{w['window_end']}"
        before = await job_count()
        body = _csv(
            f"{ean},smart_meter_1p,{at},inst-a,,{serial}",  # good
            f"{ean},smart_meter_1p,{at},,,{serial}",  # the same asset again
            f"{ean},smart_meter_1p,{w['window_end']},{w['window_start']},,,",  # window backwards
            f"{ean},smart_meter_1p,tomorrow,{w['window_end']},,,",  # not a time
            f"{ean},smart_meter_1p",  # too few fields
        )
        r = await client.post(f"{JOBS}/import", content=body, headers={**admin.headers, "Content-Type": "text/csv"})
        assert _faults(problem(r, 422, "jobs/invalid-batch")) == [(6, None, "field-count")]
        r = await client.post(
            f"{JOBS}/import",
            content=body.rsplit(b"\n", 2)[0] + b"\n",
            headers={**admin.headers, "Content-Type": "text/csv"},
        )
        faults = _faults(problem(r, 422, "jobs/invalid-batch"))
        assert faults == [(5, "window_start", "datetime")]
        r = await client.post(
            f"{JOBS}/import",
            content=body.rsplit(b"\n", 3)[0] + b"\n",
            headers={**admin.headers, "Content-Type": "text/csv"},
        )
        body_ = problem(r, 422, "jobs/invalid-batch")
        assert _faults(body_) == [(3, "serial", "repeated-serial"), (4, "window_end", "window-order")]
        assert "regel 3: serienummer" in body_["detail"]
        assert await job_count() == before

    async def test_a_batch_without_a_line_is_refused_not_done(self, client: AsyncClient, admin: Party) -> None:
        header = b"ean,asset_type,window_start,window_end,installer,self_install,serial\n"
        before = await job_count()
        for content, kind in ((header, "text/csv"), (header + b"\n\n", "text/csv"), (b"[]", "application/json")):
            r = await client.post(f"{JOBS}/import", content=content, headers={**admin.headers, "Content-Type": kind})
            assert _faults(problem(r, 422, "jobs/invalid-batch")) == [(1, None, "empty-batch")], content
        assert await job_count() == before

    async def test_a_line_with_more_fields_than_the_header_is_refused(self, client: AsyncClient, admin: Party) -> None:
        """An unquoted comma in a field shifts the fields after it: the line is refused, not read askew."""
        header = b"ean,asset_type,window_start,window_end,installer,self_install,serial"
        line = b"871687000000000016,smart_meter_1p,2030-01-01T08:00:00Z,2030-01-01T12:00:00Z,inst-x,,,extra"
        csv = {**admin.headers, "Content-Type": "text/csv"}
        r = await client.post(f"{JOBS}/import", content=header + b"\n" + line + b"\n", headers=csv)
        assert _faults(problem(r, 422, "jobs/invalid-batch")) == [(2, None, "field-count")]

    async def test_a_wrong_header_is_line_1(self, client: AsyncClient, admin: Party) -> None:
        r = await client.post(
            f"{JOBS}/import", content=b"serial,asset_type\n", headers={**admin.headers, "Content-Type": "text/csv"}
        )
        body = problem(r, 422, "jobs/invalid-batch")
        assert _faults(body) == [(1, None, "header")]
        assert "ean,asset_type,window_start,window_end,installer,self_install,serial" in body["detail"]


class TestBatchBound:
    async def test_a_batch_past_the_bound_is_refused_before_any_lookup(self, client: AsyncClient, admin: Party) -> None:
        w = window()
        line = f"871687000000000009,smart_meter_1p,{w['window_start']},{w['window_end']},,,"
        body = _csv(*[line] * (MAX_BATCH + 1))
        r = await client.post(f"{JOBS}/import", content=body, headers={**admin.headers, "Content-Type": "text/csv"})
        assert _faults(problem(r, 422, "jobs/invalid-batch")) == [(MAX_BATCH + 2, None, "batch-too-large")]
