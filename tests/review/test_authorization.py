"""Only specialists reach /review/v1, and only they get a photo's original bytes (with its EXIF location)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient
from PIL import Image

from backend.principal import Role
from backend.settings import Settings
from tests.factories import ARNHEM, Factory
from tests.helpers.review import QUEUE, case_id_of, case_url, get_case, helped
from tests.mobile_api.helpers import Draft, new_install, problem, ready_install

GPS_IFD = 0x8825


@dataclass
class Target:
    draft: Draft
    case_id: int
    photo_id: int
    photo: bytes  # the uploaded bytes of photo_id
    other_case_id: int


@pytest.fixture(scope="module")
async def target(client: AsyncClient, settings: Settings) -> Target:
    make = Factory(settings)
    d = await ready_install(client, make, skip=("cabinet_overview",))
    data = make.photo("cabinet_overview", gps=ARNHEM)
    r = await client.put(
        f"{d.url}/photos/cabinet_overview", content=data, headers={**d.who.headers, "Content-Type": "image/jpeg"}
    )
    assert r.status_code == 201, r.text
    photo_id = r.json()["photo"]["id"]
    await helped(client, d)
    other = await new_install(client, make)
    await helped(client, other)
    return Target(d, await case_id_of(d.id), photo_id, data, await case_id_of(other.id))


def _routes(t: Target) -> list[tuple[str, str, dict[str, Any] | None]]:
    decision = {"outcome": "approve", "reason_code": "evidence_sufficient", "version": 1}
    return [
        ("GET", QUEUE, None),
        ("GET", case_url(t.case_id), None),
        ("POST", case_url(t.case_id, "claim"), None),
        ("POST", case_url(t.case_id, "release"), None),
        ("POST", case_url(t.case_id, "decision"), decision),
        ("GET", case_url(t.case_id, f"photos/{t.photo_id}/original"), None),
    ]


ROUTE_NAMES = ["queue", "case", "claim", "release", "decision", "original"]


def _gps(data: bytes) -> dict[int, Any]:
    with Image.open(io.BytesIO(data)) as img:
        return dict(img.getexif().get_ifd(GPS_IFD))


async def _call(
    client: AsyncClient, method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> Any:
    return await client.request(method, url, json=body, headers=headers)


class TestOnlySpecialists:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.ADMIN])
    @pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
    async def test_other_roles_get_403(
        self, client: AsyncClient, make: Factory, target: Target, role: Role, route: int
    ) -> None:
        who = target.draft.who if role is Role.CUSTOMER else make.party(role)  # even the install's own customer
        method, url, body = _routes(target)[route]
        r = await _call(client, method, url, body, who.headers)
        problem(r, 403, "auth/forbidden")
        assert r.content.find(target.photo[:64]) == -1

    @pytest.mark.parametrize("route", range(len(ROUTE_NAMES)), ids=ROUTE_NAMES)
    async def test_no_token_gets_401(self, client: AsyncClient, target: Target, route: int) -> None:
        method, url, body = _routes(target)[route]
        problem(await _call(client, method, url, body, {}), 401, "auth/unauthenticated")

    async def test_refused_requests_changed_nothing(self, client: AsyncClient, make: Factory, target: Target) -> None:
        spec = make.party(Role.SPECIALIST)
        case = await get_case(client, spec, target.case_id)
        assert case["state"] == "open" and case["claimed_by"] is None and case["first_claimed_by"] is None
        assert case["decisions"] == [] and case["install"]["state"] == "in_review"
        assert [e for e in case["events"] if e["action"].startswith("review.")] == []

    async def test_specialists_get_in(self, client: AsyncClient, make: Factory, target: Target) -> None:
        spec = make.party(Role.SPECIALIST)
        for method, url, body in _routes(target)[:3]:
            r = await _call(client, method, url, body, spec.headers)
            assert r.status_code == 200, (url, r.text)


class TestOriginalPhoto:
    async def test_original_keeps_exif_gps_and_rendition_has_none(
        self, client: AsyncClient, make: Factory, target: Target
    ) -> None:
        spec = make.party(Role.SPECIALIST)
        case = await get_case(client, spec, target.case_id)
        [photo] = [p for p in case["photos"] if p["id"] == target.photo_id]
        assert photo["exif_lat"] == pytest.approx(ARNHEM[0], abs=1e-4)
        r = await client.get(photo["original_url"], headers=spec.headers)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("image/jpeg")
        assert r.content == target.photo
        assert _gps(r.content), "the original must keep its EXIF GPS"

        d = target.draft
        r = await client.get(f"{d.url}/photos/{target.photo_id}", headers=d.who.headers)
        assert r.status_code == 200, r.text
        assert _gps(r.content) == {}
        assert r.content != target.photo

    async def test_photo_of_another_case_is_not_found(self, client: AsyncClient, make: Factory, target: Target) -> None:
        spec = make.party(Role.SPECIALIST)
        url = case_url(target.other_case_id, f"photos/{target.photo_id}/original")
        problem(await client.get(url, headers=spec.headers), 404, "review/case-not-found")
        problem(
            await client.get(case_url(987654321, f"photos/{target.photo_id}/original"), headers=spec.headers),
            404,
            "review/case-not-found",
        )

    async def test_customer_rendition_for_specialists_is_not_on_mobile(
        self, client: AsyncClient, make: Factory, target: Target
    ) -> None:
        spec = make.party(Role.SPECIALIST)
        r = await client.get(f"{target.draft.url}/photos/{target.photo_id}", headers=spec.headers)
        problem(r, 403, "auth/forbidden")
