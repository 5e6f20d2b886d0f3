"""The outbox's /metrics lines follow its deliveries: pending, failing, dead, the oldest one waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from httpx import AsyncClient

from backend.events import metrics
from backend.events.delivery import deliver_due
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery
from backend.installs.service import transaction
from tests.test_metrics import parse

NOWHERE = "http://127.0.0.1:9/metrics-test"  # a closed port: every attempt fails at once
MAX_AGE = timedelta(days=3)


async def _samples(now: datetime) -> dict[str, float]:
    return {
        s.name + "".join(f"/{v}" for v in s.labels.values()): s.value
        for f in await metrics.families(now)
        for s in f.samples
    }


class TestOutboxMetrics:
    async def test_a_delivery_counted_pending_then_failing_then_dead(self, client: AsyncClient) -> None:
        t0 = datetime.now(UTC)
        before = await _samples(t0)
        try:
            async with transaction():
                await enqueue("install.escalated", {}, t0 - timedelta(hours=2), (NOWHERE,))
            pending = await _samples(t0)
            assert (
                pending["selfinstall_webhook_deliveries/pending"]
                == before["selfinstall_webhook_deliveries/pending"] + 1
            )
            assert pending["selfinstall_webhook_oldest_pending_age_seconds"] >= 2 * 3600
            async with httpx.AsyncClient() as http:
                await deliver_due(http, "s", lambda: t0, MAX_AGE, development=True)
                assert (await _samples(t0))["selfinstall_webhook_deliveries/failing"] == before[
                    "selfinstall_webhook_deliveries/failing"
                ] + 1
                later = t0 + MAX_AGE
                await deliver_due(http, "s", lambda: later, MAX_AGE, development=True)
            dead = await _samples(later)
            assert dead["selfinstall_webhook_deliveries/dead"] == before["selfinstall_webhook_deliveries/dead"] + 1
            assert dead["selfinstall_webhook_deliveries/failing"] == before["selfinstall_webhook_deliveries/failing"]
        finally:
            await OutboxDelivery.delete().where(OutboxDelivery.url == NOWHERE)

    async def test_on_the_metrics_page(self, client: AsyncClient) -> None:
        r = await client.get("/metrics")
        assert r.status_code == 200, r.text
        types, samples = parse(r.text)  # prometheus-client's own parser
        assert types["selfinstall_webhook_deliveries"] == "gauge"
        assert types["selfinstall_webhook_oldest_pending_age_seconds"] == "gauge"
        states = {dict(labels)["state"] for name, labels in samples if name == "selfinstall_webhook_deliveries"}
        assert states == {"pending", "failing", "dead"}
