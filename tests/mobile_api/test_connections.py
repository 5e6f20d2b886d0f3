"""POST /mobile/v1/connections/claim: a customer links their own connection by EAN, postcode and house number."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from backend.installs import repository as repo
from backend.principal import Role
from tests.factories import Factory, Party, new_ean

CLAIM = "/mobile/v1/connections/claim"


async def _claim(
    client: AsyncClient, who: Party, ean: str, postcode: str = "6811AL", house_number: int = 14, **headers: str
) -> httpx.Response:
    return await client.post(
        CLAIM, json={"ean": ean, "postcode": postcode, "house_number": house_number}, headers={**who.headers, **headers}
    )


async def _owner(ean: str) -> str | None:
    connection = await repo.connection_by_ean(ean)
    assert connection is not None
    return connection.owner_subject


def _problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status
    return body


def _bad_check_digit(ean: str) -> str:
    return ean[:17] + str((int(ean[17]) + 1) % 10)


async def _create_install(client: AsyncClient, who: Party, ean: str) -> httpx.Response:
    return await client.post(
        "/mobile/v1/installs",
        json={"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "smart_meter_1p"},
        headers=who.headers,
    )


class TestClaim:
    async def test_first_claim_is_201_and_links_the_connection(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(postcode="6811AL", house_number=14)
        r = await _claim(client, customer, ean)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["newly_claimed"] is True
        assert body["connection"]["ean"] == ean
        assert body["connection"]["postcode"] == "6811AL" and body["connection"]["house_number"] == 14
        assert await _owner(ean) == customer.subject

    async def test_repeat_by_same_customer_is_200_not_newly_claimed(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection()
        assert (await _claim(client, customer, ean)).status_code == 201
        r = await _claim(client, customer, ean)
        assert r.status_code == 200, r.text
        assert r.json()["newly_claimed"] is False and r.json()["connection"]["ean"] == ean
        assert await _owner(ean) == customer.subject

    @pytest.mark.parametrize("postcode", ["6811AL", "6811 AL", "6811al", "6811 al", " 6811aL"])
    async def test_postcode_spacing_and_case_do_not_matter(
        self, client: AsyncClient, make: Factory, postcode: str
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(postcode="6811AL", house_number=7)
        r = await _claim(client, customer, ean, postcode=postcode, house_number=7)
        assert r.status_code == 201, r.text
        assert await _owner(ean) == customer.subject


class TestClaimRefused:
    async def test_invalid_check_digit_is_422_invalid_ean(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection()
        r = await _claim(client, customer, _bad_check_digit(ean))
        _problem(r, 422, "connection/invalid-ean")
        assert await _owner(ean) is None

    @pytest.mark.parametrize("postcode, house_number", [("6811AL", 15), ("6811AM", 14), ("6812AL", 14)])
    async def test_wrong_address_is_422_claim_mismatch(
        self, client: AsyncClient, make: Factory, postcode: str, house_number: int
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(postcode="6811AL", house_number=14)
        r = await _claim(client, customer, ean, postcode=postcode, house_number=house_number)
        _problem(r, 422, "connection/claim-mismatch")
        assert await _owner(ean) is None

    async def test_unknown_ean_looks_exactly_like_wrong_address(self, client: AsyncClient, make: Factory) -> None:
        """Nothing in the answer tells whether the EAN exists."""
        ean = await make.connection(postcode="6811AL", house_number=14)
        wrong_number = await _claim(client, make.party(Role.CUSTOMER), ean, house_number=99)
        unknown = await _claim(client, make.party(Role.CUSTOMER), new_ean())
        assert _problem(unknown, 422, "connection/claim-mismatch") == _problem(
            wrong_number, 422, "connection/claim-mismatch"
        )
        assert unknown.headers["content-language"] == wrong_number.headers["content-language"] == "nl"

    async def test_connection_of_another_customer_is_409_and_keeps_its_owner(
        self, client: AsyncClient, make: Factory
    ) -> None:
        first, second = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection()
        assert (await _claim(client, first, ean)).status_code == 201
        r = await _claim(client, second, ean)
        _problem(r, 409, "connection/already-claimed")
        assert await _owner(ean) == first.subject
        assert (await _create_install(client, second, ean)).status_code == 404

    @pytest.mark.parametrize("role", [Role.INSTALLER, Role.SPECIALIST, Role.ADMIN])
    async def test_other_roles_are_403(self, client: AsyncClient, make: Factory, role: Role) -> None:
        who = make.party(role)
        ean = await make.connection(installer=who.subject if role is Role.INSTALLER else None)
        r = await _claim(client, who, ean)
        _problem(r, 403, "auth/forbidden")
        assert await _owner(ean) is None

    async def test_without_token_is_401(self, client: AsyncClient, make: Factory) -> None:
        ean = await make.connection()
        r = await client.post(CLAIM, json={"ean": ean, "postcode": "6811AL", "house_number": 14})
        _problem(r, 401, "auth/unauthenticated")
        assert await _owner(ean) is None

    async def test_message_is_english_on_request(self, client: AsyncClient, make: Factory) -> None:
        r = await _claim(client, make.party(Role.CUSTOMER), new_ean(), **{"Accept-Language": "en"})
        body = _problem(r, 422, "connection/claim-mismatch")
        assert "do not match" in body["title"] and r.headers["content-language"] == "en"


class TestClaimRateLimit:
    async def _fail(self, client: AsyncClient, who: Party, ean: str, times: int) -> None:
        for attempt in range(times):
            r = await _claim(client, who, ean, house_number=1000 + attempt)
            _problem(r, 422, "connection/claim-mismatch")

    async def test_sixth_attempt_after_five_failures_is_429_with_retry_after(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(house_number=14)
        await self._fail(client, customer, ean, 5)
        r = await _claim(client, customer, ean, house_number=14)  # even the right answer is refused now
        body = _problem(r, 429, "connection/claim-rate-limited")
        retry_after = int(r.headers["Retry-After"])
        assert 800 <= retry_after <= 900
        assert str(retry_after) in body["title"]
        assert await _owner(ean) is None

    async def test_four_failures_still_allow_the_right_answer(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(house_number=14)
        await self._fail(client, customer, ean, 4)
        r = await _claim(client, customer, ean, house_number=14)
        assert r.status_code == 201, r.text
        assert await _owner(ean) == customer.subject

    async def test_limit_is_per_customer(self, client: AsyncClient, make: Factory) -> None:
        blocked, other = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(house_number=14)
        await self._fail(client, blocked, ean, 5)
        assert (await _claim(client, blocked, ean)).status_code == 429
        r = await _claim(client, other, ean)
        assert r.status_code == 201, r.text
        assert await _owner(ean) == other.subject


class TestClaimThenInstall:
    async def test_customer_can_create_an_install_only_after_claiming(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(capacity="1x35A")
        r = await _create_install(client, customer, ean)
        _problem(r, 404, "connection/not-found")
        assert (await _claim(client, customer, ean)).status_code == 201
        r = await _create_install(client, customer, ean)
        assert r.status_code == 201, r.text
        assert r.json()["connection"]["ean"] == ean and r.json()["state"] == "draft"
        listed = await client.get("/mobile/v1/installs", headers=customer.headers)
        assert [i["id"] for i in listed.json()["items"]] == [r.json()["id"]]
