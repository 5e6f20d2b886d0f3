"""The API rate limit (backend/ratelimit.py): per verified principal, else per client address; counted
in the real Redis at REDIS_URL (default redis://127.0.0.1:6379/0), each test under a key prefix of its
own that is deleted afterwards, or in the worker's memory without REDIS_URL. Its 429 is problem+json."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from litestar.security.jwt import Token
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from backend.app import create_app
from backend.errors import TooManyRequests
from backend.principal import Principal, Role
from backend.ratelimit import REDIS_RETRY_S, Limiter, bucket_key
from backend.settings import Settings, load_settings
from tests.factories import Factory
from tests.helpers.server import free_port

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
INSTALLS = "/mobile/v1/installs"  # customers: counted by principal
LOGIN = "/console/login"  # a page without a token: counted by address
PHONE = "198.51.100.7"  # a carrier NAT's address, shared by many phones


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own in the real Redis; its keys are deleted afterwards."""
    name = f"selfinstall-test-{uuid.uuid4().hex}:"
    yield name
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=name + "*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@asynccontextmanager
async def _app(limit: int, redis_url: str = "", prefix: str = "", **env: str) -> AsyncIterator[Litestar]:
    """The real app (one worker) with the limiter on; counting in Redis when `redis_url` is given."""
    settings = load_settings(
        {
            **os.environ,
            "RATE_LIMIT_PER_MINUTE": str(limit),
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": prefix,
            **env,
        }
    )
    app = create_app(settings)
    try:
        yield app
    finally:
        await app.state.limiter.aclose()
        app.state.ctx.cpu.shutdown()


