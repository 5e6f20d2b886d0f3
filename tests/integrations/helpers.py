"""Shared steps of the device-report tests: installs in each state, reports, their traces."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient, Response

from backend.installs.tables import Event, Install
from backend.principal import Role
from backend.review.tables import ReviewCase
from tests.factories import Factory, Party
from tests.mobile_api.helpers import Draft, enter_reading, ready_install, submit

REPORTS = "/integrations/v1/device-reports"
READING = 4512.7  # what ready_install types in


def system(make: Factory) -> Party:
    return make.party(Role.SYSTEM)


def body(serial: str, ean: str, *, import_kwh: float | None = None, **extra: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "report_id": f"t-{uuid.uuid4()}",
        "device_serial": serial,
        "ean": ean,
        "reported_at": datetime.now(UTC).isoformat(),
        "source": "head-end",
    }
    if import_kwh is not None:
        b["readings"] = {"import_kwh": import_kwh, "export_kwh": 1.5}
    return b | extra


async def post(client: AsyncClient, who: Party, b: dict[str, Any], **headers: str) -> Response:
    return await client.post(REPORTS, json=b, headers={**who.headers, **headers})


async def reported(client: AsyncClient, who: Party, b: dict[str, Any], status: int = 201) -> dict[str, Any]:
    r = await post(client, who, b)
    assert r.status_code == status, r.text
    return r.json()


async def submitted(client: AsyncClient, d: Draft, state: str) -> dict[str, Any]:
    r = await submit(client, d)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == state, (r.json()["state"], r.json()["reasons"])
    return r.json()


async def approved(client: AsyncClient, make: Factory) -> Draft:
    """A smart meter install approved by the automation (reading 4512.7 typed in)."""
    d = await ready_install(client, make)
    await submitted(client, d, "approved")
    return d


async def in_review_complexity(client: AsyncClient, make: Factory) -> Draft:
    """In review for `complexity` only: three retake rounds without the overview photo, then a fourth submit."""
    d = await ready_install(client, make, skip=("cabinet_overview",))
    for _ in range(3):
        await submitted(client, d, "needs_retake")
        # a new attempt follows evidence sent since the last (without any, a submit is its retry)
        assert (await enter_reading(client, d, READING)).status_code == 200
    assert (await submitted(client, d, "in_review"))["reasons"] == ["complexity"]
    return d


async def install_row(install_id: str) -> dict[str, Any]:
    [row] = await Install.select().where(Install.id == uuid.UUID(install_id)).output(load_json=True)
    return row


async def actions(install_id: str) -> list[str]:
    rows = await Event.select(Event.action).where(Event.install == uuid.UUID(install_id)).order_by(Event.id)
    return [r["action"] for r in rows]


async def cases(install_id: str) -> dict[str, dict[str, Any]]:
    """The install's review cases by kind."""
    rows = await ReviewCase.select().where(ReviewCase.install == uuid.UUID(install_id)).output(load_json=True)
    return {r["kind"]: r for r in rows}


async def view(client: AsyncClient, d: Draft, lang: str = "nl") -> dict[str, Any]:
    r = await client.get(d.url, headers={**d.who.headers, "Accept-Language": lang})
    assert r.status_code == 200, r.text
    return r.json()


def device_checks(v: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in v["checks"] if c["check"] == "device_report"]
