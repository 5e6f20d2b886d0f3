"""sweep_silent_devices: approved installs whose device never reported get one device_silent case."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.installs.context import InstallContext
from backend.installs.tables import Install
from backend.integrations.sweep import sweep_silent_devices
from backend.review.tables import ReviewCase
from tests.factories import Factory
from tests.integrations.helpers import actions, approved, body, cases, reported, system

DAYS = 7  # policy.toml [device] silent_after_days


async def _approved_days_ago(client: AsyncClient, make: Factory, days: float):
    d = await approved(client, make)
    decided = datetime.now(UTC) - timedelta(days=days)
    await Install.update({Install.decided_at: decided}).where(Install.id == uuid.UUID(d.id))
    return d


class TestSweep:
    async def test_silent_past_the_limit_gets_a_case_once(
        self, client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        d = await _approved_days_ago(client, make, DAYS + 1)
        assert "device_silent" not in await cases(d.id)
        assert await sweep_silent_devices(ctx, datetime.now(UTC)) >= 1
        case = (await cases(d.id))["device_silent"]
        assert case["state"] == "open" and case["detail"]["serial"] == d.serial
        assert case["detail"]["silent_after_days"] == DAYS
        assert "device.silent" in await actions(d.id)
        await sweep_silent_devices(ctx, datetime.now(UTC))
        rows = await ReviewCase.select().where(
            (ReviewCase.install == uuid.UUID(d.id)) & (ReviewCase.kind == "device_silent")
        )
        assert len(rows) == 1 and rows[0]["version"] == case["version"]  # not touched again

    async def test_an_explicit_clock_decides_what_is_late(
        self, client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        """No waiting: the same install is not late six days after its approval, and late after eight.
        (The clocks stay in the past, so no other test's fresh install is swept.)"""
        d = await _approved_days_ago(client, make, 30)
        approved_at = datetime.now(UTC) - timedelta(days=30)
        await sweep_silent_devices(ctx, approved_at + timedelta(days=DAYS - 1))
        assert "device_silent" not in await cases(d.id)
        await sweep_silent_devices(ctx, approved_at + timedelta(days=DAYS + 1))
        assert (await cases(d.id))["device_silent"]["state"] == "open"

    async def test_concurrent_sweepers_open_one_case(
        self, client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        d = await _approved_days_ago(client, make, DAYS + 2)
        now = datetime.now(UTC)
        await asyncio.gather(*[sweep_silent_devices(ctx, now) for _ in range(4)])
        rows = await ReviewCase.select().where(
            (ReviewCase.install == uuid.UUID(d.id)) & (ReviewCase.kind == "device_silent")
        )
        assert len(rows) == 1
        assert (await actions(d.id)).count("device.silent") == 1

    async def test_a_device_that_reported_is_not_silent(
        self, client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        confirmed = await _approved_days_ago(client, make, DAYS + 1)
        await reported(client, system(make), body(confirmed.serial, confirmed.ean))
        elsewhere = await _approved_days_ago(client, make, DAYS + 1)  # reported, but at another connection
        await reported(client, system(make), body(elsewhere.serial, await make.connection()))
        await sweep_silent_devices(ctx, datetime.now(UTC))
        assert "device_silent" not in await cases(confirmed.id)
        assert "device_silent" not in await cases(elsewhere.id)
        assert "device_mismatch" in await cases(elsewhere.id)

    async def test_a_closed_case_is_not_reopened(self, client: AsyncClient, make: Factory, ctx: InstallContext) -> None:
        d = await _approved_days_ago(client, make, DAYS + 1)
        await sweep_silent_devices(ctx, datetime.now(UTC))
        case = (await cases(d.id))["device_silent"]
        await ReviewCase.update({ReviewCase.state: "closed", ReviewCase.closed_at: datetime.now(UTC)}).where(
            ReviewCase.id == case["id"]
        )  # a specialist closed it (the review domain's verdict does this)
        await sweep_silent_devices(ctx, datetime.now(UTC))
        assert (await cases(d.id))["device_silent"]["state"] == "closed"

    async def test_assets_that_do_not_report_are_not_swept(
        self, client: AsyncClient, make: Factory, ctx: InstallContext
    ) -> None:
        from tests.mobile_api.helpers import ready_install, submit

        d = await ready_install(client, make, "home_battery")
        r = await submit(client, d)
        assert r.json()["state"] == "approved", r.json()["reasons"]
        decided = datetime.now(UTC) - timedelta(days=DAYS + 1)
        await Install.update({Install.decided_at: decided}).where(Install.id == uuid.UUID(d.id))
        await sweep_silent_devices(ctx, datetime.now(UTC))
        assert "device_silent" not in await cases(d.id)
