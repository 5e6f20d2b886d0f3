"""/mobile/v1/installs/{id}/submit and /help: approve, ask for a retake or escalate, and why."""

from __future__ import annotations

import asyncio

from httpx import AsyncClient

from backend.principal import Role
from tests.factories import ARNHEM, Factory
from tests.mobile_api.helpers import ask_help, codes, enter_reading, new_install, problem, ready_install, submit

FIVE_KM_SOUTH = (ARNHEM[0] - 0.045, ARNHEM[1])  # towards Nijmegen, still inside the territory
UNREADABLE = {"blur_radius": 12}


async def _submitted(client: AsyncClient, d, state: str) -> dict:
    r = await submit(client, d)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == state, ([c for c in body["checks"] if c["status"] != "pass"], body["reasons"])
    return body


def _failing(body: dict) -> dict[tuple[str, str], str]:
    return {(c["check"], c["subject"]): c["status"] for c in body["checks"] if c["status"] != "pass"}


class TestSubmitApproves:
    async def test_complete_evidence_is_approved_and_recorded(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        body = await _submitted(client, d, "approved")
        assert body["reasons"] == [] and body["asset"]["status"] == "installed"
        assert codes(body["next_actions"]) == [("ask_for_help", None)]  # a person, even after approval
        assert [(x["attempt"], x["outcome"], x["decided_by"]) for x in body["decisions"]] == [
            (1, "approved", "automation")
        ]
        assert body["decisions"][0]["policy_version"]

    async def test_submit_again_after_approval_answers_the_approval(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        approved = await _submitted(client, d, "approved")
        again = await submit(client, d)  # a retry whose answer was lost: the same evidence, judged once
        assert again.status_code == 200, again.text
        assert again.json() == approved
        after = (await client.get(d.url, headers=d.who.headers)).json()
        assert (after["version"], len(after["decisions"])) == (approved["version"], 1)


class TestSubmitAsksForRetake:
    async def test_missing_slot_asks_for_that_upload(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, skip=("meter_display",))
        body = await _submitted(client, d, "needs_retake")
        assert _failing(body) == {("slot_present", "meter_display"): "fail"}
        assert body["reasons"] == [] and body["retake_count"] == 1
        assert codes(body["next_actions"]) == [("upload_photo", "meter_display"), ("ask_for_help", None)]

    async def test_unreadable_label_asks_for_a_retake_of_that_photo(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, photo_options={"meter_label": UNREADABLE})
        body = await _submitted(client, d, "needs_retake")
        # The shaky shot is both blurred and unreadable: one retake action per failure, same slot.
        assert _failing(body) == {("label_qr", "meter_label"): "fail", ("sharpness", "meter_label"): "fail"}
        actions = [a for a in body["next_actions"] if a["code"] == "retake_photo"]
        assert {a["subject"] for a in actions} == {"meter_label"} and len(actions) == 2
        assert any("QR-label is niet te vinden" in a["text"] for a in actions)
        assert any("onscherp" in a["text"] for a in actions)
        assert "upload_photo" not in [a["code"] for a in body["next_actions"]]

    async def test_retaken_photo_is_then_approved(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, photo_options={"meter_label": UNREADABLE})
        await _submitted(client, d, "needs_retake")
        r = await client.put(
            f"{d.url}/photos/meter_label",
            content=make.photo("meter_label", payload=d.payload),
            headers={**d.who.headers, "Content-Type": "image/jpeg"},
        )
        assert r.status_code == 201, r.text
        body = await _submitted(client, d, "approved")
        assert [x["outcome"] for x in body["decisions"]] == ["needs_retake", "approved"]

    async def test_inaccurate_location_asks_to_share_it_again(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(accuracy_m=250.0))
        body = await _submitted(client, d, "needs_retake")
        assert _failing(body) == {("location", "location"): "uncertain"}
        share = [a for a in body["next_actions"] if a["code"] == "share_location"]
        assert len(share) == 1 and "met GPS aan" in share[0]["text"]

    async def test_fourth_fixable_failure_escalates_as_complexity(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, skip=("cabinet_overview",))
        for round_ in (1, 2, 3):
            assert (await _submitted(client, d, "needs_retake"))["retake_count"] == round_
            # a new attempt follows evidence sent since the last (without any, a submit is its retry)
            assert (await enter_reading(client, d, 4512.7)).status_code == 200
        body = await _submitted(client, d, "in_review")
        assert body["reasons"] == ["complexity"] and body["retake_count"] == 3
        assert [x["outcome"] for x in body["decisions"]] == ["needs_retake"] * 3 + ["in_review"]
        # Self-service fell short: the policy offers a visit at once (backend/jobs/visits.toml).
        assert codes(body["next_actions"]) == [("pick_visit_window", "visit"), ("ask_for_help", None)]


class TestSubmitEscalates:
    async def test_mocked_location_is_suspected_fraud(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(mocked=True))
        body = await _submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        assert _failing(body) == {("location", "location"): "fail"}
        assert body["asset"]["status"] == "in_stock"

    async def test_location_five_km_away_is_suspected_fraud(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(*FIVE_KM_SOUTH))
        body = await _submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]
        location = [c for c in body["checks"] if c["check"] == "location"][0]
        assert location["status"] == "fail" and location["evidence"]["in_territory"] is True
        assert 4900 < location["evidence"]["distance_m"] < 5100

    async def test_location_outside_the_territory_is_suspected_fraud(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(52.37, 4.89))  # Amsterdam
        body = await _submitted(client, d, "in_review")
        assert body["reasons"] == ["suspected_fraud"]

    async def test_installer_large_three_phase_meter_needs_approval(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, "smart_meter_3p", role=Role.INSTALLER, capacity="3x100A")
        body = await _submitted(client, d, "in_review")
        assert body["reasons"] == ["approval_required"] and _failing(body) == {}

    async def test_installer_small_three_phase_meter_is_approved(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, "smart_meter_3p", role=Role.INSTALLER, capacity="3x80A")
        await _submitted(client, d, "approved")

    async def test_installer_ev_charger_needs_specialist_knowledge(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, "ev_charger", role=Role.INSTALLER, capacity="3x25A")
        body = await _submitted(client, d, "in_review")
        # 11 kW is also above the catalog's approval_above_kw (10 kW): both reasons, heaviest first.
        assert body["reasons"] == ["approval_required", "specialist_knowledge"] and _failing(body) == {}
        assert body["reasons_text"] == [
            "dit vraagt goedkeuring van een specialist",
            "dit vraagt specialistische kennis",
        ]

    async def test_installer_small_battery_has_no_standing_reason(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, "home_battery", role=Role.INSTALLER, capacity="3x25A")
        await _submitted(client, d, "approved")

    async def test_review_wait_action_in_english(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, "ev_charger", role=Role.INSTALLER, capacity="3x25A")
        r = await submit(client, d, **{"Accept-Language": "en"})
        body = r.json()
        assert body["reasons_text"] == ["this needs a specialist's approval", "this needs specialist knowledge"]
        assert body["decision_expected"].startswith("by ")  # the case's SLA in words (test_decision_expected.py)
        assert body["next_actions"] == [
            {
                "code": "wait",
                "subject": None,
                "text": (
                    "A specialist is reviewing your install (this needs a specialist's approval, this needs specialist "
                    f"knowledge). There is nothing you need to do now. Decision: {body['decision_expected']}."
                ),
            }
        ]


class TestAskForHelp:
    async def test_help_twice_changes_nothing_the_second_time(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        first = await ask_help(client, d, "Ik kom er niet uit")
        assert first.status_code == 200, first.text
        assert (first.json()["state"], first.json()["reasons"]) == ("in_review", ["human_requested"])
        again = await ask_help(client, d, "Hallo?")
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert again.json()["reasons"].count("human_requested") == 1

    async def test_help_tapped_twice_at_once_is_one_request(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        replies = await asyncio.gather(ask_help(client, d), ask_help(client, d))
        assert [r.status_code for r in replies] == [200, 200], [r.text for r in replies]
        assert all(r.json()["reasons"] == ["human_requested"] for r in replies)

    async def test_help_keeps_earlier_reasons(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, fix=make.fix(mocked=True))
        await _submitted(client, d, "in_review")
        r = await ask_help(client, d)
        assert r.status_code == 200, r.text
        assert r.json()["reasons"] == ["suspected_fraud", "human_requested"]

    async def test_help_on_an_approved_install_leaves_it_approved(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await _submitted(client, d, "approved")
        r = await ask_help(client, d)  # a person follows it up (tests/review/test_after_decision.py)
        assert r.status_code == 200, r.text
        assert (r.json()["state"], r.json()["reasons"]) == ("approved", [])

    async def test_submit_while_in_review_conflicts(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        assert (await ask_help(client, d)).status_code == 200
        problem(await submit(client, d), 409, "install/state-conflict")
