"""Dispatch in the console (issue 13): the forms reach the same service as /admin/v1/jobs, a refusal is
shown in words (a batch's by line), the list filters and pages by cursor."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.jobs.tables import Job
from backend.local_time import OPERATOR_ZONE, NoSuchLocalTime, on_operator_clock
from backend.principal import Role
from tests.console.helpers import console_headers
from tests.factories import Factory
from tests.jobs.helpers import job_actions


@pytest.fixture
async def admin(client: AsyncClient, make: Factory) -> dict[str, str]:
    return await console_headers(client, make, Role.ADMIN, f"admin-{uuid.uuid4().hex[:6]}")


def _local(hours_ahead: int) -> str:
    moment = datetime.now(UTC).astimezone(OPERATOR_ZONE) + timedelta(hours=hours_ahead)
    return f"{moment:%Y-%m-%dT%H:%M}"


def _form(ean: str, **fields: str) -> dict[str, str]:
    return {"ean": ean, "asset_type": "smart_meter_1p", "window_start": _local(24), "window_end": _local(28), **fields}


async def _jobs_of(installer: str) -> list[dict[str, object]]:
    return await Job.select().where(Job.installer_subject == installer).order_by(Job.id)


class TestCreate:
    async def test_a_job_from_the_form(self, client: AsyncClient, make: Factory, admin: dict[str, str]) -> None:
        installer = f"inst-{uuid.uuid4().hex[:6]}"
        serial, _ = await make.asset()
        form = _form(await make.connection(), installer=installer, serial=serial)
        r = await client.post("/console/jobs", data=form, headers=admin)
        assert r.status_code == 303 and r.headers["location"] == "/console/jobs?msg=job_created"
        (job,) = await _jobs_of(installer)
        assert job["state"] == "assigned" and job["asset"] is not None
        # The wall time typed is Amsterdam's: stored as the same instant.
        assert job["window_start"] == datetime.fromisoformat(form["window_start"]).replace(tzinfo=OPERATOR_ZONE)
        assert await job_actions(job["id"]) == [("job.created", "assigned")]
        page = await client.get(f"/console/jobs?installer={installer}&msg=job_created", headers=admin)
        assert "De opdracht is aangemaakt." in page.text and "toegewezen" in page.text
        assert "slimme meter (1-fase)" in page.text and ">assigned<" not in page.text

    async def test_every_fault_in_words_and_nothing_stored(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        before = await Job.count()
        form = _form("871687000000000000", serial="NOPE-1", installer="inst-x", self_install="1")
        r = await client.post("/console/jobs", data=form, headers=admin)
        assert r.status_code == 422 and await Job.count() == before
        assert "Opdracht geweigerd: er is niets opgeslagen." in r.text
        assert "onbekende aansluiting (EAN) 871687000000000000" in r.text and "onbekend serienummer NOPE-1" in r.text
        assert "</td><td>EAN</td>" in r.text and "</td><td>serienummer</td>" in r.text  # fields in words
        assert 'value="871687000000000000"' in r.text  # what was typed stays in the form

    async def test_a_malformed_field_is_worded_by_the_apis_rules(
        self, client: AsyncClient, admin: dict[str, str]
    ) -> None:
        r = await client.post("/console/jobs", data=_form("12345"), headers=admin)
        assert r.status_code == 422 and "regel 1: het veld &#39;ean&#39;" in r.text


class TestImport:
    async def test_all_lines_or_none_each_fault_by_its_line(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        installer = f"inst-{uuid.uuid4().hex[:6]}"
        start, end = (
            (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            (datetime.now(UTC) + timedelta(days=1, hours=4)).isoformat(),
        )
        good = [f"{await make.connection()},smart_meter_1p,{start},{end},{installer},," for _ in range(2)]
        header = "ean,asset_type,window_start,window_end,installer,self_install,serial"
        bad = "\n".join([header, *good, f"871687000000000000,smart_meter_1p,{start},{end},{installer},,"])
        r = await client.post("/console/jobs/import", files={"file": ("jobs.csv", bad, "text/csv")}, headers=admin)
        assert r.status_code == 422 and await _jobs_of(installer) == []
        assert "regel 4: onbekende aansluiting (EAN) 871687000000000000" in r.text
        assert "(EAN) 871687000000000000</td><td>EAN</td>" in r.text

        csv = "\n".join([header, *good])
        r = await client.post("/console/jobs/import", files={"file": ("jobs.csv", csv, "text/csv")}, headers=admin)
        assert r.status_code == 303 and r.headers["location"] == "/console/jobs?msg=jobs_imported"
        assert len(await _jobs_of(installer)) == 2

    async def test_a_file_that_is_no_csv_of_jobs(self, client: AsyncClient, admin: dict[str, str]) -> None:
        r = await client.post(
            "/console/jobs/import", files={"file": ("x.csv", "a,b\n1,2\n", "text/csv")}, headers=admin
        )
        assert r.status_code == 422 and "regel 1: de kopregel moet" in r.text


class TestAssignAndCancel:
    async def test_assign_re_assign_then_cancel(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        first, second = f"inst-{uuid.uuid4().hex[:6]}", f"inst-{uuid.uuid4().hex[:6]}"
        await client.post("/console/jobs", data=_form(await make.connection(), installer=first), headers=admin)
        (job,) = await _jobs_of(first)
        r = await client.post(
            f"/console/jobs/{job['id']}/assign", data={"version": "1", "installer": second}, headers=admin
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/jobs?msg=job_assigned"
        (moved,) = await _jobs_of(second)
        assert moved["id"] == job["id"] and moved["version"] == 2

        stale = await client.post(f"/console/jobs/{job['id']}/cancel", data={"version": "1"}, headers=admin)
        assert stale.status_code == 409 and "intussen gewijzigd (nu versie 2)" in stale.text

        r = await client.post(
            f"/console/jobs/{job['id']}/cancel", data={"version": "2", "reason": "afgezegd"}, headers=admin
        )
        assert r.status_code == 303
        again = await client.post(f"/console/jobs/{job['id']}/cancel", data={"version": "3"}, headers=admin)
        assert again.status_code == 409 and "De opdracht is geannuleerd;" in again.text  # the state in words
        assert [a for a, _ in await job_actions(job["id"])] == ["job.created", "job.assigned", "job.cancelled"]

    async def test_neither_or_both_assignees_is_refused_in_words(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        installer = f"inst-{uuid.uuid4().hex[:6]}"
        await client.post("/console/jobs", data=_form(await make.connection(), installer=installer), headers=admin)
        (job,) = await _jobs_of(installer)
        r = await client.post(f"/console/jobs/{job['id']}/assign", data={"version": "1"}, headers=admin)
        assert r.status_code == 422 and "precies één" in r.text


class TestList:
    async def test_filters_and_pages_by_cursor(self, client: AsyncClient, make: Factory, admin: dict[str, str]) -> None:
        installer = f"inst-{uuid.uuid4().hex[:6]}"
        start = datetime.now(UTC) + timedelta(days=2)
        header = "ean,asset_type,window_start,window_end,installer,self_install,serial"
        lines = [
            f"{await make.connection()},smart_meter_1p,{(start + timedelta(minutes=i)).isoformat()},"
            f"{(start + timedelta(hours=4)).isoformat()},{installer},,"
            for i in range(26)
        ]
        r = await client.post(
            "/console/jobs/import", files={"file": ("j.csv", "\n".join([header, *lines]), "text/csv")}, headers=admin
        )
        assert r.status_code == 303, r.text
        first = await client.get(f"/console/jobs?installer={installer}", headers=admin)
        assert first.text.count('<tr id="job-') == 25
        link = re.search(r'id="next-page" href="([^"]+)"', first.text)
        assert link is not None
        second = await client.get(link.group(1).replace("&amp;", "&"), headers=admin)
        assert second.text.count('<tr id="job-') == 1 and 'id="next-page"' not in second.text
        cancelled = await client.get(f"/console/jobs?installer={installer}&state=cancelled", headers=admin)
        assert "Geen opdrachten." in cancelled.text


class TestClockChanges:
    async def test_a_time_the_clock_skips_is_refused_by_its_field(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        """02:30 on the last Sunday of March does not exist in Amsterdam: refused in words, not moved an hour."""
        before = await Job.count()
        skipped = {"window_start": "2030-03-31T02:30", "window_end": "2030-03-31T06:00"}
        r = await client.post("/console/jobs", data={**_form(await make.connection()), **skipped}, headers=admin)
        assert r.status_code == 422 and await Job.count() == before
        assert "2030-03-31T02:30 bestaat niet op de klok" in r.text

    def test_the_autumns_repeated_hour_means_its_first(self) -> None:
        at = on_operator_clock(datetime(2030, 10, 27, 2, 30))
        assert at.utcoffset() == timedelta(hours=2)  # still summer time: the first of the two 02:30s
        with pytest.raises(NoSuchLocalTime):
            on_operator_clock(datetime(2030, 3, 31, 2, 0))


class TestHostileForms:
    @pytest.mark.parametrize(
        "change",
        [
            {"installer": "inst\x00x"},
            {"ean": "8716870000000000\x0054"},
            {"window_start": "2026-13-45T99:99"},
            {"serial": "x" * 5000},
            {"asset_type": "../../etc"},
        ],
    )
    async def test_a_create_form_is_refused_in_words_never_a_500(
        self, client: AsyncClient, make: Factory, admin: dict[str, str], change: dict[str, str]
    ) -> None:
        before = await Job.count()
        r = await client.post("/console/jobs", data={**_form(await make.connection()), **change}, headers=admin)
        assert r.status_code == 422 and await Job.count() == before
        assert 'class="card faults"' in r.text

    @pytest.mark.parametrize(
        ("action", "form"),
        [
            ("assign", {"version": "²", "installer": "inst-x"}),
            ("assign", {"version": "99999999999999999999", "installer": "inst-x"}),
            ("assign", {"version": "1", "installer": "a\x1bb"}),
            ("cancel", {"version": "1", "reason": "nul\x00"}),
            ("cancel", {"version": "-1"}),
        ],
    )
    async def test_assign_and_cancel_forms(
        self, client: AsyncClient, make: Factory, admin: dict[str, str], action: str, form: dict[str, str]
    ) -> None:
        installer = f"inst-{uuid.uuid4().hex[:6]}"
        await client.post("/console/jobs", data=_form(await make.connection(), installer=installer), headers=admin)
        (job,) = await _jobs_of(installer)
        r = await client.post(f"/console/jobs/{job['id']}/{action}", data=form, headers=admin)
        assert r.status_code == 422, r.text
        (after,) = await Job.select().where(Job.id == job["id"])
        assert (after["version"], after["state"]) == (1, "assigned")

    @pytest.mark.parametrize("body", [b"\xff\xfe\x00binary", b"ean\n" + b"9" * 200_000, b""])
    async def test_a_file_that_is_no_csv(self, client: AsyncClient, admin: dict[str, str], body: bytes) -> None:
        before = await Job.count()
        r = await client.post("/console/jobs/import", files={"file": ("x.csv", body, "text/csv")}, headers=admin)
        assert 400 <= r.status_code < 500 and await Job.count() == before

    async def test_a_form_without_the_csrf_token_is_refused(
        self, client: AsyncClient, make: Factory, admin: dict[str, str]
    ) -> None:
        before = await Job.count()
        headers = {"Cookie": admin["Cookie"]}  # the session, but not the token
        r = await client.post("/console/jobs", data=_form(await make.connection()), headers=headers)
        assert r.status_code == 403 and await Job.count() == before
