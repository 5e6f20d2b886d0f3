"""The whole review loop through HTTP: escalate -> claim -> ask for information -> retake -> back in the
queue with its history -> approve -> the outbox events reach a webhook receiver, signed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import (
    QUEUE,
    case_id_of,
    claim,
    claimed,
    decide,
    decided,
    get_case,
    helped,
    install_of,
    whole_queue,
)
from tests.helpers.webhooks import SECRET, Receiver, deliver_all, deliveries_to, events_of, subscribe
from tests.mobile_api.helpers import Draft, problem, ready_install, submit, upload

NOTE = "internal-xyz"
MESSAGE = "Maak de foto van het label opnieuw, van dichtbij en zonder schittering."
EN = {"Accept-Language": "en"}


async def _fraud_escalated(client: AsyncClient, make: Factory) -> Draft:
    """A complete install whose label photo shows another asset's QR: a failing submit escalates it."""
    d = await ready_install(client, make, skip=("meter_label",))
    _, other_payload = await make.asset()
    r = await upload(client, d, "meter_label", make.photo("meter_label", payload=other_payload, serial=d.serial))
    assert r.status_code == 201, r.text
    r = await submit(client, d)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "in_review" and r.json()["reasons"] == ["suspected_fraud"], r.json()
    return d


def _timeline_texts(view: dict[str, Any]) -> list[str]:
    return [e["text"] for e in view["timeline"]]


