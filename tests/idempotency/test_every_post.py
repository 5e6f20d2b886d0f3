"""Every POST of the mobile, review, admin and integration APIs honours an Idempotency-Key: the same
request again is answered from the store without running, another request under the key is 422, a key
held by a request in flight is 409 with Retry-After, and requests racing with one key run once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from httpx import AsyncClient
from litestar import Litestar
from litestar.routes import HTTPRoute

from backend.db import recorded_statements
from backend.idempotency import service, takes_key
from backend.settings import Settings
from tests.factories import Factory
from tests.idempotency.scenarios import SCENARIOS, Scenario
from tests.mobile_api.helpers import problem

OPERATIONS = sorted(SCENARIOS)


def post_operations(app: Litestar) -> set[str]:
    """The operation id of every POST route of the app that takes an Idempotency-Key."""
    return {
        str(handler.operation_id)
        for route in app.routes
        if isinstance(route, HTTPRoute) and takes_key("POST", route.path)
        for handler in route.route_handlers
        if "POST" in handler.http_methods
    }


def new_key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def _first(client: AsyncClient, sc: Scenario, key: dict[str, str]) -> Any:
    first = await sc.call.send(client, sc.who, **key)
    assert first.status_code < 300, first.text
    assert await sc.executions() == 1
    return first


class TestEveryPostRoute:
    def test_every_post_route_has_a_scenario(self, client: AsyncClient) -> None:
        app = client._transport.app  # type: ignore[attr-defined]  # the app under test, as registered
        assert post_operations(app) == set(SCENARIOS)

    @pytest.mark.parametrize("operation", OPERATIONS)
    async def test_the_same_request_again_is_replayed_without_running(
        self, client: AsyncClient, make: Factory, operation: str
    ) -> None:
        sc = await SCENARIOS[operation](client, make)
        key = new_key()
        first = await _first(client, sc, key)
        with recorded_statements() as statements:
            again = await sc.call.send(client, sc.who, **key)
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
        assert [s.kind for s in statements if s.kind != "connect"] == ["query"]  # the key's lookup, no more
        assert await sc.executions() == 1

    @pytest.mark.parametrize("operation", OPERATIONS)
    async def test_another_request_under_the_key_is_refused(
        self, client: AsyncClient, make: Factory, operation: str
    ) -> None:
        sc = await SCENARIOS[operation](client, make)
        key = new_key()
        await _first(client, sc, key)
        refused = await sc.other.send(client, sc.who, **key, **{"Accept-Language": "en"})
        body = problem(refused, 422, "idempotency/key-reused")
        assert body["title"] == "Idempotency-Key already used"
        assert await sc.executions() == 1

    @pytest.mark.parametrize("operation", OPERATIONS)
    async def test_a_key_held_in_flight_is_asked_back_later(
        self, client: AsyncClient, make: Factory, settings: Settings, operation: str
    ) -> None:
        sc = await SCENARIOS[operation](client, make)
        key = new_key()
        # The key as a request running in another worker holds it: leased, no answer yet.
        name = service.key_hash(sc.principal, key["Idempotency-Key"])
        fingerprint = service.request_hash("POST", sc.call.path, b"")
        fingerprint.update(sc.call.body())
        now = datetime.now(UTC)
        token = await service.hold(name, fingerprint.hexdigest(), now, settings.idempotency_lease_s, 3600)
        busy = await sc.call.send(client, sc.who, **key)
        problem(busy, 409, "idempotency/in-flight")
        assert busy.headers["retry-after"] == str(service.IN_FLIGHT_RETRY_AFTER_S)
        assert await sc.executions() == 0
        await service.let_go(name, token)  # that request failed and let go: the retry runs
        ran = await sc.call.send(client, sc.who, **key)
        assert ran.status_code < 300, ran.text
        assert await sc.executions() == 1

    @pytest.mark.parametrize("operation", OPERATIONS)
    async def test_racing_requests_with_one_key_run_once(
        self, client: AsyncClient, make: Factory, operation: str
    ) -> None:
        sc = await SCENARIOS[operation](client, make)
        key = new_key()
        answers = await asyncio.gather(*(sc.call.send(client, sc.who, **key) for _ in range(4)))
        done = [r for r in answers if r.status_code != 409]
        assert done, [r.text for r in answers]
        assert all(r.status_code < 300 for r in done), [r.text for r in done]
        assert len({(r.status_code, r.content) for r in done}) == 1  # the one answer, replayed
        for r in answers:
            if r.status_code == 409:
                problem(r, 409, "idempotency/in-flight")
        assert await sc.executions() == 1
