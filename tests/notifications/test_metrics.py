"""/metrics follows what customers are still to be told: pending, failing, the oldest one waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.notifications import metrics
from tests.factories import Factory
from tests.integrations.helpers import submitted
from tests.mobile_api.helpers import ready_install
from tests.notifications.conftest import Mail
from tests.notifications.helpers import address, prefer


async def _samples(now: datetime) -> dict[str, float]:
    return {
        s.name + "".join(f"/{v}" for v in s.labels.values()): s.value
        for f in await metrics.families(now)
        for s in f.samples
    }


class TestNotificationMetrics:
    async def test_pending_then_failing_then_sent(self, client: AsyncClient, make: Factory, mail: Mail) -> None:
        # What other tests left due within the next minutes is settled first: the counts below are this test's.
        d = await ready_install(client, make)
        await prefer(client, d.who, address())  # its address check is settled by the drain: confirmed already
        await mail.drain(datetime.now(UTC) + timedelta(minutes=5))
        before = await _samples(datetime.now(UTC))
        await submitted(client, d, "approved")
        now = datetime.now(UTC) + timedelta(minutes=1)
        pending = await _samples(now)
        assert pending["selfinstall_notifications/pending"] == before["selfinstall_notifications/pending"] + 1
        assert pending["selfinstall_notifications_oldest_pending_age_seconds"] >= 60
        mail.server.stop()
        try:
            await mail.drain()
            failing = await _samples(now)
            assert failing["selfinstall_notifications/failing"] == before["selfinstall_notifications/failing"] + 1
        finally:
            mail.server.start()
        await mail.drain(now + timedelta(minutes=2))
        after = await _samples(now)
        assert after["selfinstall_notifications/pending"] == before["selfinstall_notifications/pending"]
        assert after["selfinstall_notifications/failing"] == before["selfinstall_notifications/failing"]

    async def test_they_are_on_the_metrics_page(self, client: AsyncClient) -> None:
        text = (await client.get("/metrics")).text
        assert 'selfinstall_notifications{state="pending"}' in text
        assert "selfinstall_notifications_oldest_pending_age_seconds" in text
