"""Shared steps of the review-workflow tests: escalate an install, find its case, act as a specialist."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient, Response

from backend.installs import repository as installs_repo
from backend.principal import Role
from backend.review.tables import ReviewCase
from tests.factories import ARNHEM, Factory, Party, new_ean
from tests.mobile_api.helpers import Draft, ask_help, create, locate, submit

REVIEW = "/review/v1"
QUEUE = f"{REVIEW}/queue"


def case_url(case_id: int, action: str = "") -> str:
    return f"{REVIEW}/cases/{case_id}" + (f"/{action}" if action else "")


def unique_city() -> str:
    """A municipality no other test uses: filter the queue by it to see only your own cases."""
    return f"Testdorp-{uuid.uuid4().hex[:10]}"


async def install_in(
    client: AsyncClient,
    make: Factory,
    city: str = "Arnhem",
    asset_type: str = "smart_meter_1p",
    *,
    role: Role = Role.CUSTOMER,
    capacity: str = "1x35A",
) -> Draft:
    """A draft install on a fresh connection in `city` (the factory's connections are all in Arnhem)."""
    who = make.party(role)
    ean = new_ean()
    await installs_repo.insert_connections(
        [
            {
                "ean": ean,
                "street": "Teststraat",
                "house_number": 1,
                "house_number_suffix": "",
                "postcode": "6811AL",
                "city": city,
                "lat": ARNHEM[0],
                "lon": ARNHEM[1],
                "capacity": capacity,
                "owner_subject": who.subject if role is Role.CUSTOMER else None,
                "created_at": datetime.now(UTC),
            }
        ]
    )
    r = await create(client, who, ean, asset_type)
    assert r.status_code == 201, r.text
    return Draft(who=who, id=r.json()["id"], ean=ean, asset_type=asset_type, view=r.json())


async def helped(client: AsyncClient, d: Draft, message: str = "Ik twijfel") -> dict[str, Any]:
    """Escalate `d` with /help (human_requested)."""
    r = await ask_help(client, d, message)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review", r.json()
    return r.json()


async def fraud_escalated(client: AsyncClient, make: Factory, d: Draft) -> dict[str, Any]:
    """Escalate `d` by a failing submit: a mocked GPS fix is suspected fraud."""
    r = await locate(client, d, make.fix(mocked=True))
    assert r.status_code == 200, r.text
    r = await submit(client, d)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review" and "suspected_fraud" in r.json()["reasons"], r.json()
    return r.json()


async def case_row(install_id: str) -> dict[str, Any]:
    """The install's escalation case (follow-ups of other kinds are separate rows)."""
    where = (ReviewCase.install == uuid.UUID(install_id)) & (ReviewCase.kind == "escalation")
    rows = await ReviewCase.select().where(where)
    assert len(rows) == 1, rows
    return rows[0]


async def case_id_of(install_id: str) -> int:
    return int((await case_row(install_id))["id"])


async def set_case(case_id: int, **values: Any) -> None:
    """Change a case directly in the database (due times, risks, expired leases)."""
    await ReviewCase.update({getattr(ReviewCase, k): v for k, v in values.items()}).where(ReviewCase.id == case_id)


async def get_case(client: AsyncClient, spec: Party, case_id: int) -> dict[str, Any]:
    r = await client.get(case_url(case_id), headers=spec.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def claim(client: AsyncClient, spec: Party, case_id: int) -> Response:
    return await client.post(case_url(case_id, "claim"), headers=spec.headers)


async def claimed(client: AsyncClient, spec: Party, case_id: int) -> dict[str, Any]:
    r = await claim(client, spec, case_id)
    assert r.status_code == 200, r.text
    assert r.json()["claimed_by"] == spec.subject
    return r.json()


async def release(client: AsyncClient, spec: Party, case_id: int) -> Response:
    return await client.post(case_url(case_id, "release"), headers=spec.headers)


async def decide(
    client: AsyncClient, spec: Party, case_id: int, outcome: str, reason_code: str, version: int, **extra: Any
) -> Response:
    body = {"outcome": outcome, "reason_code": reason_code, "version": version, **extra}
    return await client.post(case_url(case_id, "decision"), json=body, headers=spec.headers)


async def decided(
    client: AsyncClient, spec: Party, case_id: int, outcome: str, reason_code: str, **extra: Any
) -> dict[str, Any]:
    """Claim (or renew) and decide with the current version."""
    view = await claimed(client, spec, case_id)
    r = await decide(client, spec, case_id, outcome, reason_code, view["version"], **extra)
    assert r.status_code == 200, r.text
    return r.json()


async def queue_page(client: AsyncClient, spec: Party, **params: Any) -> dict[str, Any]:
    r = await client.get(QUEUE, params={k: v for k, v in params.items() if v is not None}, headers=spec.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def whole_queue(client: AsyncClient, spec: Party, limit: int = 100, **filters: Any) -> list[dict[str, Any]]:
    """Every queue item (all pages) matching the filters, in queue order."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await queue_page(client, spec, limit=limit, cursor=cursor, **filters)
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def install_of(client: AsyncClient, d: Draft, **headers: str) -> dict[str, Any]:
    r = await client.get(d.url, headers={**d.who.headers, **headers})
    assert r.status_code == 200, r.text
    return r.json()
