"""The review queue: order by due time then risk, filters, counts, cursor pagination; SLAs in working hours."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient

from backend.principal import Role
from backend.review.config import add_working_hours, load_review_config
from tests.factories import Factory, Party
from tests.helpers.review import (
    QUEUE,
    case_id_of,
    fraud_escalated,
    helped,
    install_in,
    queue_page,
    set_case,
    unique_city,
    whole_queue,
)
from tests.mobile_api.helpers import ask_help, problem, ready_install

AMS = ZoneInfo("Europe/Amsterdam")
WH = load_review_config().working_hours


async def _help_case(client: AsyncClient, make: Factory, city: str, asset_type: str = "smart_meter_1p") -> int:
    d = await install_in(client, make, city, asset_type)
    await helped(client, d)
    return await case_id_of(d.id)


async def _fraud_case(client: AsyncClient, make: Factory, city: str) -> int:
    d = await install_in(client, make, city)
    await fraud_escalated(client, make, d)
    return await case_id_of(d.id)


async def _ids(client: AsyncClient, spec: Party, **filters: str) -> list[int]:
    return [i["case_id"] for i in await whole_queue(client, spec, **filters)]


class TestOrder:
    async def test_due_time_then_risk_then_case_id(self, client: AsyncClient, make: Factory) -> None:
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        helper = await _help_case(client, make, city)
        fraud = await _fraud_case(client, make, city)
        helper2 = await _help_case(client, make, city)
        same = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
        for case_id in (helper, fraud, helper2):
            await set_case(case_id, due_at=same, opened_at=same - timedelta(hours=1))
        assert await _ids(client, spec, region=city) == [fraud, helper, helper2]  # risk 100 before 20, then id

        await set_case(helper2, due_at=same - timedelta(minutes=1))  # due earlier beats a higher risk
        assert await _ids(client, spec, region=city) == [helper2, fraud, helper]
        await set_case(helper, risk=500)
        assert await _ids(client, spec, region=city) == [helper2, helper, fraud]

    async def test_fraud_is_due_before_a_request_for_help_opened_at_the_same_time(
        self, client: AsyncClient, make: Factory
    ) -> None:
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        helper = await _help_case(client, make, city)
        fraud = await _fraud_case(client, make, city)
        items = {i["case_id"]: i for i in await whole_queue(client, spec, region=city)}
        config = load_review_config()
        for case_id, reasons in ((helper, ["human_requested"]), (fraud, ["suspected_fraud"])):
            item = items[case_id]
            assert item["reasons"] == reasons
            assert item["risk"] == config.risk(reasons)
            opened = datetime.fromisoformat(item["opened_at"])
            assert datetime.fromisoformat(item["due_at"]) == config.due_at(opened, reasons)
            assert item["overdue"] is False
        opened = datetime.fromisoformat(items[helper]["opened_at"])
        await set_case(fraud, opened_at=opened, due_at=config.due_at(opened, ["suspected_fraud"]))
        assert await _ids(client, spec, region=city) == [fraud, helper]

    async def test_overdue_flag(self, client: AsyncClient, make: Factory) -> None:
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        case_id = await _help_case(client, make, city)
        await set_case(case_id, due_at=datetime.now(UTC) - timedelta(minutes=5))
        [item] = await whole_queue(client, spec, region=city)
        assert item["overdue"] is True


class TestFilters:
    async def test_reason_asset_type_and_region(self, client: AsyncClient, make: Factory) -> None:
        city, other_city, spec = unique_city(), unique_city(), make.party(Role.SPECIALIST)
        helper = await _help_case(client, make, city)
        fraud = await _fraud_case(client, make, city)
        battery = await _help_case(client, make, city, "home_battery")
        elsewhere = await _help_case(client, make, other_city)
        assert sorted(await _ids(client, spec, region=city)) == sorted([helper, fraud, battery])
        assert await _ids(client, spec, region=other_city) == [elsewhere]
        assert await _ids(client, spec, region=city, reason="suspected_fraud") == [fraud]
        assert sorted(await _ids(client, spec, region=city, reason="human_requested")) == sorted([helper, battery])
        assert await _ids(client, spec, region=city, reason="complexity") == []
        assert await _ids(client, spec, region=city, asset_type="home_battery") == [battery]
        assert fraud in await _ids(client, spec, reason="suspected_fraud")
        assert await _ids(client, spec, region=unique_city()) == []

    async def test_help_while_in_review_is_a_reason_of_the_case(self, client: AsyncClient, make: Factory) -> None:
        """A customer who asks for a person while their install is already in review: the queue must say so,
        as the install does (reasons, the reason filter, the counts)."""
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        d = await install_in(client, make, city)
        await fraud_escalated(client, make, d)
        before = (await queue_page(client, spec, limit=1))["counts"]["human_requested"]
        assert set((await helped(client, d))["reasons"]) == {"suspected_fraud", "human_requested"}
        [item] = await whole_queue(client, spec, region=city)
        assert set(item["reasons"]) == {"suspected_fraud", "human_requested"}
        assert await _ids(client, spec, region=city, reason="human_requested") == [item["case_id"]]
        assert (await queue_page(client, spec, limit=1))["counts"]["human_requested"] == before + 1

    async def test_unknown_reason_is_refused(self, client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        r = await client.get(QUEUE, params={"reason": "bored"}, headers=spec.headers)
        problem(r, 400, "request/invalid")
        r = await client.get(QUEUE, params={"limit": 0}, headers=spec.headers)
        problem(r, 400, "request/invalid")


class TestCounts:
    async def test_counts_per_reason_over_all_open_cases(self, client: AsyncClient, make: Factory) -> None:
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        before = (await queue_page(client, spec, limit=1))["counts"]
        await _fraud_case(client, make, city)
        await _help_case(client, make, city)
        await _help_case(client, make, city)
        page = await queue_page(client, spec, limit=1, region=city)
        after = page["counts"]
        assert after["suspected_fraud"] == before["suspected_fraud"] + 1
        assert after["human_requested"] == before["human_requested"] + 2
        assert after["complexity"] == before["complexity"]
        assert set(after) == {
            "suspected_fraud",
            "human_requested",
            "approval_required",
            "specialist_knowledge",
            "complexity",
            "uncertain",
        }
        # The counts are of escalations; follow-up cases (QA samples, device reports) are counted by kind.
        everything = [i for i in await whole_queue(client, spec) if i["kind"] == "escalation"]
        for reason, n in after.items():
            assert n == sum(reason in i["reasons"] for i in everything), reason
        assert page["oldest_case_age_s"] >= 0


class TestPagination:
    async def test_pages_have_no_duplicates_or_gaps(self, client: AsyncClient, make: Factory) -> None:
        city, spec = unique_city(), make.party(Role.SPECIALIST)
        cases = [await _help_case(client, make, city) for _ in range(6)]
        cases.append(await _fraud_case(client, make, city))
        # Ties on due time and risk across page boundaries (the id tie-break), and sub-second due times.
        base = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
        for n, case_id in enumerate(cases):
            await set_case(case_id, due_at=base + timedelta(milliseconds=500 * (n // 3)))
        full = await _ids(client, spec, region=city)
        assert sorted(full) == sorted(cases)

        pages, cursor = [], None
        while True:
            page = await queue_page(client, spec, limit=2, region=city, cursor=cursor)
            pages.append([i["case_id"] for i in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 2, 2, 1]
        assert [c for p in pages for c in p] == full

    async def test_bad_cursor(self, client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        naive = base64.urlsafe_b64encode(b"2026-11-30T09:00:00|5|3").decode()
        for cursor in ("not-a-cursor", base64.urlsafe_b64encode(b"a|b|c").decode(), naive, "%%%"):
            r = await client.get(QUEUE, params={"cursor": cursor}, headers=spec.headers)
            problem(r, 400, "request/invalid")


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)


class TestWorkingHours:
    @pytest.mark.parametrize(
        ("start", "hours", "due"),
        [
            (_local(2026, 11, 27, 16, 0), 4, _local(2026, 11, 30, 11, 0)),  # Friday 16:00 -> Monday 11:00
            (_local(2026, 11, 24, 6, 30), 2, _local(2026, 11, 24, 10, 0)),  # before opening: counts from 8:00
            (_local(2026, 11, 24, 18, 0), 2, _local(2026, 11, 25, 10, 0)),  # after closing: the next morning
            (_local(2026, 11, 24, 17, 0), 1, _local(2026, 11, 25, 9, 0)),  # exactly at closing
            (_local(2026, 11, 28, 12, 0), 1, _local(2026, 11, 30, 9, 0)),  # Saturday -> Monday
            (_local(2026, 11, 29, 23, 59), 0.5, _local(2026, 11, 30, 8, 30)),  # Sunday night
            (_local(2026, 11, 23, 9, 0), 16, _local(2026, 11, 24, 16, 0)),  # over two working days
            (_local(2026, 11, 27, 16, 0), 16, _local(2026, 12, 1, 14, 0)),  # over a weekend: 1 + 9 + 6 h
            (_local(2026, 11, 24, 13, 0), 4, _local(2026, 11, 24, 17, 0)),  # ends exactly at closing
        ],
    )
    def test_add_working_hours(self, start: datetime, hours: float, due: datetime) -> None:
        assert add_working_hours(start, hours, WH) == due

    def test_across_the_end_of_summer_time(self) -> None:
        start = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)  # Friday 16:00 CEST (+02:00)
        due = add_working_hours(start, 4, WH)  # Monday 26 October 11:00 CET (+01:00)
        assert due == datetime(2026, 10, 26, 10, 0, tzinfo=UTC)
        assert due.tzinfo is UTC

    def test_across_the_start_of_summer_time(self) -> None:
        start = datetime(2026, 3, 27, 15, 0, tzinfo=UTC)  # Friday 16:00 CET (+01:00)
        assert add_working_hours(start, 4, WH) == datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # Monday 11:00 CEST


class TestDueAt:
    def test_shortest_sla_wins(self) -> None:
        config = load_review_config()
        start = _local(2026, 11, 24, 9, 0)  # a Tuesday morning
        assert config.due_at(start, ["uncertain", "suspected_fraud"]) == _local(2026, 11, 24, 11, 0)
        assert config.due_at(start, ["complexity", "human_requested"]) == _local(2026, 11, 24, 13, 0)
        assert config.due_at(start, ["uncertain"]) == _local(2026, 11, 25, 16, 0)
        assert config.due_at(start, []) == config.due_at(start, ["uncertain"])  # no reason: the longest SLA

    def test_risk_is_the_sum_of_weights(self) -> None:
        config = load_review_config()
        assert config.risk(["suspected_fraud", "human_requested"]) == 120
        assert config.risk([]) == 0


class TestDepth:
    async def test_depth_counts_every_open_case_not_just_the_page(self, client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        before = (await client.get(QUEUE, params={"limit": 1}, headers=spec.headers)).json()["depth"]
        for _ in range(2):
            d = await ready_install(client, make)
            assert (await ask_help(client, d)).json()["state"] == "in_review"
        page = (await client.get(QUEUE, params={"limit": 1}, headers=spec.headers)).json()
        assert len(page["items"]) == 1 and page["depth"] == before + 2
