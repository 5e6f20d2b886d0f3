"""Claims with leases, releases, decisions guarded by the lease and the case version, and four eyes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import (
    case_id_of,
    claim,
    claimed,
    decide,
    get_case,
    helped,
    install_in,
    install_of,
    release,
    set_case,
    unique_city,
    whole_queue,
)
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import new_install, problem, ready_install, submit


async def _open_case(client: AsyncClient, make: Factory) -> int:
    d = await new_install(client, make)
    await helped(client, d)
    return await case_id_of(d.id)


class TestConcurrentClaims:
    async def test_exactly_one_of_many_wins(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        specialists = [make.party(Role.SPECIALIST) for _ in range(12)]
        responses = await asyncio.gather(*(claim(client, s, case_id) for s in specialists))
        winners = [s for s, r in zip(specialists, responses, strict=True) if r.status_code == 200]
        assert len(winners) == 1, [r.status_code for r in responses]
        winner = winners[0].subject
        for r in responses:
            if r.status_code != 200:
                assert problem(r, 409, "review/claimed-by-other")["holder"] == winner
        case = await get_case(client, winners[0], case_id)
        assert case["claimed_by"] == winner and case["first_claimed_by"] == winner
        assert [e["actor"] for e in case["events"] if e["action"] == "review.claimed"] == [winner]


class TestLease:
    async def test_holder_claiming_again_renews(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        spec = make.party(Role.SPECIALIST)
        first = await claimed(client, spec, case_id)
        assert 14 * 60 < first["lease_remaining_s"] <= 15 * 60
        again = await claimed(client, spec, case_id)
        assert again["lease_expires_at"] > first["lease_expires_at"]
        assert again["version"] > first["version"]

    async def test_expired_lease_returns_to_the_queue_and_anyone_may_claim(
        self, client: AsyncClient, make: Factory
    ) -> None:
        city = unique_city()
        d = await install_in(client, make, city)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        old, new = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        await claimed(client, old, case_id)
        [item] = await whole_queue(client, new, region=city)
        assert item["claimed_by"] == old.subject

        await set_case(case_id, lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        [item] = await whole_queue(client, new, region=city)
        assert item["claimed_by"] is None and item["lease_expires_at"] is None
        case = await get_case(client, new, case_id)
        assert case["claimed_by"] is None and case["lease_remaining_s"] is None

        taken = await claimed(client, new, case_id)
        assert taken["first_claimed_by"] == old.subject
        problem(await claim(client, old, case_id), 409, "review/claimed-by-other")
        problem(await release(client, old, case_id), 409, "review/not-lease-holder")

    async def test_release_gives_the_case_back(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        holder, other = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        await claimed(client, holder, case_id)
        problem(await release(client, other, case_id), 409, "review/not-lease-holder")
        assert (await get_case(client, other, case_id))["claimed_by"] == holder.subject
        r = await release(client, holder, case_id)
        assert r.status_code == 200, r.text
        assert r.json()["claimed_by"] is None and r.json()["state"] == "open"
        assert "review.released" in [e["action"] for e in r.json()["events"]]
        await claimed(client, other, case_id)


class TestDecisionGuards:
    async def test_only_the_holder_decides(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        holder, other = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        view = await claimed(client, holder, case_id)
        r = await decide(client, other, case_id, "reject", "wrong_asset", view["version"])
        problem(r, 409, "review/not-lease-holder")
        after = await get_case(client, holder, case_id)
        assert after["version"] == view["version"] and after["install"]["state"] == "in_review"

    async def test_no_decision_without_a_claim(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        spec = make.party(Role.SPECIALIST)
        version = (await get_case(client, spec, case_id))["version"]
        problem(await decide(client, spec, case_id, "reject", "wrong_asset", version), 409, "review/not-lease-holder")

    async def test_stale_version_changes_nothing(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        r = await decide(client, spec, case_id, "reject", "not_eligible", view["version"] - 1, note="late")
        body = problem(r, 409, "review/stale-version")
        assert body["current_version"] == view["version"]
        after = await get_case(client, spec, case_id)
        assert (after["state"], after["version"], after["claimed_by"]) == ("open", view["version"], spec.subject)
        assert after["decisions"] == view["decisions"] and after["events"] == view["events"]
        assert (await install_of(client, d))["state"] == "in_review"
        assert await events_of(d.id, "review.decided") == []

    async def test_expired_lease_no_longer_decides(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        await set_case(case_id, lease_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        r = await decide(client, spec, case_id, "reject", "wrong_asset", view["version"])
        problem(r, 409, "review/not-lease-holder")
        assert (await get_case(client, spec, case_id))["install"]["state"] == "in_review"

    @pytest.mark.parametrize(
        ("outcome", "code", "state"),
        [("reject", "wrong_asset", "rejected"), ("request_info", "photo_unclear", "needs_retake")],
    )
    async def test_concurrent_identical_decisions_count_once(
        self, client: AsyncClient, make: Factory, outcome: str, code: str, state: str
    ) -> None:
        """A double click: the same decision with the same version, three times at once. One wins; the others
        are refused (the version or the state moved on); one decision, one event."""
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        responses = await asyncio.gather(
            *(decide(client, spec, case_id, outcome, code, view["version"]) for _ in range(3))
        )
        assert sorted(r.status_code for r in responses) == [200, 409, 409], [r.text for r in responses]
        for r in responses:
            if r.status_code == 409:
                assert r.json()["code"] in {"review/stale-version", "review/case-not-open"}
        case = await get_case(client, spec, case_id)
        assert [x["outcome"] for x in case["decisions"]] == [state]
        assert [e["action"] for e in case["events"]].count("review.decided") == 1
        assert len(await events_of(d.id, "review.decided")) == 1

    async def test_unknown_reason_code(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        wrong = (("approve", "wrong_asset"), ("reject", "nonsense"), ("request_info", "evidence_sufficient"))
        for outcome, code in wrong:
            problem(
                await decide(client, spec, case_id, outcome, code, view["version"]), 422, "review/unknown-reason-code"
            )
        assert (await get_case(client, spec, case_id))["version"] == view["version"]

    async def test_closed_case_can_be_neither_claimed_nor_decided(self, client: AsyncClient, make: Factory) -> None:
        case_id = await _open_case(client, make)
        spec, other = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        r = await decide(client, spec, case_id, "reject", "unsafe_installation", view["version"])
        assert r.status_code == 200 and r.json()["state"] == "closed", r.text
        problem(await claim(client, other, case_id), 409, "review/case-not-open")
        problem(
            await decide(client, spec, case_id, "approve", "evidence_sufficient", r.json()["version"]),
            409,
            "review/case-not-open",
        )

    async def test_unknown_case(self, client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        problem(await client.get("/review/v1/cases/987654321", headers=spec.headers), 404, "review/case-not-found")
        problem(await claim(client, spec, 987654321), 404, "review/case-not-found")


class TestFourEyes:
    async def test_approval_required_needs_two_specialists(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, role=Role.INSTALLER, asset_type="smart_meter_3p", capacity="3x100A")
        r = await submit(client, d)
        assert r.json()["state"] == "in_review" and "approval_required" in r.json()["reasons"], r.json()
        case_id = await case_id_of(d.id)
        first, second = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)

        view = await claimed(client, first, case_id)
        r = await decide(client, first, case_id, "approve", "capacity_approved", view["version"])
        assert r.status_code == 200, r.text
        case = r.json()
        assert case["state"] == "open" and case["approvals"] == [first.subject]
        assert case["claimed_by"] is None and case["install"]["state"] == "in_review"
        assert (await install_of(client, d))["state"] == "in_review"
        [item] = [i for i in await whole_queue(client, second, asset_type="smart_meter_3p") if i["case_id"] == case_id]
        assert item["awaiting_second_approval"] is True

        # The first approver cannot take it again (holding the lease would keep the second from it).
        problem(await claim(client, first, case_id), 409, "review/second-approver-required")
        assert (await install_of(client, d))["state"] == "in_review"

        view = await claimed(client, second, case_id)
        r = await decide(client, second, case_id, "approve", "capacity_approved", view["version"])
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "closed"
        done = await install_of(client, d)
        assert done["state"] == "approved" and done["asset"]["status"] == "installed"
        assert [x["outcome"] for x in done["decisions"]] == ["in_review", "approved"]  # no internal first approval
        assert len(await events_of(d.id, "install.approved")) == 1
