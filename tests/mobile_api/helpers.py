"""Shared steps of the install tests: create an install, gather its evidence, read a problem."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from httpx import AsyncClient, Response

from backend.errors import MESSAGES
from backend.installs.catalog import load_catalog
from backend.principal import Role
from tests.factories import Factory, Party, dispatch

BASE = "/mobile/v1/installs"


def slots_of(asset_type: str) -> tuple[str, ...]:
    return load_catalog().types[asset_type].slots


def problem(r: Response, status: int, code: str) -> dict[str, Any]:
    """Assert `r` is the problem+json for `code` and return its body."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["type"].endswith(f"/problems/{code}")
    assert body["title"] in {MESSAGES[code].title_in(lang) for lang in ("nl", "en")}, body  # the code's stable title
    assert body["detail"] and body["detail"] != body["title"]
    return body


def codes(actions: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(a["code"], a["subject"]) for a in actions]


@dataclass
class Draft:
    """An install created over HTTP, with what the tests need to continue it."""

    who: Party
    id: str
    ean: str
    asset_type: str
    serial: str | None = None
    payload: str | None = None
    view: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{BASE}/{self.id}"


async def create(
    client: AsyncClient,
    who: Party,
    ean: str,
    asset_type: str = "smart_meter_1p",
    install_id: str | None = None,
    **extra: Any,
) -> Response:
    """A customer creates the install; an installer starts it from a job of theirs made for it."""
    body = {"id": install_id or str(uuid.uuid4()), **extra}
    if who.role is Role.INSTALLER:
        job_id = await dispatch(ean, asset_type, installer=who.subject)
        return await client.post(f"/mobile/v1/jobs/{job_id}/install", json=body, headers=who.headers)
    return await client.post(BASE, json={**body, "connection_ean": ean, "asset_type": asset_type}, headers=who.headers)


async def new_install(
    client: AsyncClient,
    make: Factory,
    asset_type: str = "smart_meter_1p",
    *,
    role: Role = Role.CUSTOMER,
    capacity: str = "1x35A",
    who: Party | None = None,
) -> Draft:
    """A draft install on a fresh connection that belongs to the caller (a customer), or of the caller's
    job there (an installer)."""
    who = who or make.party(role)
    ean = await make.connection(capacity=capacity, owner=who.subject if who.role is Role.CUSTOMER else None)
    r = await create(client, who, ean, asset_type)
    assert r.status_code == 201, r.text
    return Draft(who=who, id=r.json()["id"], ean=ean, asset_type=asset_type, view=r.json())


async def scan(client: AsyncClient, d: Draft, payload: str) -> Response:
    return await client.post(f"{d.url}/scan", json={"payload": payload}, headers=d.who.headers)


async def locate(client: AsyncClient, d: Draft, fix: dict[str, Any]) -> Response:
    return await client.post(f"{d.url}/location", json=fix, headers=d.who.headers)


async def upload(
    client: AsyncClient, d: Draft, slot: str, data: bytes, content_type: str = "image/jpeg", **headers: str
) -> Response:
    return await client.put(
        f"{d.url}/photos/{slot}", content=data, headers={**d.who.headers, "Content-Type": content_type, **headers}
    )


async def submit(client: AsyncClient, d: Draft, **headers: str) -> Response:
    return await client.post(f"{d.url}/submit", headers={**d.who.headers, **headers})


async def enter_reading(client: AsyncClient, d: Draft, value: float) -> Response:
    return await client.post(f"{d.url}/reading", json={"value": value}, headers=d.who.headers)


async def ask_help(client: AsyncClient, d: Draft, message: str = "Ik twijfel") -> Response:
    return await client.post(f"{d.url}/help", json={"message": message}, headers=d.who.headers)


async def ready_install(
    client: AsyncClient,
    make: Factory,
    asset_type: str = "smart_meter_1p",
    *,
    role: Role = Role.CUSTOMER,
    capacity: str = "1x35A",
    fix: dict[str, Any] | None = None,
    skip: tuple[str, ...] = (),
    photo_options: dict[str, dict[str, Any]] | None = None,
    reading: float | None = 4512.7,
    who: Party | None = None,
) -> Draft:
    """An install with its asset scanned, a location shared, the reading entered where the type asks
    for one (unless `reading` is None) and a photo in every slot but `skip`.

    `photo_options` maps a slot to extra options of `make.photo` (e.g. a blur) for that slot; `who` a
    caller of the test's choosing (a demo customer the portal's demo sign-in offers).
    """
    d = await new_install(client, make, asset_type, role=role, capacity=capacity, who=who)
    d.serial, d.payload = await make.asset(asset_type)
    r = await scan(client, d, d.payload)
    assert r.status_code == 200, r.text
    r = await locate(client, d, fix or make.fix())
    assert r.status_code == 200, r.text
    if reading is not None and "meter_display" in slots_of(asset_type):
        r = await enter_reading(client, d, reading)
        assert r.status_code == 200, r.text
    for slot in slots_of(asset_type):
        if slot in skip:
            continue
        data = make.photo(slot, payload=d.payload, serial=d.serial, **(photo_options or {}).get(slot, {}))
        r = await upload(client, d, slot, data)
        assert r.status_code == 201, r.text
    return d
