"""Known answers end to end: an admin marks a decided case, the queue serves it blind to other specialists
(never to its decider), the answer and its agreement are recorded, and no install changes."""

from __future__ import annotations

from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, fraud_escalated, queue_page
from tests.mobile_api.helpers import problem
from tests.quality.helpers import (
    KNOWN,
    answer,
    auto_approved,
    evidenced,
    given_verdict,
    mark,
    marked,
    sample_case,
    served_until,
)

FORBIDDEN_KEYS = {"case_id", "install_id", "decisions", "events", "state", "install", "customer_message"}


class TestMarking:
    async def test_expected_is_the_final_decision(self, always_client: AsyncClient, make: Factory) -> None:
        view, decider, install_id = await marked(always_client, make, "approve")
        assert view["expected"] == "approve" and view["deciders"] == [decider.subject]
        assert view["install_id"] == install_id and view["answers"] == 0
        view, _, _ = await marked(always_client, make, "reject")
        assert view["expected"] == "reject"

    async def test_only_closed_escalations_decided_by_a_specialist(
        self, always_client: AsyncClient, make: Factory
    ) -> None:
        admin = make.party(Role.ADMIN)
        d = await auto_approved(always_client, make)
        sample = await sample_case(d.id)
        body = problem(await mark(always_client, admin, sample), 409, "quality/not-a-known-answer")
        assert "qa_sample" in body["detail"]
        closed_sample = await sample_case((await auto_approved(always_client, make)).id)
        await given_verdict(always_client, make.party(Role.SPECIALIST), closed_sample, "agree")
        problem(await mark(always_client, admin, closed_sample), 409, "quality/not-a-known-answer")
        problem(await mark(always_client, admin, 10**9), 404, "review/case-not-found")

    async def test_an_open_escalation_is_refused(self, always_client: AsyncClient, make: Factory) -> None:
        d = await evidenced(always_client, make)
        await fraud_escalated(always_client, make, d)
        r = await mark(always_client, make.party(Role.ADMIN), await case_id_of(d.id))
        body = problem(r, 409, "quality/not-a-known-answer")
        assert "open" in body["detail"]

    async def test_twice_is_a_conflict_and_only_admins_mark(self, always_client: AsyncClient, make: Factory) -> None:
        view, decider, _ = await marked(always_client, make)
        r = await mark(always_client, make.party(Role.ADMIN), view["case_id"])
        problem(r, 409, "quality/known-answer-exists")
        problem(await mark(always_client, decider, view["case_id"]), 403, "auth/forbidden")
        r = await always_client.post(
            KNOWN, json={"case_id": view["case_id"], "x": 1}, headers=make.party(Role.ADMIN).headers
        )
        problem(r, 400, "request/invalid")


class TestListAndRetire:
    async def test_keyset_pages_in_id_order(self, always_client: AsyncClient, make: Factory) -> None:
        ids = [(await marked(always_client, make))[0]["id"] for _ in range(3)]
        admin = make.party(Role.ADMIN)
        listed: list[int] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            r = await always_client.get(KNOWN, params=params, headers=admin.headers)
            assert r.status_code == 200, r.text
            assert len(r.json()["items"]) <= 2
            listed.extend(i["id"] for i in r.json()["items"])
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert listed == sorted(set(listed)) and set(ids) <= set(listed)

    async def test_retired_is_not_served_or_listed_and_can_come_back(
        self, always_client: AsyncClient, make: Factory
    ) -> None:
        view, _, _ = await marked(always_client, make)
        admin = make.party(Role.ADMIN)
        r = await always_client.delete(f"{KNOWN}/{view['id']}", headers=admin.headers)
        assert r.status_code == 204, r.text
        problem(
            await always_client.delete(f"{KNOWN}/{view['id']}", headers=admin.headers),
            404,
            "quality/known-answer-not-found",
        )
        spec = make.party(Role.SPECIALIST)
        assert await served_until(always_client, spec, view["id"]) is None
        problem(await answer(always_client, spec, view["id"], "reject"), 404, "quality/known-answer-not-found")
        listed = (await always_client.get(KNOWN, params={"limit": 100}, headers=admin.headers)).json()["items"]
        assert view["id"] not in [i["id"] for i in listed]
        again = await mark(always_client, admin, view["case_id"])
        assert again.status_code == 201 and again.json()["id"] == view["id"]


