"""The outbox's health in the console (issue 13): the backlog's figures, failing and given-up deliveries in
words, and a retry button that calls backend/events' own retry (audited; a delivered one is refused)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.events import repository as events_repo
from backend.events import service
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery
from backend.installs.service import transaction
from backend.installs.tables import Event
from backend.principal import Role
from tests.console.helpers import console_headers
from tests.factories import Factory

DOWN = "http://127.0.0.1:9/console-test-receiver"  # nobody listens: a receiver that is down


@pytest.fixture(autouse=True)
async def _gone_after() -> AsyncIterator[None]:
    """Each test's deliveries removed after it: a later test's delivery round must not meet them (the
    events tests count the backlog around their own)."""
    yield
    await OutboxDelivery.delete().where(OutboxDelivery.url == DOWN)


@pytest.fixture
async def admin(client: AsyncClient, make: Factory) -> dict[str, str]:
    return await console_headers(client, make, Role.ADMIN)


async def _delivery(*, dead: bool = False, delivered: bool = False) -> int:
    """One delivery of a new event to DOWN that failed once (and was given up, or later delivered)."""
    now = datetime.now(UTC)
    async with transaction():
        await enqueue("job.created", {"job": 0}, now, urls=(DOWN,))
    [row] = (
        await OutboxDelivery.select(OutboxDelivery.id)
        .where(OutboxDelivery.url == DOWN)
        .order_by(OutboxDelivery.id, ascending=False)
        .limit(1)
    )
    await events_repo.mark_failed(row["id"], 1, now + timedelta(minutes=5), "HTTP 503", now if dead else None)
    if delivered:
        await events_repo.mark_delivered(row["id"], 2, now)
    return int(row["id"])


class TestOutboxPage:
    async def test_backlog_and_the_failing_in_words(self, client: AsyncClient, admin: dict[str, str]) -> None:
        failing = await _delivery()
        page = await client.get("/console/outbox", headers=admin)
        backlog = await service.backlog()
        assert page.status_code == 200, page.text
        assert f'<dd id="pending">{backlog.pending}</dd>' in page.text
        assert f'<dd id="failing">{backlog.failing}</dd>' in page.text and backlog.failing >= 1
        row = re.search(rf'<tr id="delivery-{failing}">(.*?)</tr>', page.text, re.S)
        assert row is not None and "opdracht aangemaakt" in row.group(1) and "HTTP 503" in row.group(1)
        assert "job.created" not in page.text

    async def test_retry_now_through_the_events_service(self, client: AsyncClient, admin: dict[str, str]) -> None:
        failing = await _delivery()
        r = await client.post(f"/console/outbox/{failing}/retry", headers=admin)
        assert r.status_code == 303 and r.headers["location"] == "/console/outbox?state=failing&msg=delivery_retried"
        [row] = await OutboxDelivery.select().where(OutboxDelivery.id == failing)
        assert row["retried_at"] is not None and row["next_attempt_at"] <= datetime.now(UTC)
        actions = (
            await Event.select(Event.detail).where(Event.action == "webhook.delivery-retried").output(load_json=True)
        )
        assert {"delivery": failing} in [{"delivery": a["detail"].get("delivery")} for a in actions]
        page = await client.get(r.headers["location"], headers=admin)
        assert "De aflevering wordt zo opnieuw verstuurd." in page.text

    async def test_a_dead_one_is_listed_and_brought_back(self, client: AsyncClient, admin: dict[str, str]) -> None:
        dead = await _delivery(dead=True)
        page = await client.get("/console/outbox?state=dead", headers=admin)
        assert f'<tr id="delivery-{dead}">' in page.text
        failing_list = await client.get("/console/outbox?state=failing", headers=admin)
        assert f'<tr id="delivery-{dead}">' not in failing_list.text
        r = await client.post(f"/console/outbox/{dead}/retry", headers=admin)
        assert r.status_code == 303
        [row] = await OutboxDelivery.select(OutboxDelivery.dead_at).where(OutboxDelivery.id == dead)
        assert row["dead_at"] is None

    async def test_refusals_in_words(self, client: AsyncClient, admin: dict[str, str]) -> None:
        delivered = await _delivery(delivered=True)
        r = await client.post(f"/console/outbox/{delivered}/retry", headers=admin)
        assert r.status_code == 409 and "al afgeleverd" in r.text
        r = await client.post("/console/outbox/2000000000/retry", headers=admin)
        assert r.status_code == 404 and "Deze aflevering is niet gevonden." in r.text

    async def test_a_specialist_retries_nothing(self, client: AsyncClient, make: Factory) -> None:
        failing = await _delivery()
        headers = await console_headers(client, make, Role.SPECIALIST)
        r = await client.post(f"/console/outbox/{failing}/retry", headers=headers)
        assert r.status_code == 403
        [row] = await OutboxDelivery.select(OutboxDelivery.retried_at).where(OutboxDelivery.id == failing)
        assert row["retried_at"] is None
