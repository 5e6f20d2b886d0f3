"""The Idempotency-Key itself: its syntax, whose it is, which answers are kept, its lease and its 24 hours
(on the context's clock, never by sleeping), the sweep, what a request without it costs, and a large batch."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.db import recorded_statements
from backend.idempotency import repository as repo
from backend.idempotency import service
from backend.idempotency.sweep import sweep_keys
from backend.installs.tables import Event
from backend.principal import Principal, Role
from backend.settings import Settings, load_settings
from tests.factories import Factory, Party
from tests.helpers.apps import burst_client
from tests.mobile_api.helpers import Draft, new_install, problem


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def timed(client: AsyncClient, settings: Settings, clock: Clock) -> AsyncIterator[AsyncClient]:
    async with burst_client(settings, clock) as c:
        yield c


def _key() -> str:
    return str(uuid.uuid4())


async def _reading(client: AsyncClient, d: Draft, key: str | bytes, value: float = 4512.7, **headers: str):
    return await client.post(
        f"{d.url}/reading", json={"value": value}, headers={**d.who.headers, "Idempotency-Key": key, **headers}
    )


async def _readings(d: Draft) -> int:
    return int(await Event.count().where((Event.install == uuid.UUID(d.id)) & (Event.action == "reading.entered")))


def _name(who: Party, key: str) -> str:
    return service.key_hash(Principal(who.subject, who.role), key)


class TestKeySyntax:
    @pytest.mark.parametrize(
        "key",
        [b"", b'""', b"with space", b"x" * 256, b"caf\xc3\xa9", b"tab\there", b'"unclosed'],
        ids=["empty", "empty-string", "space", "too-long", "not-ascii", "control", "quote"],
    )
    async def test_a_malformed_key_is_400_and_nothing_runs(
        self, client: AsyncClient, make: Factory, key: bytes
    ) -> None:
        d = await new_install(client, make)
        r = await _reading(client, d, key, **{"Accept-Language": "en"})
        body = problem(r, 400, "idempotency/invalid-key")
        assert body["title"] == "Invalid Idempotency-Key" and "255" in body["detail"]
        assert r.headers["content-language"] == "en"
        assert await _readings(d) == 0

    async def test_two_keys_are_400(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = [*d.who.headers.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")]
        r = await client.post(f"{d.url}/reading", json={"value": 1.0}, headers=headers)
        body = problem(r, 400, "idempotency/invalid-key")
        assert body["title"] == "Ongeldige Idempotency-Key"  # Dutch by default

    async def test_the_longest_key_and_a_quoted_one_are_the_same_key_bare(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        longest = "k" * service.KEY_MAX_LENGTH
        first = await _reading(client, d, f'"{longest}"')  # the draft's Structured Field string
        again = await _reading(client, d, longest)  # Stripe's bare key
        assert (first.status_code, again.status_code) == (200, 200), again.text
        assert again.headers["idempotent-replayed"] == "true" and await _readings(d) == 1


class TestScope:
    async def test_keys_are_per_principal(self, client: AsyncClient, make: Factory) -> None:
        a, b = await new_install(client, make), await new_install(client, make)
        key = _key()
        assert (await _reading(client, a, key)).status_code == 200
        r = await _reading(client, b, key)  # another customer's key of the same text: their own
        assert r.status_code == 200 and "idempotent-replayed" not in r.headers, r.text
        assert (await _readings(a), await _readings(b)) == (1, 1)

    async def test_without_the_header_nothing_is_asked_of_the_keys(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        with recorded_statements() as statements:
            r = await client.post(f"{d.url}/reading", json={"value": 1.0}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        assert not [s for s in statements if "idempotency_keys" in s.sql]


class TestWhatIsKept:
    @pytest.mark.parametrize("status", [200, 201, 404, 409, 415, 422])
    def test_the_operations_answers_are_kept(self, status: int) -> None:
        assert service.kept(status)

    @pytest.mark.parametrize("status", [400, 401, 403, 408, 413, 429, 500, 503])
    def test_refusals_before_it_ran_and_retryable_ones_are_not(self, status: int) -> None:
        assert not service.kept(status)

    async def test_a_body_that_does_not_decode_frees_the_key(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        key = _key()
        bad = await client.post(
            f"{d.url}/reading", json={"value": "many"}, headers={**d.who.headers, "Idempotency-Key": key}
        )
        problem(bad, 400, "request/invalid")
        assert await repo.find(_name(d.who, key)) is None
        fixed = await _reading(client, d, key)  # the corrected request under the same key runs
        assert fixed.status_code == 200 and "idempotent-replayed" not in fixed.headers, fixed.text

    async def test_a_refusal_of_the_operation_is_replayed(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        key = _key()
        body = {"payload": "SI1:K1:MTR1-000001:AAAAAAAAAAAAAAAAAAAA"}
        headers = {**d.who.headers, "Idempotency-Key": key}
        first = await client.post(f"{d.url}/scan", json=body, headers=headers)
        assert first.status_code == 422, first.text
        again = await client.post(f"{d.url}/scan", json=body, headers=headers)
        assert (again.status_code, again.content) == (422, first.content)
        assert again.headers["content-type"].startswith("application/problem+json")
        assert again.headers["idempotent-replayed"] == "true"


class TestTime:
    def test_the_24_hours_and_the_lease_are_settings(self) -> None:
        assert (load_settings({}).idempotency_ttl_s, load_settings({}).idempotency_lease_s) == (86400, 60)
        changed = load_settings({"IDEMPOTENCY_TTL_S": "3600", "IDEMPOTENCY_LEASE_S": "5"})
        assert (changed.idempotency_ttl_s, changed.idempotency_lease_s) == (3600, 5)

    async def test_an_answer_is_replayed_for_24_hours(
        self, timed: AsyncClient, make: Factory, clock: Clock, settings: Settings
    ) -> None:
        d = await new_install(timed, make)
        key = _key()
        assert (await _reading(timed, d, key)).status_code == 200
        clock.now += timedelta(seconds=settings.idempotency_ttl_s) - timedelta(seconds=1)
        assert (await _reading(timed, d, key)).headers["idempotent-replayed"] == "true"
        clock.now += timedelta(seconds=2)
        again = await _reading(timed, d, key)  # expired, not yet swept: the key is free again
        assert again.status_code == 200 and "idempotent-replayed" not in again.headers, again.text
        assert await _readings(d) == 2

    async def test_a_lease_that_ran_out_frees_the_key(
        self, timed: AsyncClient, make: Factory, clock: Clock, settings: Settings
    ) -> None:
        d = await new_install(timed, make)
        key = _key()
        fingerprint = service.request_hash("POST", f"{d.url}/reading", b"")
        fingerprint.update(b'{"value":4512.7}')
        name = _name(d.who, key)
        # a worker took the key and died mid-request: its lease is the only thing left of it
        token = await service.hold(name, fingerprint.hexdigest(), clock(), settings.idempotency_lease_s, 3600)
        clock.now += timedelta(seconds=settings.idempotency_lease_s - 1)
        problem(await _reading(timed, d, key), 409, "idempotency/in-flight")
        clock.now += timedelta(seconds=2)
        r = await _reading(timed, d, key)
        assert r.status_code == 200 and await _readings(d) == 1, r.text
        late = service.Answer(500, [], b"")
        assert not await service.record(name, token, late, clock(), 60)  # the dead worker's token holds nothing
        assert (await _reading(timed, d, key)).headers["idempotent-replayed"] == "true"

    async def test_the_sweep_deletes_expired_keys_only(
        self, timed: AsyncClient, make: Factory, clock: Clock, settings: Settings
    ) -> None:
        d = await new_install(timed, make)
        old, new = _key(), _key()
        assert (await _reading(timed, d, old)).status_code == 200
        clock.now += timedelta(hours=12)
        assert (await _reading(timed, d, new, value=1.0)).status_code == 200
        await sweep_keys(clock.now + timedelta(hours=12, seconds=1))
        assert await repo.find(_name(d.who, old)) is None
        assert await repo.find(_name(d.who, new)) is not None


class TestLargeBatch:
    async def test_a_large_csv_import_is_replayed(self, client: AsyncClient, make: Factory) -> None:
        admin = make.party(Role.ADMIN)
        tag = uuid.uuid4().hex[:6].upper()
        lines = [f"MTR1-L{tag}{i:06d},smart_meter_1p" for i in range(10_000)]
        csv = ("serial,asset_type\n" + "\n".join(lines) + "\n").encode()
        headers = {**admin.headers, "Content-Type": "text/csv", "Idempotency-Key": _key()}
        first = await client.post("/admin/v1/assets", content=csv, headers=headers)
        assert first.status_code == 201 and first.json()["created"] == 10_000, first.text[:300]
        again = await client.post("/admin/v1/assets", content=csv, headers=headers)
        assert (again.status_code, again.content) == (201, first.content)
        assert again.headers["idempotent-replayed"] == "true"
