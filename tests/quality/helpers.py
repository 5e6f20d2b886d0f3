"""Steps of the quality tests: an install approved by the automation (with a chosen id), its follow-ups."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from backend.principal import Role
from backend.quality.flows import sample_point
from backend.review.tables import ReviewCase
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, claimed, decided, fraud_escalated, queue_page
from tests.mobile_api.helpers import Draft, create, enter_reading, locate, scan, slots_of, submit, upload


def id_with_point(below: float | None = None, at_least: float | None = None) -> str:
    """A fresh install id whose sample point lies below `below` or at or above `at_least`."""
    while True:
        candidate = uuid.uuid4()
        point = sample_point(candidate)
        if (below is None or point < below) and (at_least is None or point >= at_least):
            return str(candidate)


async def evidenced(client: AsyncClient, make: Factory, install_id: str | None = None) -> Draft:
    """A smart meter install with every piece of evidence in place, not yet submitted."""
    who = make.party(Role.CUSTOMER)
    ean = await make.connection(owner=who.subject)
    r = await create(client, who, ean, "smart_meter_1p", install_id=install_id)
    assert r.status_code == 201, r.text
    d = Draft(who=who, id=r.json()["id"], ean=ean, asset_type="smart_meter_1p")
    d.serial, d.payload = await make.asset()
    assert (await scan(client, d, d.payload)).status_code == 200
    assert (await locate(client, d, make.fix())).status_code == 200
    assert (await enter_reading(client, d, 4512.7)).status_code == 200
    for slot in slots_of(d.asset_type):
        r = await upload(client, d, slot, make.photo(slot, payload=d.payload, serial=d.serial))
        assert r.status_code == 201, r.text
    return d


async def auto_approved(client: AsyncClient, make: Factory, install_id: str | None = None) -> Draft:
    """Submitted through `client` and approved by the automation."""
    d = await evidenced(client, make, install_id)
    r = await submit(client, d)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "approved", r.json()
    return d


async def cases_of(install_id: str) -> dict[str, dict[str, Any]]:
    """{kind: case row} of an install."""
    rows = await ReviewCase.select().where(ReviewCase.install == uuid.UUID(install_id)).output(load_json=True)
    return {r["kind"]: r for r in rows}


async def sample_case(install_id: str) -> int:
    case = (await cases_of(install_id)).get("qa_sample")
    assert case is not None, "the approval was not sampled"
    return int(case["id"])


async def verdict(client: AsyncClient, spec: Any, case_id: int, value: str, version: int, note: str = "") -> Any:
    body = {"verdict": value, "version": version, **({"note": note} if note else {})}
    return await client.post(f"/review/v1/cases/{case_id}/verdict", json=body, headers=spec.headers)


async def given_verdict(client: AsyncClient, spec: Any, case_id: int, value: str, note: str = "") -> dict[str, Any]:
    """Claim and give a verdict with the current version."""
    view = await claimed(client, spec, case_id)
    r = await verdict(client, spec, case_id, value, view["version"], note)
    assert r.status_code == 200, r.text
    return r.json()


async def specialist_decided(client: AsyncClient, make: Factory, outcome: str = "reject") -> tuple[Draft, int, Any]:
    """An install escalated for suspected fraud and decided by a specialist: (draft, case id, specialist)."""
    d = await evidenced(client, make)
    await fraud_escalated(client, make, d)
    case_id = await case_id_of(d.id)
    spec = make.party(Role.SPECIALIST)
    code = {"approve": "evidence_sufficient", "reject": "evidence_not_genuine"}[outcome]
    await decided(client, spec, case_id, outcome, code)
    return d, case_id, spec


KNOWN = "/admin/v1/known-answers"


async def mark(client: AsyncClient, admin: Party, case_id: int) -> Any:
    return await client.post(KNOWN, json={"case_id": case_id}, headers=admin.headers)


async def marked(client: AsyncClient, make: Factory, outcome: str = "reject") -> tuple[dict[str, Any], Party, str]:
    """A specialist-decided case marked as a known answer: (its view, the decider, the install id)."""
    d, case_id, decider = await specialist_decided(client, make, outcome)
    r = await mark(client, make.party(Role.ADMIN), case_id)
    assert r.status_code == 201, r.text
    return r.json(), decider, d.id


async def answer(client: AsyncClient, spec: Party, known_id: int, value: str) -> Any:
    return await client.post(f"/review/v1/calibration/{known_id}/answer", json={"answer": value}, headers=spec.headers)


async def served_until(client: AsyncClient, spec: Party, wanted: int | None) -> dict[str, Any] | None:
    """Read the queue's first page, answering every other served item, until `wanted` is served (returned)
    or nothing more is (None). With known_answer_share = 1 each answer draws a fresh serving."""
    seen: set[int] = set()
    while True:
        item = (await queue_page(client, spec, limit=1))["calibration"]
        if item is None or item["known_answer_id"] == wanted:
            return item
        assert item["known_answer_id"] not in seen, "an answered item was served again"
        seen.add(item["known_answer_id"])
        assert (await answer(client, spec, item["known_answer_id"], "request_info")).status_code == 201
