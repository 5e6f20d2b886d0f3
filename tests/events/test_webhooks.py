"""Subscriptions made through /admin/v1/webhooks, delivered to a real HTTP receiver on a local port:
CloudEvents read back with the CloudEvents SDK, signatures checked with the standardwebhooks library's
own verifier (as a receiver does), per-type filtering, dead letters after the maximum age (the app's
clock moved, no sleeping), a retry from dead through /admin/v1/deliveries."""

from __future__ import annotations

import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event
from httpx import AsyncClient
from standardwebhooks import Webhook, WebhookVerificationError

from backend.events import service
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery
from backend.installs.service import transaction
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party
from tests.helpers.apps import burst_client
from tests.helpers.review import helped
from tests.helpers.webhooks import deliver_all
from tests.mobile_api.helpers import new_install, problem, ready_install, submit, upload

HOOKS, DELIVERIES = "/admin/v1/webhooks", "/admin/v1/deliveries"


@dataclass
class Got:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Hub:
    received: list[Got] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)  # path -> the answer (200 when not listed)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, path: str) -> list[Got]:
        with self.lock:
            return [g for g in self.received if g.path == path]


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LocalReceiver

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        hub = self.server.hub
        with hub.lock:
            hub.received.append(Got(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(hub.status.get(self.path, 200))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class LocalReceiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.hub = Hub()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    server = LocalReceiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class Clock:
    """The app's clock (InstallContext.clock), moved on by the test."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def clocked(client: AsyncClient, settings: Settings) -> AsyncIterator[tuple[AsyncClient, Clock]]:
    clock = Clock()
    async with burst_client(settings, clock) as c:
        yield c, clock


@pytest.fixture
def admin(make: Factory) -> Party:
    return make.party(Role.ADMIN)


@pytest.fixture
async def subscriber(client: AsyncClient, admin: Party) -> AsyncIterator[Any]:
    """subscribe(url, event_types) as `admin` over HTTP -> the answer; every subscription removed after
    the test, so no later test's delivery round sends to a receiver that is gone."""
    made: list[int] = []

    async def subscribe(url: str, event_types: list[str]) -> dict[str, Any]:
        r = await client.post(HOOKS, json={"url": url, "event_types": event_types}, headers=admin.headers)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        return r.json()

    yield subscribe
    for subscription_id in made:
        await client.delete(f"{HOOKS}/{subscription_id}", headers=admin.headers)


async def deliver(settings: Settings, now: datetime) -> int:
    async with httpx.AsyncClient(timeout=10) as http:  # over the network, as the service's loop sends
        return await deliver_all(http, settings.webhook_secret, now, timedelta(seconds=settings.webhook_max_age_s))


def verified(got: Got, secret: str) -> dict[str, Any]:
    """What a receiver does: verify the signature with the library, then read the CloudEvent."""
    Webhook(secret).verify(got.body, got.headers)
    event = from_http_event(HTTPMessage(got.headers, got.body))
    assert event.get_specversion() == "1.0" and event.get_id() == got.headers["webhook-id"]
    return {"type": event.get_type(), "subject": event.get_subject(), "data": event.get_data()}


async def _enqueued(at: datetime) -> uuid.UUID:
    """An escalation of an install no test knows, to the subscriptions only."""
    async with transaction():
        return await enqueue("install.escalated", {"install_id": str(uuid.uuid4())}, at, urls=())


async def _my_deliveries(url: str) -> list[dict[str, Any]]:
    return await OutboxDelivery.select().where(OutboxDelivery.url == url).order_by(OutboxDelivery.id)


class TestSubscribersGetTheirTypes:
    async def test_verified_cloudevents_with_the_facts_per_type(
        self, client: AsyncClient, make: Factory, settings: Settings, receiver: LocalReceiver, subscriber: Any
    ) -> None:
        approvals = await subscriber(receiver.url("/registry"), ["install.approved"])
        everything = await subscriber(receiver.url("/audit"), [])
        assert approvals["secret"].startswith("whsec_") and approvals["secret"] != everything["secret"]
        assert approvals["event_types"] == ["install.approved"] and everything["event_types"] == []

        d = await ready_install(client, make, skip=("meter_display",))
        assert (await submit(client, d)).json()["state"] == "needs_retake"
        assert (await upload(client, d, "meter_display", make.photo("meter_display"))).status_code == 201
        approved = (await submit(client, d)).json()
        assert approved["state"] == "approved"
        await deliver(settings, datetime.now(UTC))

        [got] = receiver.hub.to("/registry")
        event = verified(got, approvals["secret"])
        assert event["type"] == "install.approved" and event["subject"] == d.id
        data = event["data"]
        assert data | {"at": None, "installed_at": None} == {
            "install_id": d.id,
            "ean": d.ean,
            "asset_type": "smart_meter_1p",
            "serial": d.serial,
            "reading": 4512.7,
            "installed_at": None,
            "customer_ref": d.who.subject,
            "created_by_role": "customer",
            "from_state": "needs_retake",
            "to_state": "approved",
            "reasons": [],
            "actor_role": "customer",
            "at": None,
        }
        assert data["installed_at"] == data["at"]  # the meter was installed by this approval
        with pytest.raises(WebhookVerificationError):  # another subscription's secret does not verify it
            Webhook(everything["secret"]).verify(got.body, got.headers)

        audit = [verified(g, everything["secret"]) for g in receiver.hub.to("/audit")]
        assert [(e["type"], e["data"]["install_id"]) for e in audit] == [
            ("install.retake_requested", d.id),
            ("install.approved", d.id),
        ]
        assert audit[0]["data"]["installed_at"] is None

    async def test_deleted_subscription_gets_nothing_more(
        self, client: AsyncClient, make: Factory, settings: Settings, receiver: LocalReceiver, subscriber: Any
    ) -> None:
        admin = make.party(Role.ADMIN)
        url = receiver.url("/gone")
        made = await subscriber(url, ["install.escalated"])
        await helped(client, await new_install(client, make))
        assert len(await _my_deliveries(url)) == 1
        assert (await client.delete(f"{HOOKS}/{made['id']}", headers=admin.headers)).status_code == 204
        assert await _my_deliveries(url) == []  # its pending delivery went with it
        await deliver(settings, datetime.now(UTC))
        assert receiver.hub.to("/gone") == []
        listed = (await client.get(HOOKS, params={"limit": 100}, headers=admin.headers)).json()
        assert made["id"] not in [s["id"] for s in listed["items"]]
        problem(await client.delete(f"{HOOKS}/{made['id']}", headers=admin.headers), 404, "webhook/not-found")


class TestSubscriptionsApi:
    async def test_list_by_cursor_without_secrets(self, client: AsyncClient, admin: Party, subscriber: Any) -> None:
        made = [await subscriber(f"https://example.test/{n}", ["job.created"]) for n in range(3)]
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await client.get(HOOKS, params=params, headers=admin.headers)).json()
            seen += page["items"]
            if not (cursor := page["next_cursor"]):
                break
        mine = [s for s in seen if s["id"] in {m["id"] for m in made}]
        assert [s["url"] for s in mine] == [m["url"] for m in made]
        assert all("secret" not in s for s in seen)
        assert mine[0]["created_by"] == admin.subject

    async def test_refusals(self, client: AsyncClient, make: Factory) -> None:
        admin = make.party(Role.ADMIN)
        r = await client.post(
            HOOKS, json={"url": "https://x.test", "event_types": ["install.gone"]}, headers=admin.headers
        )
        assert "install.approved" in problem(r, 422, "webhook/unknown-event-type")["detail"]
        r = await client.post(HOOKS, json={"url": "ftp://x.test/h"}, headers=admin.headers)
        assert problem(r, 400, "request/invalid")["errors"][0]["field"] == "url"
        r = await client.post(HOOKS, json={"url": "https://x.test", "secret": "whsec_mine"}, headers=admin.headers)
        assert problem(r, 400, "request/invalid")["errors"][0]["field"] == "secret"  # the server makes it
        problem(await client.get(HOOKS, params={"cursor": "!!"}, headers=admin.headers), 400, "request/invalid")


class TestDeadLetters:
    async def test_dead_after_the_maximum_age_then_retried_and_delivered(
        self,
        client: AsyncClient,
        clocked: tuple[AsyncClient, Clock],
        make: Factory,
        settings: Settings,
        receiver: LocalReceiver,
        subscriber: Any,
    ) -> None:
        app, clock = clocked
        admin = make.party(Role.ADMIN)
        made = await subscriber(receiver.url("/down"), ["install.escalated"])
        receiver.hub.status["/down"] = 503
        before = await service.backlog()
        d = await new_install(client, make)
        await helped(client, d)
        [row] = await _my_deliveries(made["url"])

        await deliver(settings, clock())
        assert len(receiver.hub.to("/down")) == 1
        failing = (await app.get(DELIVERIES, params={"state": "failing"}, headers=admin.headers)).json()["items"]
        assert [(x["state"], x["attempts"], x["last_error"]) for x in failing if x["id"] == row["id"]] == [
            ("failing", 1, "HTTP 503")
        ]
        assert (await service.backlog()).failing == before.failing + 1

        clock.offset = timedelta(seconds=settings.webhook_max_age_s) - timedelta(minutes=1)
        await deliver(settings, clock())  # still within the maximum age: failing, retried later
        assert len(receiver.hub.to("/down")) == 2
        assert [r["dead_at"] for r in await _my_deliveries(made["url"])] == [None]

        clock.offset = timedelta(seconds=settings.webhook_max_age_s)
        await deliver(settings, clock())  # the last attempt: dead now
        assert len(receiver.hub.to("/down")) == 3
        dead = (await app.get(DELIVERIES, params={"state": "dead"}, headers=admin.headers)).json()["items"]
        [mine] = [x for x in dead if x["id"] == row["id"]]
        assert mine["state"] == "dead" and mine["event_type"] == "install.escalated" and mine["attempts"] == 3
        assert datetime.fromisoformat(mine["dead_at"]) == datetime.fromisoformat(mine["next_attempt_at"]) - timedelta(
            seconds=20
        )  # the backoff after the third attempt, never used
        figures = await service.backlog()
        assert (figures.dead, figures.failing) == (before.dead + 1, before.failing)

        clock.offset += timedelta(days=30)
        await deliver(settings, clock())
        assert len(receiver.hub.to("/down")) == 3  # the dead are not sent again

        receiver.hub.status["/down"] = 200
        r = await app.post(f"{DELIVERIES}/{row['id']}/retry", headers=admin.headers)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "failing" and r.json()["dead_at"] is None
        assert datetime.fromisoformat(r.json()["retried_at"]) == datetime.fromisoformat(r.json()["next_attempt_at"])
        await deliver(settings, clock())
        assert len(receiver.hub.to("/down")) == 4
        [done] = await _my_deliveries(made["url"])
        assert done["delivered_at"] is not None and done["attempts"] == 4
        assert (await service.backlog()).dead == before.dead
        problem(await app.post(f"{DELIVERIES}/{row['id']}/retry", headers=admin.headers), 409, "delivery/not-retryable")
        problem(await app.post(f"{DELIVERIES}/2000000000/retry", headers=admin.headers), 404, "delivery/not-found")

    async def test_a_retry_has_a_fresh_maximum_age(
        self,
        clocked: tuple[AsyncClient, Clock],
        make: Factory,
        settings: Settings,
        receiver: LocalReceiver,
        subscriber: Any,
    ) -> None:
        app, clock = clocked
        made = await subscriber(receiver.url("/flaky"), [])
        receiver.hub.status["/flaky"] = 500
        t0 = clock()
        await _enqueued(t0)
        clock.offset = timedelta(seconds=settings.webhook_max_age_s)
        await deliver(settings, clock())
        [row] = await _my_deliveries(made["url"])
        assert row["dead_at"] is not None
        r = await app.post(f"{DELIVERIES}/{row['id']}/retry", headers=make.party(Role.ADMIN).headers)
        assert r.status_code == 200, r.text
        await deliver(settings, clock())  # fails again, but only just retried: not dead
        [row] = await _my_deliveries(made["url"])
        assert (row["attempts"], row["dead_at"]) == (2, None)

    async def test_dead_list_by_cursor_newest_first(
        self,
        clocked: tuple[AsyncClient, Clock],
        make: Factory,
        settings: Settings,
        receiver: LocalReceiver,
        subscriber: Any,
    ) -> None:
        app, clock = clocked
        admin = make.party(Role.ADMIN)
        made = await subscriber(receiver.url("/dead"), [])
        receiver.hub.status["/dead"] = 410
        for _ in range(3):
            await _enqueued(clock())
        clock.offset = timedelta(seconds=settings.webhook_max_age_s)
        await deliver(settings, clock())
        ids = [r["id"] for r in await _my_deliveries(made["url"])]
        seen, cursor = [], None
        for _ in range(2):  # mine are the newest dead ones: the first pages hold them
            params = {"state": "dead", "limit": 2, **({"cursor": cursor} if cursor else {})}
            page = (await app.get(DELIVERIES, params=params, headers=admin.headers)).json()
            seen += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
        assert seen[:3] == sorted(ids, reverse=True)
        assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)


