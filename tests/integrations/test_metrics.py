"""The device-report metrics: every effect is counted, the text is valid Prometheus exposition."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.installs.context import InstallContext
from backend.installs.tables import Install
from backend.integrations import metrics
from backend.integrations.sweep import sweep_silent_devices
from tests.factories import Factory, new_ean
from tests.integrations.helpers import READING, approved, body, in_review_complexity, reported, system
from tests.test_metrics import parse


async def _samples() -> dict[str, float]:
    families = await metrics.families(datetime.now(UTC))
    assert {f.name + ("_total" if f.type == "counter" else ""): f.type for f in families} == {
        "selfinstall_device_reports_total": "counter",
        "selfinstall_device_confirmed_installs": "gauge",
        "selfinstall_device_silent_cases": "gauge",
    }
    return {
        s.name + "".join(f"/{v}" for _, v in sorted(s.labels.items())): s.value for f in families for s in f.samples
    }


class TestDeviceMetrics:
    async def test_each_effect_is_counted(
        self, client: AsyncClient, auto_client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        before = await _samples()
        head_end = system(make)
        confirmed = await approved(client, make)
        await reported(client, head_end, body(confirmed.serial, confirmed.ean, import_kwh=READING + 200))
        review = await in_review_complexity(auto_client, make)
        await reported(auto_client, head_end, body(review.serial, review.ean))
        await reported(client, head_end, body(confirmed.serial, await make.connection()))
        await reported(client, head_end, body("MTR1-METRICS-NONE", new_ean()))
        silent = await approved(client, make)
        decided = datetime.now(UTC) - timedelta(days=8)
        await Install.update({Install.decided_at: decided}).where(Install.id == uuid.UUID(silent.id))
        await sweep_silent_devices(ctx, datetime.now(UTC))
        after = await _samples()

        def delta(key: str) -> float:
            return after[key] - before.get(key, 0)

        total = "selfinstall_device_reports_total/"
        assert delta(total + "confirmed") == 2  # the approved one and the auto-approved one
        assert delta(total + "auto_approved") == 1
        assert delta(total + "reading_mismatch") == 1
        assert delta(total + "device_mismatch") == 1
        assert delta(total + "unmatched") == 1
        assert delta("selfinstall_device_confirmed_installs") == 2
        assert delta("selfinstall_device_silent_cases/open") >= 1

    async def test_they_are_on_the_metrics_endpoint(self, client: AsyncClient) -> None:
        r = await client.get("/metrics")
        assert r.status_code == 200, r.text
        types, samples = parse(r.text)
        assert types["selfinstall_device_reports_total"] == "counter"
        assert types["selfinstall_device_silent_cases"] == "gauge"
        assert ("selfinstall_device_reports_total", frozenset({("outcome", "unmatched")})) in samples
