"""After a decision there is always a next step: a rejection can be objected to (back to a specialist),
a rejected or withdrawn install can be started again, and a person can be asked in any state."""

from __future__ import annotations

import uuid

from httpx import AsyncClient, Response

from backend.principal import Role
from backend.review.tables import ReviewCase
from tests.factories import Factory
from tests.helpers.review import case_id_of, case_row, claimed, decided, helped, install_of
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import Draft, ask_help, new_install, problem, ready_install, submit
from tests.review.test_customer_side import EN

CASE = "/review/v1/cases/{}"


async def _object(client: AsyncClient, d: Draft, message: str = "De meter hangt er echt.", **headers: str) -> Response:
    return await client.post(f"{d.url}/objection", json={"message": message}, headers={**d.who.headers, **headers})


async def _rejected(client: AsyncClient, make: Factory) -> tuple[Draft, Factory]:
    d = await ready_install(client, make)  # with its asset: a specialist may approve it after an objection
    await helped(client, d)
    await decided(client, make.party(Role.SPECIALIST), await case_id_of(d.id), "reject", "not_eligible")
    return d, make


async def _help_cases(install_id: str) -> list[dict]:
    where = (ReviewCase.install == uuid.UUID(install_id)) & (ReviewCase.kind == "customer_help")
    return await ReviewCase.select().where(where).output(load_json=True)


def _codes(view: dict) -> list[str]:
    return [a["code"] for a in view["next_actions"]]