ADMIN_CALLS = [
    ("GET", HOOKS, None),
    ("POST", HOOKS, {"url": "https://x.test/h"}),
    ("DELETE", f"{HOOKS}/2000000000", None),
    ("GET", DELIVERIES, None),
    ("POST", f"{DELIVERIES}/2000000000/retry", None),
]


async def _send(client: AsyncClient, call: tuple[str, str, Any], who: Party | None) -> httpx.Response:
    method, path, body = call
    return await client.request(method, path, json=body, headers=who.headers if who else {})


class TestOnlyAdmins:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST, Role.SYSTEM])
    @pytest.mark.parametrize("call", ADMIN_CALLS, ids=lambda c: f"{c[0]} {c[1]}")
    async def test_other_roles_get_403_and_nothing_is_made(
        self, client: AsyncClient, make: Factory, role: Role, call: tuple[str, str, Any]
    ) -> None:
        before = len(await service.list_subscriptions(1000, None))
        problem(await _send(client, call, make.party(role)), 403, "auth/forbidden")
        assert len(await service.list_subscriptions(1000, None)) == before

    @pytest.mark.parametrize("call", ADMIN_CALLS, ids=lambda c: f"{c[0]} {c[1]}")
    async def test_without_a_token_401(self, client: AsyncClient, call: tuple[str, str, Any]) -> None:
        problem(await _send(client, call, None), 401, "auth/unauthenticated")

    async def test_an_admin_may(self, client: AsyncClient, make: Factory, subscriber: Any) -> None:
        admin = make.party(Role.ADMIN)
        made = await subscriber("https://x.test/admin-may", ["review.decided"])
        assert (await client.get(HOOKS, headers=admin.headers)).status_code == 200
        assert (await client.get(DELIVERIES, headers=admin.headers)).status_code == 200
        assert (await client.delete(f"{HOOKS}/{made['id']}", headers=admin.headers)).status_code == 204
