"""What the customer (or installer) sees and may do around a review: cancel, ask for help, a timeline in
plain words without internal events, and decisions by "a specialist", never by name."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import (
    case_id_of,
    case_row,
    claim,
    claimed,
    decide,
    decided,
    get_case,
    helped,
    install_in,
    install_of,
    release,
    unique_city,
    whole_queue,
)
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import Draft, ask_help, locate, new_install, problem, ready_install, submit

EN = {"Accept-Language": "en"}
INTERNAL = {"review.released", "review.first-approval"}


async def _cancel(client: AsyncClient, d: Draft, reason: str = "Toch niet") -> Response:
    return await client.post(f"{d.url}/cancel", json={"reason": reason}, headers=d.who.headers)


async def _needs_retake(client: AsyncClient, make: Factory, d: Draft) -> dict[str, Any]:
    """Submit a draft that has no photos yet: fixable, so the customer is asked to add them."""
    assert (await locate(client, d, make.fix())).status_code == 200
    r = await submit(client, d)
    assert r.status_code == 200 and r.json()["state"] == "needs_retake", r.text
    return r.json()


class TestCancel:
    async def test_draft_is_withdrawn(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        r = await _cancel(client, d)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "cancelled"
        assert [a["code"] for a in r.json()["next_actions"]] == ["start_new_install", "ask_for_help"]
        view = await install_of(client, d, **EN)
        assert view["timeline"][-1]["text"] == "Withdrawn."
        assert [e["payload"]["from_state"] for e in await events_of(d.id, "install.cancelled")] == ["draft"]

    async def test_cancel_in_review_closes_the_case(self, client: AsyncClient, make: Factory) -> None:
        city = unique_city()
        d = await install_in(client, make, city)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        assert [i["case_id"] for i in await whole_queue(client, spec, region=city)] == [case_id]

        r = await _cancel(client, d)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "cancelled"
        case = await get_case(client, spec, case_id)
        assert case["state"] == "closed" and case["claimed_by"] is None
        assert (await case_row(d.id))["closed_at"] is not None
        assert await whole_queue(client, spec, region=city) == []
        problem(
            await decide(client, spec, case_id, "approve", "evidence_sufficient", view["version"]),
            409,
            "review/case-not-open",
        )
        problem(await claim(client, spec, case_id), 409, "review/case-not-open")

    async def test_needs_retake_may_be_withdrawn(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await _needs_retake(client, make, d)
        r = await _cancel(client, d)
        assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text

    async def test_decided_install_cannot_be_withdrawn(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        r = await submit(client, d)
        assert r.json()["state"] == "approved", r.json()
        before = await install_of(client, d)
        problem(await _cancel(client, d), 409, "install/state-conflict")
        after = await install_of(client, d)
        assert (after["state"], after["version"], after["timeline"]) == (
            "approved",
            before["version"],
            before["timeline"],
        )
        assert await events_of(d.id, "install.cancelled") == []

    async def test_cancelled_is_final(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        first = await _cancel(client, d)
        assert first.status_code == 200
        again = await _cancel(client, d)  # a retry: the cancelled install again, nothing recorded twice
        assert again.status_code == 200 and again.json() == first.json(), again.text
        helped_after = await ask_help(client, d)  # a person, never a refusal (test_after_decision.py)
        assert helped_after.status_code == 200 and helped_after.json()["state"] == "cancelled"
        assert len(await events_of(d.id, "install.cancelled")) == 1

    async def test_someone_elses_install_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        stranger = make.party(Role.CUSTOMER)
        r = await client.post(f"{d.url}/cancel", json={}, headers=stranger.headers)
        problem(r, 404, "install/not-found")
        assert (await install_of(client, d))["state"] == "draft"


class TestHelp:
    async def test_help_while_asked_to_retake(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await _needs_retake(client, make, d)
        body = await helped(client, d, "De foto lukt niet")
        assert body["reasons"] == ["human_requested"]
        assert [a["code"] for a in body["next_actions"]] == ["wait"]
        assert (await case_row(d.id))["state"] == "open"

    async def test_help_while_in_review(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await locate(client, d, make.fix(mocked=True))
        r = await submit(client, d)
        assert r.json()["state"] == "in_review" and r.json()["reasons"] == ["suspected_fraud"], r.json()
        body = await helped(client, d, "Waarom duurt het zo lang?")
        assert set(body["reasons"]) == {"suspected_fraud", "human_requested"}
        assert body["timeline"][-1]["text"] == "U vroeg om hulp van een medewerker."
        assert len(await events_of(d.id, "install.escalated")) == 1  # it was already escalated

    async def test_asking_twice_is_one_request(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        first = await helped(client, d, "Help")
        second = await helped(client, d, "Help!!")
        assert second["version"] == first["version"]
        assert second["timeline"] == first["timeline"]
        spec = make.party(Role.SPECIALIST)
        case = await get_case(client, spec, await case_id_of(d.id))
        assert [e["action"] for e in case["events"]].count("help.requested") == 1
        assert case["install"]["help_message"] == "Help"
        assert len(await events_of(d.id, "install.escalated")) == 1

    async def test_help_after_a_decision_leaves_the_decision(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        spec = make.party(Role.SPECIALIST)
        await decided(client, spec, await case_id_of(d.id), "reject", "not_eligible")
        r = await ask_help(client, d)  # a follow-up for a person; objecting is its own action
        assert r.status_code == 200 and r.json()["state"] == "rejected", r.text
        assert (await case_row(d.id))["state"] == "closed"  # the decision's case stays decided


class TestTimelineAndDecisions:
    async def test_internal_events_and_names_stay_inside(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, role=Role.INSTALLER, asset_type="smart_meter_3p", capacity="3x100A")
        r = await submit(client, d)
        assert r.json()["state"] == "in_review", r.json()
        case_id = await case_id_of(d.id)
        first, second = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        await claimed(client, first, case_id)
        assert (await release(client, first, case_id)).status_code == 200
        await decided(client, first, case_id, "approve", "capacity_approved", note="geheim")
        await decided(client, second, case_id, "approve", "capacity_approved", message_to_customer="Alles goed.")

        events = (await get_case(client, second, case_id))["events"]
        assert INTERNAL <= {e["action"] for e in events}  # they happened
        public = [e for e in events if e["action"] not in INTERNAL]
        r = await client.get(d.url, headers={**d.who.headers, **EN})
        view = r.json()
        assert [t["at"] for t in view["timeline"]] == [e["created_at"] for e in public]
        texts = [t["text"] for t in view["timeline"]]
        assert texts.count("A specialist is looking at your install.") == 3
        assert texts[-1] == "The specialist's decision: approved."
        for secret in (first.subject, second.subject, "geheim", "first_approval"):
            assert secret not in r.text

        assert [(x["outcome"], x["decided_by"]) for x in view["decisions"]] == [
            ("in_review", "automation"),
            ("approved", "specialist"),
        ]
        assert view["decisions"][-1]["message"] == "Alles goed."
        assert view["customer_message"] == "Alles goed."

    async def test_rejection_is_by_a_specialist_in_plain_words(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        spec = make.party(Role.SPECIALIST)
        await decided(client, spec, await case_id_of(d.id), "reject", "wrong_asset", note="internal-xyz")
        r = await client.get(d.url, headers=d.who.headers)
        view = r.json()
        assert view["state"] == "rejected"
        assert [a["code"] for a in view["next_actions"]] == ["start_new_install", "object_to_decision", "ask_for_help"]
        assert view["decisions"][-1]["decided_by"] == "specialist"
        assert view["decisions"][-1]["message"] is None  # no message given: the reason code speaks
        assert view["decisions"][-1]["reason_text"] == "Het geïnstalleerde apparaat is niet het juiste."
        assert view["timeline"][-1]["text"] == "Besluit van de specialist: afgekeurd."
        assert spec.subject not in r.text and "internal-xyz" not in r.text
