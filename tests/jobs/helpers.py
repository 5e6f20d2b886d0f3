"""Shared steps of the jobs tests: a dispatcher's requests and the installer's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response

from backend.installs.tables import Event
from backend.jobs.tables import Job
from backend.principal import Role
from tests.factories import Factory, Party
from tests.mobile_api.helpers import Draft, enter_reading, locate, scan, slots_of, submit, upload

JOBS = "/admin/v1/jobs"
MY_JOBS = "/mobile/v1/jobs"


def window(starts_in: timedelta = timedelta(hours=1), hours: float = 4) -> dict[str, str]:
    start = datetime.now(UTC) + starts_in
    return {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=hours)).isoformat()}


async def create_job(client: AsyncClient, admin: Party, ean: str, **fields: Any) -> Response:
    body = {"ean": ean, "asset_type": "smart_meter_1p", **window(), **fields}
    return await client.post(JOBS, json=body, headers=admin.headers)


async def created_job(client: AsyncClient, admin: Party, ean: str, **fields: Any) -> dict[str, Any]:
    r = await create_job(client, admin, ean, **fields)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def start(client: AsyncClient, installer: Party, job_id: int, install_id: str | None = None) -> Response:
    body = {"id": install_id or str(uuid.uuid4())}
    return await client.post(f"{MY_JOBS}/{job_id}/install", json=body, headers=installer.headers)


async def job_actions(job_id: int) -> list[tuple[str, str]]:
    """The audit log's entries about a job: (action, to state), oldest first."""
    rows = (
        await Event.select(Event.action, Event.detail)
        .where(Event.action.like("job.%"))
        .order_by(Event.id)
        .output(load_json=True)
    )
    return [(r["action"], r["detail"]["to"]) for r in rows if r["detail"].get("job") == job_id]


async def job_count() -> int:
    return await Job.count()


@dataclass
class JobInstall:
    """An installer's install, started from an admin's job with an allocated meter, at a customer's connection."""

    job: int
    installer: Draft  # as its installer
    owner: Draft  # the same install, as the connection's owner
    payload: str  # the allocated meter's label
    serial: str


async def started_job_install(client: AsyncClient, make: Factory) -> JobInstall:
    """An admin's job for a new installer at a new customer's connection, its meter allocated; the install started."""
    customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
    ean = await make.connection(owner=customer.subject)
    serial, payload = await make.asset()
    job = await created_job(client, make.party(Role.ADMIN), ean, installer=installer.subject, serial=serial)
    r = await start(client, installer, job["id"])
    assert r.status_code == 201, r.text
    install_id = r.json()["id"]
    return JobInstall(
        job=job["id"],
        installer=Draft(who=installer, id=install_id, ean=ean, asset_type="smart_meter_1p", serial=serial),
        owner=Draft(who=customer, id=install_id, ean=ean, asset_type="smart_meter_1p", serial=serial),
        payload=payload,
        serial=serial,
    )


async def finished(client: AsyncClient, make: Factory, j: JobInstall) -> dict[str, Any]:
    """The installer's evidence and submit: approved."""
    d = j.installer
    assert (await scan(client, d, j.payload)).status_code == 200
    assert (await locate(client, d, make.fix())).status_code == 200
    assert (await enter_reading(client, d, 4512.7)).status_code == 200
    for slot in slots_of(d.asset_type):
        r = await upload(client, d, slot, make.photo(slot, payload=j.payload, serial=j.serial))
        assert r.status_code == 201, r.text
    r = await submit(client, d)
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    return dict(r.json())