def _client(app: Litestar, address: str = PHONE) -> httpx.AsyncClient:
    """A client whose requests arrive from `address` (the TCP peer the server sees)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _statuses(client: httpx.AsyncClient, n: int, path: str = INSTALLS, **kwargs: object) -> list[int]:
    return [(await client.get(path, **kwargs)).status_code for _ in range(n)]  # type: ignore[arg-type]


class TestRefusal:
    async def test_over_the_limit_is_a_429_problem_with_retry_after(self, make: Factory, prefix: str) -> None:
        who = make.party(Role.CUSTOMER)
        async with _app(5, REDIS_URL, prefix) as app, _client(app) as c:
            statuses = await _statuses(c, 5, headers=who.headers)
            refused = await c.get(INSTALLS, headers={**who.headers, "Accept-Language": "en"})
            health = await c.get("/health")
        assert statuses == [200] * 5
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "request/rate-limited"
        assert "Too many requests" in refused.json()["title"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60  # the rest of the one-minute window
        assert health.status_code == 200  # health checks are never limited


class TestPrincipalBuckets:
    async def test_two_customers_behind_one_address_each_have_their_own_bucket(
        self, make: Factory, prefix: str
    ) -> None:
        anna, bob = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        async with _app(3, REDIS_URL, prefix) as app, _client(app, PHONE) as c:
            annas = await _statuses(c, 4, headers=anna.headers)
            bobs = await _statuses(c, 3, headers=bob.headers)
        assert annas == [200, 200, 200, 429]
        assert bobs == [200, 200, 200]  # Anna's refusal is not Bob's

    async def test_one_customer_over_two_addresses_has_one_bucket(self, make: Factory, prefix: str) -> None:
        anna = make.party(Role.CUSTOMER)
        async with _app(3, REDIS_URL, prefix) as app, _client(app, PHONE) as mobile, _client(app, "192.0.2.50") as wifi:
            on_mobile = await _statuses(mobile, 2, headers=anna.headers)
            on_wifi = await _statuses(wifi, 2, headers=anna.headers)
        assert on_mobile + on_wifi == [200, 200, 200, 429]

    async def test_a_subject_counts_apart_per_role(self, make: Factory, prefix: str) -> None:
        as_customer, as_installer = make.party(Role.CUSTOMER, "same-id"), make.party(Role.INSTALLER, "same-id")
        async with _app(2, REDIS_URL, prefix) as app, _client(app) as c:
            customer = await _statuses(c, 3, headers=as_customer.headers)
            installer = await _statuses(c, 2, headers=as_installer.headers)
        assert customer == [200, 200, 429]
        assert installer == [200, 200]

    async def test_forged_tokens_naming_a_customer_do_not_use_up_her_bucket(
        self, make: Factory, settings: Settings, prefix: str
    ) -> None:
        anna = make.party(Role.CUSTOMER)
        now = datetime.now(UTC)
        forged = Token(
            sub=anna.subject,
            exp=now + timedelta(minutes=5),
            iat=now,
            iss=settings.jwt_issuer,
            aud=settings.jwt_audience,
            extras={"role": "customer"},
        ).encode("a-different-secret-of-at-least-thirty-two-bytes", "HS256")
        async with _app(2, REDIS_URL, prefix) as app, _client(app) as c:
            attacks = await _statuses(c, 3, headers={"Authorization": f"Bearer {forged}"})
            hers = await _statuses(c, 2, headers=anna.headers)
        assert attacks == [401, 401, 401]  # refused by the bearer middleware, before anything is counted
        assert hers == [200, 200]


class TestAcrossWorkers:
    async def test_two_workers_count_one_principal_in_one_bucket(self, make: Factory, prefix: str) -> None:
        anna = make.party(Role.CUSTOMER)
        async with _app(4, REDIS_URL, prefix) as one, _app(4, REDIS_URL, prefix) as two:
            async with _client(one) as c1, _client(two) as c2:
                statuses = [(await c.get(INSTALLS, headers=anna.headers)).status_code for c in (c1, c2, c1, c2, c1, c2)]
        assert statuses == [200, 200, 200, 200, 429, 429]

    async def test_simultaneous_requests_on_two_workers_pass_exactly_the_limit(
        self, make: Factory, prefix: str
    ) -> None:
        # Litestar's own limiter reads then writes the count: here it let 20 of 40 through a limit of 10.
        anna = make.party(Role.CUSTOMER)
        async with _app(6, REDIS_URL, prefix) as one, _app(6, REDIS_URL, prefix) as two:
            async with _client(one) as c1, _client(two) as c2:
                answers = await asyncio.gather(*(c.get(INSTALLS, headers=anna.headers) for c in (c1, c2) * 10))
        assert sorted(r.status_code for r in answers) == [200] * 6 + [429] * 14

    async def test_the_count_survives_a_restart(self, make: Factory, prefix: str) -> None:
        anna = make.party(Role.CUSTOMER)
        async with _app(2, REDIS_URL, prefix) as before, _client(before) as c:
            first = await _statuses(c, 2, headers=anna.headers)
        async with _app(2, REDIS_URL, prefix) as after, _client(after) as c:
            then = await _statuses(c, 1, headers=anna.headers)
        assert first + then == [200, 200, 429]


class TestInMemoryDefault:
    async def test_without_redis_each_worker_still_limits_by_principal(self, make: Factory) -> None:
        anna, bob = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        async with _app(2) as one, _app(2) as two:
            assert one.state.limiter.shared is None  # no Redis configured, none used
            async with _client(one) as c1, _client(two) as c2:
                annas = await _statuses(c1, 3, headers=anna.headers)
                bobs = await _statuses(c1, 2, headers=bob.headers)
                elsewhere = await _statuses(c2, 1, headers=anna.headers)
        assert annas == [200, 200, 429]
        assert bobs == [200, 200]
        assert elsewhere == [200]  # the embedded store is per worker: what REDIS_URL is for


class TestAnonymousByAddress:
    async def test_requests_without_a_token_count_per_client_address(self, prefix: str) -> None:
        async with _app(2, REDIS_URL, prefix) as app, _client(app, PHONE) as here, _client(app, "192.0.2.9") as there:
            from_here = await _statuses(here, 3, LOGIN)
            from_there = await _statuses(there, 2, LOGIN)
        assert from_here == [200, 200, 429]
        assert from_there == [200, 200]

    async def test_an_ipv6_subscriber_is_one_bucket_over_its_64(self, prefix: str) -> None:
        async with _app(2, REDIS_URL, prefix) as app:
            async with (
                _client(app, "2001:db8:7:1::10") as a,
                _client(app, "2001:db8:7:1:ffff::1") as b,
                _client(app, "2001:db8:7:2::10") as neighbour,
            ):
                same_block = await _statuses(a, 1, LOGIN) + await _statuses(b, 2, LOGIN)
                next_block = await _statuses(neighbour, 1, LOGIN)
        assert same_block == [200, 200, 429]
        assert next_block == [200]

    async def test_behind_a_trusted_proxy_the_forwarded_address_counts(self, prefix: str) -> None:
        async with _app(2, REDIS_URL, prefix, FORWARDED_ALLOW_IPS="10.0.0.2") as app:
            async with _client(app, "10.0.0.2") as proxy, _client(app, "192.0.2.77") as stranger:
                first = await _statuses(proxy, 3, LOGIN, headers={"X-Forwarded-For": "203.0.113.1"})
                second = await _statuses(proxy, 2, LOGIN, headers={"X-Forwarded-For": "203.0.113.2"})
                # An untrusted peer's header is not believed: it cannot pick a fresh bucket per request.
                spoofed = [
                    (await stranger.get(LOGIN, headers={"X-Forwarded-For": f"203.0.113.{100 + i}"})).status_code
                    for i in range(3)
                ]
        assert first == [200, 200, 429]
        assert second == [200, 200]
        assert spoofed == [200, 200, 429]


class TestRedisSetting:
    def test_a_url_that_is_not_redis_is_refused_at_start(self) -> None:
        with pytest.raises(ValueError, match="REDIS_URL"):
            load_settings({**os.environ, "REDIS_URL": "http://127.0.0.1:6379"})

    def test_its_password_stays_out_of_the_settings_repr(self) -> None:
        settings = load_settings({**os.environ, "REDIS_URL": "rediss://:s3cret-pw@redis.internal:6380/0"})
        assert settings.redis_url == "rediss://:s3cret-pw@redis.internal:6380/0"
        assert "s3cret-pw" not in repr(settings)


class TestRedisUnreachable:
    async def test_requests_are_answered_and_limited_per_worker_never_a_500(self, make: Factory) -> None:
        anna = make.party(Role.CUSTOMER)
        closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
        errors_before = _store_errors()
        async with _app(3, closed) as app, _client(app) as c:
            started = time.perf_counter()
            statuses = await _statuses(c, 4, headers=anna.headers)
            took = time.perf_counter() - started
        assert statuses == [200, 200, 200, 429]  # counted in the worker's memory meanwhile
        assert _store_errors() == errors_before + 1  # tried once, then not again for REDIS_RETRY_S
        assert took < 5  # a refused connection costs nothing like a timeout per request

    async def test_counting_returns_to_redis_once_it_answers_again(self) -> None:
        now = [0.0]
        port = free_port()
        limiter = Limiter(2, f"redis://127.0.0.1:{port}/0", "t:", clock=lambda: now[0])
        scope = {"type": "http", "user": Principal("cust-x", Role.CUSTOMER), "client": (PHONE, 1)}
        try:
            while_down = [await _admitted(limiter, scope) for _ in range(3)]
            with _redis_server(port) as redis_cli:
                now[0] += REDIS_RETRY_S  # the worker tries Redis again
                back = [await _admitted(limiter, scope) for _ in range(3)]
                shared = int(redis_cli("GET", "t:" + bucket_key("customer:cust-x")))
        finally:
            await limiter.aclose()
        assert while_down == [True, True, False]  # counted in the worker meanwhile
        assert back == [True, True, False]
        assert shared == 3  # the count is in Redis again, for every worker to see


async def _admitted(limiter: Limiter, scope: dict[str, object]) -> bool:
    try:
        await limiter.admit(scope)  # type: ignore[arg-type]
    except TooManyRequests:
        return False
    return True


@contextmanager
def _redis_server(port: int) -> Iterator[Callable[..., str]]:
    """A real, empty Redis of the test's own on `port`; yields a redis-cli for it."""
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )

    def cli(*args: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=5)
        return done.stdout.strip()

    try:
        for _ in range(100):
            if cli("PING") == "PONG":
                break
            time.sleep(0.05)
        yield cli
    finally:
        server.terminate()
        server.wait(timeout=10)


def _store_errors() -> float:
    return REGISTRY.get_sample_value("selfinstall_rate_limit_store_errors_total") or 0.0
