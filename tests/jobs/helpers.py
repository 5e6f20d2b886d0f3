"""Shared steps of the jobs tests: a dispatcher's requests and the installer's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response

from backend.installs.tables import Event
from backend.jobs.tables import Job
from tests.factories import Party

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
