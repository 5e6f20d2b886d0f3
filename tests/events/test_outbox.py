"""The transactional outbox and its webhook delivery: written with the change or not at all, signed,
retried with backoff, delivered once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from httpx import AsyncClient
from standardwebhooks import Webhook

from backend.events import repository as events_repo
from backend.events.delivery import backoff, deliver_due, new_secret, signed_headers
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery, OutboxEvent
from backend.installs.service import transaction
from backend.principal import Role
from tests.factories import Factory
from tests.helpers.clock import Ticking
from tests.helpers.review import case_id_of, claimed, decide, get_case, helped
from tests.helpers.webhooks import SECRET, Received, Receiver, deliveries_to, enqueued, events_of
from tests.mobile_api.helpers import locate, new_install, problem, ready_install, submit


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        await r.forget()


MAX_AGE = timedelta(days=3)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def deliver(http: httpx.AsyncClient, now: datetime) -> int:
    return await deliver_due(http, SECRET, lambda: now, MAX_AGE, development=True)


async def _delivery(receiver: Receiver) -> dict:
    [row] = await deliveries_to(receiver)
    return row


class TestEventsWithTheChange:
    async def test_help_writes_an_escalation_event(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert await events_of(d.id) == []
        view = await helped(client, d)
        [event] = await events_of(d.id)
        assert event["event_type"] == "install.escalated"
        assert event["payload"] | {"at": None} == {
            "install_id": d.id,
            "ean": d.ean,
            "asset_type": "smart_meter_1p",
            "serial": None,  # nothing scanned yet
            "reading": None,
            "installed_at": None,
            "customer_ref": d.who.subject,  # the install's customer, by the identity provider's subject only
            "created_by_role": "customer",
            "from_state": "draft",
            "to_state": "in_review",
            "reasons": ["human_requested"],
            "actor_role": "customer",
            "at": None,
        }
        assert event["created_at"] == datetime.fromisoformat(view["updated_at"])  # the change's own moment

    async def test_every_state_change_and_only_those(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, skip=("meter_display",))
        assert await events_of(d.id) == []  # evidence changes no state
        assert (await submit(client, d)).json()["state"] == "needs_retake"
        r = await client.put(
            f"{d.url}/photos/meter_display",
            content=make.photo("meter_display"),
            headers={**d.who.headers, "Content-Type": "image/jpeg"},
        )
        assert r.status_code == 201, r.text
        assert (await submit(client, d)).json()["state"] == "approved"
        events = await events_of(d.id)
        assert [e["event_type"] for e in events] == ["install.retake_requested", "install.approved"]
        assert [(e["payload"]["from_state"], e["payload"]["to_state"]) for e in events] == [
            ("draft", "needs_retake"),
            ("needs_retake", "approved"),
        ]

    async def test_a_decision_writes_review_decided(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        r = await decide(client, spec, case_id, "reject", "wrong_asset", view["version"])
        assert r.status_code == 200, r.text
        [event] = await events_of(d.id, "review.decided")
        assert event["payload"] | {"at": None} == {
            "install_id": d.id,
            "case_id": case_id,
            "outcome": "reject",
            "reason_code": "wrong_asset",
            "decided_by": spec.subject,
            "at": None,
        }
        assert [e["event_type"] for e in await events_of(d.id)] == [
            "install.escalated",
            "install.rejected",
            "review.decided",
        ]


class TestNothingForARefusal:
    async def test_stale_decision_enqueues_nothing(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        before = await OutboxEvent.count()
        r = await decide(client, spec, case_id, "approve", "evidence_sufficient", view["version"] - 1)
        problem(r, 409, "review/stale-version")
        assert await OutboxEvent.count() == before
        assert await events_of(d.id, "review.decided") == []
        assert (await get_case(client, spec, case_id))["state"] == "open"

    async def test_repeated_cancel_and_help_after_it_enqueue_nothing(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await locate(client, d, make.fix())
        assert (await client.post(f"{d.url}/cancel", json={}, headers=d.who.headers)).status_code == 200
        before = await events_of(d.id)
        assert (await client.post(f"{d.url}/cancel", json={}, headers=d.who.headers)).status_code == 200
        # help on a withdrawn install opens a follow-up for a person: no state change, so no event out
        assert (await client.post(f"{d.url}/help", json={"message": "x"}, headers=d.who.headers)).status_code == 200
        assert await events_of(d.id) == before
        assert [e["event_type"] for e in before] == ["install.cancelled"]

    async def test_a_rolled_back_transaction_leaves_no_event(self, receiver: Receiver) -> None:
        marker = uuid.uuid4().hex
        with pytest.raises(RuntimeError):
            async with transaction():
                await enqueue("test.rollback", {"marker": marker}, _now(), urls=(receiver.url,))
                raise RuntimeError("the change failed after the event was written")
        events = await OutboxEvent.select().where(OutboxEvent.event_type == "test.rollback").output(load_json=True)
        assert [e for e in events if e["payload"].get("marker") == marker] == []
        assert await deliveries_to(receiver) == []


class TestDelivery:
    async def test_failure_is_retried_after_the_backoff_and_then_delivered_once(self, receiver: Receiver) -> None:
        t0 = _now()
        event_id = await enqueued(receiver, "test.ping", {"n": 1}, t0)
        receiver.status = 500
        async with receiver.client() as http:
            assert await deliver(http, t0) == 0
            assert len(receiver.mine()) == 1
            row = await _delivery(receiver)
            assert (row["attempts"], row["delivered_at"], row["locked_until"]) == (1, None, None)
            assert row["next_attempt_at"] == t0 + timedelta(seconds=5)
            assert row["last_error"] == "HTTP 500"

            await deliver(http, t0 + timedelta(seconds=4))  # not yet due
            assert len(receiver.mine()) == 1

            await deliver(http, t0 + timedelta(seconds=5))  # due, still failing: 10 s now
            assert len(receiver.mine()) == 2
            assert (await _delivery(receiver))["next_attempt_at"] == t0 + timedelta(seconds=15)

            receiver.status = 200
            assert await deliver(http, t0 + timedelta(seconds=15)) >= 1
            assert len(receiver.mine()) == 3
            row = await _delivery(receiver)
            assert (row["attempts"], row["delivered_at"], row["last_error"]) == (3, t0 + timedelta(seconds=15), None)

            await deliver(http, t0 + timedelta(days=2))
            assert len(receiver.mine()) == 3  # never again
        assert {g.event_id for g in receiver.mine()} == {str(event_id)}

    async def test_transport_error_counts_as_a_failed_attempt(self, receiver: Receiver) -> None:
        t0 = _now()
        await enqueued(receiver, "test.ping", {"n": 2}, t0)

        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
            assert await deliver(http, t0) == 0
        row = await _delivery(receiver)
        assert row["attempts"] == 1 and row["delivered_at"] is None
        assert row["last_error"].startswith("ConnectError")
        assert row["next_attempt_at"] == t0 + timedelta(seconds=5)

    async def test_a_signed_cloudevent(self, receiver: Receiver) -> None:
        t0 = datetime.now(UTC)  # the receiver's verifier refuses a timestamp 5 minutes off its own clock
        data = {"install_id": "abc", "to_state": "approved"}
        event_id = await enqueued(receiver, "install.approved", data, t0)
        async with receiver.client() as http:
            await deliver(http, t0)
        [got] = receiver.mine()
        assert got.headers["content-type"] == "application/cloudevents+json"  # structured content mode
        assert got.headers["webhook-id"] == str(event_id)
        assert got.headers["webhook-timestamp"] == str(int(t0.timestamp()))
        assert got.headers["webhook-signature"].startswith("v1,")
        assert Webhook(SECRET.encode()).verify(got.body, got.headers) == got.json  # as a receiver does
        assert not got.signature_ok(b"wrong-secret")
        tampered = Received(got.path, got.headers, got.body.replace(b"approved", b"rejected"))
        assert not tampered.signature_ok()
        event = from_http_event(HTTPMessage(got.headers, got.body))  # the CloudEvents SDK reads it back
        assert (event.get_specversion(), event.get_id(), event.get_type()) == ("1.0", str(event_id), "install.approved")
        assert (event.get_source(), event.get_subject()) == ("urn:selfinstall", "abc")
        assert event.get_time() == t0
        assert event.get_data() == data

    def test_a_whsec_secret_is_verified_by_the_library(self) -> None:
        secret = new_secret()
        assert secret.startswith("whsec_") and secret != new_secret()
        now = datetime.now(UTC)
        headers = signed_headers(secret, "msg_1", now, b'{"a":1}')
        assert Webhook(secret).verify(b'{"a":1}', headers) == {"a": 1}

    @pytest.mark.parametrize(
        ("attempts", "seconds"),
        [(1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (12, 3600), (45, 3600), (200, 3600)],
    )
    def test_backoff(self, attempts: int, seconds: int) -> None:
        assert backoff(attempts) == timedelta(seconds=seconds)

    async def test_concurrent_rounds_deliver_each_event_once(self, receiver: Receiver) -> None:
        t0 = _now()
        ids = {str(await enqueued(receiver, "test.ping", {"n": n}, t0)) for n in range(8)}
        async with receiver.client() as http:
            counts = await asyncio.gather(*(deliver(http, t0) for _ in range(4)))
        assert sum(counts) == len(ids)
        assert sorted(g.event_id for g in receiver.mine()) == sorted(ids)
        rows = await deliveries_to(receiver)
        assert all(r["attempts"] == 1 and r["delivered_at"] == t0 for r in rows)

    async def test_a_failed_delivery_is_not_retried_by_another_worker_in_the_same_round(
        self, receiver: Receiver
    ) -> None:
        """Worker B lists [V, Y] and is held up on V; worker A then tries Y, fails, and schedules it for
        t0 + 5 s. B must not send Y again right away: it is no longer due."""
        t0 = _now()
        v = await enqueued(receiver, "test.ping", {"n": "v"}, t0 - timedelta(seconds=2))
        y = await enqueued(receiver, "test.ping", {"n": "y"}, t0 - timedelta(seconds=1))
        receiver.status = 503
        arrived, release = receiver.hold(v)
        async with receiver.client() as http:
            worker_b = asyncio.create_task(deliver(http, t0))
            await arrived.wait()  # B has taken V and waits for its answer
            await deliver(http, t0)  # worker A: only Y is free
            release.set()
            await worker_b
        assert sorted(g.json["data"]["n"] for g in receiver.mine()) == ["v", "y"]
        for row in await deliveries_to(receiver):
            assert row["attempts"] == 1, row
        assert {str(r["event"]) for r in await deliveries_to(receiver)} == {str(v), str(y)}

    async def test_a_slow_round_takes_each_delivery_at_its_own_time(self, receiver: Receiver) -> None:
        """Each answer takes longer than the lock (the clock moves 90 s a reading): a delivery taken late in
        the round is locked from when it is taken, not from the round's start (then already run out, and
        another worker would send it too), and is marked delivered when it was."""
        t0 = _now()
        for n in range(3):
            await enqueued(receiver, "test.ping", {"n": n}, t0)
        clock = Ticking(t0, timedelta(seconds=90))
        async with receiver.client() as http:
            while await events_repo.due_deliveries(clock.now, 1):  # other tests' due deliveries may come first
                await deliver_due(http, SECRET, clock, MAX_AGE, development=True)
        delivered = [r["delivered_at"] for r in await deliveries_to(receiver)]
        assert None not in delivered and len(set(delivered)) == 3, delivered  # each at its own moment
        assert len(receiver.mine()) == 3  # each sent once

    async def test_a_locked_delivery_is_left_alone(self, receiver: Receiver) -> None:
        t0 = _now()
        await enqueued(receiver, "test.ping", {"n": 3}, t0)
        await OutboxDelivery.update({OutboxDelivery.locked_until: t0 + timedelta(seconds=60)}).where(
            OutboxDelivery.url == receiver.url
        )
        async with receiver.client() as http:
            await deliver(http, t0 + timedelta(seconds=30))  # another worker holds it
            assert receiver.mine() == []
            await deliver(http, t0 + timedelta(seconds=61))  # that worker died: the lock ran out
            assert len(receiver.mine()) == 1
        assert (await _delivery(receiver))["delivered_at"] is not None
