"""POST /mobile/v1/connections/claim: a customer links their own connection by EAN, postcode and house number."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from backend.installs import repository as repo
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party, new_ean
from tests.helpers.apps import burst_client

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
        # Every answer carries its own request id; everything else must be the same.
        bodies = [_problem(r, 422, "connection/claim-mismatch") for r in (unknown, wrong_number)]
        assert all(b.pop("request_id") for b in bodies)
        assert bodies[0] == bodies[1]
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
        ean = await make.connection()
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
        assert "do not match" in body["detail"] and r.headers["content-language"] == "en"


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
        assert str(retry_after) in body["detail"]
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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def clocked(client: AsyncClient, clock: Clock, settings: Settings) -> AsyncIterator[AsyncClient]:
    """The app with the test's clock, taking whole bursts of requests at once."""
    async with burst_client(settings, clock) as c:
        yield c


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


class TestClaimGuessBursts:
    """Every guess is counted before it is compared, in one transaction per guess, in the database."""

    async def test_fifty_simultaneous_wrong_guesses_by_one_customer_evaluate_only_the_allowed_five(
        self, clocked: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(house_number=14)
        since = datetime.now(UTC) - timedelta(hours=1)
        guesses = await asyncio.gather(*(_claim(clocked, customer, ean, house_number=100 + i) for i in range(50)))
        allowed = settings.claim_failures_allowed
        assert _statuses(guesses) == {422: allowed, 429: 50 - allowed}
        refused = [r for r in guesses if r.status_code == 429]
        assert all(_problem(r, 429, "connection/claim-rate-limited")["limit"] == "customer" for r in refused)
        assert all(int(r.headers["Retry-After"]) > 0 for r in refused)
        assert len(await repo.claim_failures_by(customer.subject, since)) == allowed  # refusals are not guesses
        assert await _owner(ean) is None

    async def test_many_accounts_guessing_one_connection_stop_at_its_limit_even_with_the_right_answer(
        self, clocked: AsyncClient, make: Factory, settings: Settings, clock: Clock
    ) -> None:
        """30 accounts x 4 wrong guesses, then the right answer: refused, the connection stays unowned;
        a window later its real owner claims it."""
        ean = await make.connection(postcode="6811AL", house_number=14)
        accounts = [make.party(Role.CUSTOMER) for _ in range(30)]
        numbers = [(who, 200 + 4 * n + i) for n, who in enumerate(accounts) for i in range(4)]
        guesses = await asyncio.gather(*(_claim(clocked, who, ean, house_number=number) for who, number in numbers))
        limit = settings.claim_failures_per_connection
        assert _statuses(guesses) == {422: limit, 429: 120 - limit}
        refused = [r for r in guesses if r.status_code == 429]
        assert all(_problem(r, 429, "connection/claim-rate-limited")["limit"] == "connection" for r in refused)
        assert len(await repo.claim_failures_on(ean, clock.now - timedelta(hours=1))) == limit

        right = await _claim(clocked, make.party(Role.CUSTOMER), ean, postcode="6811AL", house_number=14)
        assert _problem(right, 429, "connection/claim-rate-limited")["limit"] == "connection"
        assert 0 < int(right.headers["Retry-After"]) <= settings.claim_failure_window_s
        assert await _owner(ean) is None

        clock.now += timedelta(seconds=settings.claim_failure_window_s + 1)
        owner = make.party(Role.CUSTOMER)
        claimed = await _claim(clocked, owner, ean, postcode="6811AL", house_number=14)
        assert claimed.status_code == 201, claimed.text
        assert await _owner(ean) == owner.subject

    async def test_the_connection_thaws_as_its_oldest_failure_leaves_the_window(
        self, clocked: AsyncClient, make: Factory, settings: Settings, clock: Clock
    ) -> None:
        """A refusal adds nothing, so the wait it announces is the real one."""
        ean = await make.connection(house_number=14)
        limit, window = settings.claim_failures_per_connection, settings.claim_failure_window_s
        for i in range(limit):
            who = make.party(Role.CUSTOMER)
            _problem(await _claim(clocked, who, ean, house_number=300 + i), 422, "connection/claim-mismatch")
            clock.now += timedelta(seconds=10)
        refused = await _claim(clocked, make.party(Role.CUSTOMER), ean)
        _problem(refused, 429, "connection/claim-rate-limited")
        wait = int(refused.headers["Retry-After"])
        assert wait == window - 10 * limit
        clock.now += timedelta(seconds=wait)
        r = await _claim(clocked, make.party(Role.CUSTOMER), ean)
        assert r.status_code == 201, r.text


class TestConcurrentClaims:
    async def test_fifty_customers_claiming_at_once_all_succeed(self, clocked: AsyncClient, make: Factory) -> None:
        """Fifty write transactions at once in one worker: none fails or waits out a lock timeout."""
        customers = [make.party(Role.CUSTOMER) for _ in range(50)]
        eans = [await make.connection(house_number=14) for _ in customers]
        claims = await asyncio.gather(*(_claim(clocked, who, ean) for who, ean in zip(customers, eans, strict=True)))
        assert _statuses(claims) == {201: 50}, [r.text for r in claims if r.status_code != 201]
        assert [await _owner(ean) for ean in eans] == [who.subject for who in customers]


class TestMyConnections:
    """GET /mobile/v1/connections: the customer's own connections, what they may install, the newest install."""

    async def test_own_connections_by_ean_with_what_fits_and_the_newest_install(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer, stranger = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        single = await make.connection(owner=customer.subject, capacity="1x35A")
        three = await make.connection(owner=customer.subject, capacity="3x25A")
        await make.connection(owner=stranger.subject)
        first = await _create_install(client, customer, single)
        newest = await _create_install(client, customer, single)
        assert (first.status_code, newest.status_code) == (201, 201)
        r = await client.get("/mobile/v1/connections", headers=customer.headers)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["connection"]["ean"] for i in items] == sorted([single, three])
        by_ean = {i["connection"]["ean"]: i for i in items}
        # what the catalog lets a customer install themselves on that capacity (create accepts it)
        assert by_ean[single]["installable"] == ["smart_meter_1p", "home_battery"]
        assert by_ean[three]["installable"] == ["home_battery"]
        assert by_ean[single]["latest_install"]["id"] == newest.json()["id"]
        assert by_ean[single]["latest_install"]["state"] == "draft"
        assert by_ean[three]["latest_install"] is None
        assert r.json()["next_cursor"] is None

    async def test_pages_by_cursor_each_connection_once(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        eans = sorted([await make.connection(owner=customer.subject) for _ in range(3)])
        seen, cursor = [], None
        for _ in range(4):
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/mobile/v1/connections", params=params, headers=customer.headers)).json()
            seen += [i["connection"]["ean"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == eans

    async def test_a_customer_without_connections_gets_an_empty_page(self, client: AsyncClient, make: Factory) -> None:
        r = await client.get("/mobile/v1/connections", headers=make.party(Role.CUSTOMER).headers)
        assert r.status_code == 200 and r.json() == {"items": [], "next_cursor": None}

    async def test_bad_cursor_and_limit_are_bad_requests(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        for params in ({"cursor": "bm90LWFuLWVhbg"}, {"cursor": "%%%"}, {"limit": 0}, {"limit": 101}):
            r = await client.get("/mobile/v1/connections", params=params, headers=customer.headers)
            assert r.status_code == 400, (params, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")

    async def test_only_customers(self, client: AsyncClient, make: Factory) -> None:
        for role in (Role.INSTALLER, Role.SPECIALIST, Role.ADMIN):
            r = await client.get("/mobile/v1/connections", headers=make.party(role).headers)
            _problem(r, 403, "auth/forbidden")
        assert (await client.get("/mobile/v1/connections")).status_code == 401