class TestRequestInfoThenApprove:
    async def test_full_loop_with_outbox_delivery(self, client: AsyncClient, make: Factory) -> None:
        d = await _fraud_escalated(client, make)
        case_id = await case_id_of(d.id)
        first, second = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)

        # The specialist asks for a better label photo, with an internal note.
        view = await claimed(client, first, case_id)
        r = await decide(
            client,
            first,
            case_id,
            "request_info",
            "label_not_visible",
            view["version"],
            note=NOTE,
            message_to_customer=MESSAGE,
        )
        assert r.status_code == 200, r.text
        case = r.json()
        assert case["state"] == "waiting_customer" and case["claimed_by"] is None
        assert case["decisions"][-1]["note"] == NOTE  # specialists do see the note
        assert case_id not in [i["case_id"] for i in await whole_queue(client, second, asset_type="smart_meter_1p")]
        problem(await claim(client, second, case_id), 409, "review/case-not-open")  # waiting for the customer

        # The customer sees the request in the specialist's words, and never the note.
        for headers in ({}, EN):
            r = await client.get(d.url, headers={**d.who.headers, **headers})
            assert r.status_code == 200
            assert NOTE not in r.text
            assert first.subject not in r.text
        seen = await install_of(client, d, **EN)
        assert seen["state"] == "needs_retake"
        assert seen["customer_message"] == MESSAGE
        assert seen["next_actions"][0] == {"code": "specialist_request", "subject": None, "text": MESSAGE}
        assert "The specialist's decision: more information requested." in _timeline_texts(seen)
        assert seen["decisions"][-1]["decided_by"] == "specialist"
        assert seen["decisions"][-1]["message"] == MESSAGE
        r = await client.get("/mobile/v1/installs", headers=d.who.headers)
        assert NOTE not in r.text

        # The customer retakes the label photo and submits again: the case is back in the queue.
        r = await upload(client, d, "meter_label", make.photo("meter_label", payload=d.payload, serial=d.serial))
        assert r.status_code == 201, r.text
        r = await submit(client, d)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "in_review"
        case = await get_case(client, second, case_id)
        assert case["state"] == "open"
        assert case["claimed_by"] is None and case["lease_expires_at"] is None
        assert [x["outcome"] for x in case["decisions"]] == ["in_review", "needs_retake", "in_review"]
        assert case["decisions"][1]["note"] == NOTE
        actions = [e["action"] for e in case["events"]]
        assert actions.count("install.submitted") == 2
        assert "review.claimed" in actions and "review.decided" in actions
        for e in case["events"]:  # the audit trail: who, in which role, from which state to which, when
            assert e["actor"] and e["actor_role"] and e["from_state"] and e["to_state"] and e["created_at"], e
        [asked] = [e for e in case["events"] if e["action"] == "review.decided"]
        assert (asked["actor"], asked["actor_role"]) == (first.subject, "specialist")
        assert (asked["from_state"], asked["to_state"]) == ("in_review", "needs_retake")
        labels = [p for p in case["photos"] if p["slot"] == "meter_label"]
        assert len(labels) == 2 and sum(p["current"] for p in labels) == 1  # the retaken one stays visible
        item = [i for i in await whole_queue(client, second, asset_type="smart_meter_1p") if i["case_id"] == case_id]
        assert len(item) == 1 and item[0]["claimed_by"] is None

        # Another specialist approves: the install is done.
        case = await decided(client, second, case_id, "approve", "evidence_sufficient")
        assert case["state"] == "closed"
        done = await install_of(client, d, **EN)
        assert done["state"] == "approved"
        assert done["asset"]["status"] == "installed"
        assert [x["decided_by"] for x in done["decisions"]] == ["automation", "specialist", "automation", "specialist"]
        assert NOTE not in str(done)
        assert case_id not in [i["case_id"] for i in await whole_queue(client, second, asset_type="smart_meter_1p")]

        # The outbox holds every change of this install, and a receiver gets them, signed.
        events = await events_of(d.id)
        types = sorted(e["event_type"] for e in events)
        assert types == sorted(
            [
                "install.escalated",
                "install.retake_requested",
                "install.info_requested",
                "install.escalated",
                "install.approved",
                "review.decided",
                "review.decided",
            ]
        )
        decided_events = [e["payload"] for e in events if e["event_type"] == "review.decided"]
        assert [p["outcome"] for p in decided_events] == ["request_info", "approve"]
        receiver = Receiver()
        now = datetime.now(UTC)
        try:
            await subscribe(receiver, [e["id"] for e in events], now)
            async with receiver.client() as http:
                assert await deliver_all(http, SECRET, now, timedelta(days=3)) >= len(events)
            got = receiver.mine()
            assert sorted(g.event_id for g in got) == sorted(str(e["id"]) for e in events)
            for g in got:
                assert g.signature_ok()
                assert not g.signature_ok(b"another-secret")
                assert g.json["id"] == g.event_id
                assert g.json["specversion"] == "1.0" and g.headers["content-type"] == "application/cloudevents+json"
                assert g.json["data"]["install_id"] == d.id
            assert all(
                row["delivered_at"] is not None and row["attempts"] == 1 for row in await deliveries_to(receiver)
            )
        finally:
            await receiver.forget()


class TestHelpThenRequestInfo:
    async def test_reason_words_when_no_message_and_back_to_the_queue(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await helped(client, d, "Is dit goed zo?")
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        case = await decided(client, spec, case_id, "request_info", "photo_unclear", note=NOTE)
        assert case["state"] == "waiting_customer"

        seen = await install_of(client, d)
        assert seen["state"] == "needs_retake"
        assert seen["customer_message"] == "Een foto is niet duidelijk genoeg."  # the reason code's own words
        assert seen["next_actions"][0]["code"] == "specialist_request"
        assert seen["next_actions"][0]["text"] == seen["customer_message"]
        assert NOTE not in (await client.get(d.url, headers=d.who.headers)).text

        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview"))
        assert r.status_code == 201, r.text
        r = await submit(client, d)
        assert r.json()["state"] == "in_review"
        assert r.json()["reasons"] == ["human_requested"]
        assert all(a["code"] != "specialist_request" for a in r.json()["next_actions"])
        case = await get_case(client, spec, case_id)
        assert case["state"] == "open" and case["claimed_by"] is None
        assert case["reasons"] == ["human_requested"]
        r = await client.get(QUEUE, params={"reason": "human_requested", "limit": 100}, headers=spec.headers)
        assert r.status_code == 200
        assert case_id in [i["case_id"] for i in await whole_queue(client, spec, reason="human_requested")]