class TestCalibrationLoop:
    async def test_served_blind_answered_and_agreement_recorded(
        self, always_client: AsyncClient, make: Factory
    ) -> None:
        view, _, _ = await marked(always_client, make, "reject")
        spec = make.party(Role.SPECIALIST)
        item = await served_until(always_client, spec, view["id"])
        assert item is not None and item["kind"] == "known_answer"
        assert set(item) == {"kind", "known_answer_id", "asset_type", "reasons", "url"}
        assert item["reasons"] == ["suspected_fraud"]

        r = await always_client.get(item["url"], headers=spec.headers)
        assert r.status_code == 200, r.text
        blind = r.json()
        assert blind["kind"] == "known_answer" and not FORBIDDEN_KEYS & set(blind)
        assert blind["photos"] and all(p["original_url"].startswith(item["url"]) for p in blind["photos"])
        photo = await always_client.get(blind["photos"][0]["original_url"], headers=spec.headers)
        assert photo.status_code == 200 and photo.content[:2] == b"\xff\xd8"

        r = await answer(always_client, spec, view["id"], "reject")
        assert r.status_code == 201, r.text
        assert r.json()["agreed"] is True and r.json()["expected"] == "reject"
        problem(await answer(always_client, spec, view["id"], "approve"), 409, "quality/already-answered")
        assert (await served_until(always_client, spec, view["id"])) is None  # never served again

        other = make.party(Role.SPECIALIST)
        assert await served_until(always_client, other, view["id"]) is not None
        r = await answer(always_client, other, view["id"], "approve")
        assert r.json()["agreed"] is False

        case = await always_client.get(f"/review/v1/cases/{view['case_id']}", headers=spec.headers)
        assert case.json()["install"]["state"] == "rejected"  # calibration never changes an install
        admin = make.party(Role.ADMIN)
        listed = (await always_client.get(KNOWN, params={"limit": 100}, headers=admin.headers)).json()["items"]
        mine = next(i for i in listed if i["id"] == view["id"])
        assert (mine["answers"], mine["agreed"]) == (2, 1)
        agreement = (await always_client.get(f"{KNOWN}/agreement", headers=admin.headers)).json()
        rows = {a["specialist"]: a for a in agreement}
        assert rows[other.subject]["agreed"] == 0 and rows[other.subject]["answers"] >= 1

    async def test_never_served_to_its_decider(self, always_client: AsyncClient, make: Factory) -> None:
        view, decider, _ = await marked(always_client, make)
        assert await served_until(always_client, decider, view["id"]) is None
        r = await always_client.get(f"/review/v1/calibration/{view['id']}", headers=decider.headers)
        problem(r, 403, "quality/own-known-answer")
        problem(await answer(always_client, decider, view["id"], "reject"), 403, "quality/own-known-answer")

    async def test_share_zero_serves_nothing_and_later_pages_never(
        self, always_client: AsyncClient, never_client: AsyncClient, make: Factory
    ) -> None:
        await marked(always_client, make)
        spec = make.party(Role.SPECIALIST)
        assert (await queue_page(never_client, spec))["calibration"] is None
        first = await queue_page(always_client, spec, limit=1)
        assert first["calibration"] is not None
        if first["next_cursor"]:
            later = await queue_page(always_client, spec, limit=1, cursor=first["next_cursor"])
            assert later["calibration"] is None
        again = await queue_page(always_client, spec, limit=1)  # stable while nothing was answered
        assert again["calibration"] == first["calibration"]

    async def test_customers_cannot_reach_calibration(self, always_client: AsyncClient, make: Factory) -> None:
        view, _, _ = await marked(always_client, make)
        r = await always_client.get(f"/review/v1/calibration/{view['id']}", headers=make.party(Role.CUSTOMER).headers)
        problem(r, 403, "auth/forbidden")