class TestNextSteps:
    async def test_a_rejection_offers_a_new_install_an_objection_and_a_person(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, _ = await _rejected(client, make)
        view = await install_of(client, d)
        assert view["state"] == "rejected"
        assert _codes(view) == ["start_new_install", "object_to_decision", "ask_for_help"]
        assert view["customer_message"] == "Dit apparaat past niet bij uw aansluiting."  # the reason in words
        english = await install_of(client, d, **EN)
        assert english["next_actions"][1]["text"].startswith("Do you disagree with the decision?")

    async def test_approved_offers_a_person_and_withdrawn_a_new_start(self, client: AsyncClient, make: Factory) -> None:
        approved = await ready_install(client, make)
        assert (await submit(client, approved)).json()["state"] == "approved"
        assert _codes(await install_of(client, approved)) == ["ask_for_help"]
        withdrawn = await new_install(client, make)
        r = await client.post(f"{withdrawn.url}/cancel", json={"reason": "later"}, headers=withdrawn.who.headers)
        assert r.status_code == 200 and _codes(r.json()) == ["start_new_install", "ask_for_help"]


class TestObjection:
    async def test_an_objection_sends_the_rejection_back_to_a_specialist(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, _ = await _rejected(client, make)
        r = await _object(client, d, "De meter hangt er echt; ik stuur graag nieuwe foto's.")
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["state"] == "in_review" and "human_requested" in view["reasons"]
        assert view["timeline"][-1]["text"] == "U maakte bezwaar tegen het besluit: een specialist bekijkt het opnieuw."
        assert _codes(view) == ["wait"] and view["decision_expected"]
        case = await case_row(d.id)  # the same case, reopened with its history
        assert case["state"] == "open" and "human_requested" in case["reasons"]
        spec = make.party(Role.SPECIALIST)
        seen = (await client.get(CASE.format(case["id"]), headers=spec.headers)).json()
        assert seen["install"]["help_message"] == "De meter hangt er echt; ik stuur graag nieuwe foto's."
        assert len(await events_of(d.id, "install.escalated")) == 2  # it left review once, came back once
        approved = await decided(client, spec, case["id"], "approve", "verified_with_customer")
        assert approved["install"]["state"] == "approved"

    async def test_the_specialist_who_rejected_does_not_judge_the_objection(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make)
        await helped(client, d)
        rejecter = make.party(Role.SPECIALIST)
        case_id = await case_id_of(d.id)
        await decided(client, rejecter, case_id, "reject", "not_eligible")
        assert (await _object(client, d)).status_code == 200
        view = await claimed(client, rejecter, case_id)  # they may read it again
        r = await client.post(
            CASE.format(case_id) + "/decision",
            json={"outcome": "approve", "reason_code": "verified_with_customer", "version": view["version"]},
            headers=rejecter.headers,
        )
        problem(r, 409, "review/objection-needs-another-specialist")
        assert (await install_of(client, d))["state"] == "in_review"
        await client.post(CASE.format(case_id) + "/release", headers=rejecter.headers)
        other = make.party(Role.SPECIALIST)
        rejected_again = await decided(client, other, case_id, "reject", "not_eligible")
        assert rejected_again["install"]["state"] == "rejected"

    async def test_objecting_again_while_it_is_reviewed_changes_nothing(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, _ = await _rejected(client, make)
        first = await _object(client, d)
        again = await _object(client, d, "Nog een keer")
        assert (first.status_code, again.status_code) == (200, 200)
        assert again.json()["version"] == first.json()["version"]
        assert [e["text"] for e in again.json()["timeline"]] == [e["text"] for e in first.json()["timeline"]]

    async def test_only_a_rejection_can_be_objected_to(self, client: AsyncClient, make: Factory) -> None:
        draft = await new_install(client, make)
        problem(await _object(client, draft), 409, "install/state-conflict")
        approved = await ready_install(client, make)
        assert (await submit(client, approved)).json()["state"] == "approved"
        body = problem(await _object(client, approved, **EN), 409, "install/state-conflict")
        assert "approved" in body["detail"]
        assert (await install_of(client, approved))["state"] == "approved"

    async def test_an_objection_needs_words_and_someone_elses_install_is_not_found(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, _ = await _rejected(client, make)
        r = await _object(client, d, "")
        assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")
        stranger = make.party(Role.CUSTOMER)
        r = await client.post(f"{d.url}/objection", json={"message": "mijn bezwaar"}, headers=stranger.headers)
        problem(r, 404, "install/not-found")
        assert (await install_of(client, d))["state"] == "rejected"


class TestHelpAfterADecision:
    async def test_asking_for_a_person_opens_one_follow_up_and_keeps_the_decision(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await ready_install(client, make)
        approved = (await submit(client, d)).json()
        assert approved["state"] == "approved"
        r = await ask_help(client, d, "Mijn oude meter: wat doe ik ermee?")
        assert r.status_code == 200, r.text
        view = r.json()
        assert (view["state"], view["reasons"]) == ("approved", [])
        assert view["timeline"][-1]["text"] == "U vroeg om hulp van een medewerker."
        (case,) = await _help_cases(d.id)
        assert case["state"] == "open" and case["reasons"] == ["human_requested"]
        again = await ask_help(client, d, "Nog een vraag")
        assert again.status_code == 200 and len(await _help_cases(d.id)) == 1  # one open follow-up
        spec = make.party(Role.SPECIALIST)
        seen = (await client.get(CASE.format(case["id"]), headers=spec.headers)).json()
        assert seen["kind"] == "customer_help" and seen["allowed_verdicts"] == ["answered"]
        assert seen["install"]["help_message"] == "Nog een vraag"  # the latest words
        assert (await events_of(d.id, "install.approved")) and len(await events_of(d.id, "install.approved")) == 1

    async def test_a_new_question_after_the_answer_reopens_it(self, client: AsyncClient, make: Factory) -> None:
        d, _ = await _rejected(client, make)
        assert (await ask_help(client, d, "Waarom?")).status_code == 200
        (case,) = await _help_cases(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case["id"])
        r = await client.post(
            CASE.format(case["id"]) + "/verdict",
            json={"verdict": "answered", "version": view["version"], "note": "gebeld"},
            headers=spec.headers,
        )
        assert r.status_code == 200, r.text
        assert (await _help_cases(d.id))[0]["state"] == "closed"
        assert (await ask_help(client, d, "En nu?")).status_code == 200
        (reopened,) = await _help_cases(d.id)
        assert reopened["id"] == case["id"] and reopened["state"] == "open"
