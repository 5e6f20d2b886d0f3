"""A webhook receiver for delivery tests: a small Litestar app reached through httpx.ASGITransport (no network)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath
from standardwebhooks import Webhook, WebhookVerificationError

from backend.events import repository as events_repo
from backend.events.delivery import deliver_due
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery, OutboxEvent
from backend.installs.service import transaction

SECRET = "test-webhook-secret"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    def signature_ok(self, secret: str | bytes = SECRET.encode()) -> bool:
        """What a receiver does: the standardwebhooks library's own verifier (a `whsec_` string, or the raw
        key bytes of a WEBHOOK_SECRET); it also refuses a timestamp more than 5 minutes off."""
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


@dataclass
class Receiver:
    """Answers `status` to every POST and remembers what it got."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    url: str = field(default_factory=lambda: f"http://receiver/hook/{uuid.uuid4().hex}")
    # event id -> (set when its request arrives, the answer waits until set): to order concurrent workers
    holds: dict[str, tuple[asyncio.Event, asyncio.Event]] = field(default_factory=dict)

    def hold(self, event_id: object) -> tuple[asyncio.Event, asyncio.Event]:
        """Keep the answer to `event_id` back: returns (arrived, release)."""
        pair = (asyncio.Event(), asyncio.Event())
        self.holds[str(event_id)] = pair
        return pair

    @property
    def path(self) -> str:
        return httpx.URL(self.url).path

    def mine(self) -> list[Received]:
        """Requests to this test's URL (a delivery round may also send other tests' due deliveries)."""
        return [r for r in self.received if r.path == self.path]

    def app(self) -> Litestar:
        @post("/hook/{name:str}", status_code=200)
        async def hook(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
            got = Received(request.url.path, dict(request.headers), await request.body())
            self.received.append(got)
            if got.event_id in self.holds:
                arrived, release = self.holds[got.event_id]
                arrived.set()
                await release.wait()
            return Response(b"", status_code=self.status)

        return Litestar(route_handlers=[hook])

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app())) as c:
            yield c

    async def forget(self) -> None:
        """Remove this receiver's deliveries, so no later delivery round sees them."""
        await OutboxDelivery.delete().where(OutboxDelivery.url == self.url)


async def events_of(install_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """Outbox events whose payload names the install (filtered in Python: JSON queries differ per engine)."""
    query = OutboxEvent.select().order_by(OutboxEvent.created_at).output(load_json=True)
    if event_type is not None:
        query = query.where(OutboxEvent.event_type == event_type)
    return [e for e in await query if e["payload"].get("install_id") == install_id]


async def deliveries_to(receiver: Receiver) -> list[dict[str, Any]]:
    return await OutboxDelivery.select().where(OutboxDelivery.url == receiver.url).order_by(OutboxDelivery.id)


async def subscribe(receiver: Receiver, event_ids: list[Any], at: datetime) -> None:
    """Pending deliveries of existing events to the receiver (the test app has no webhook URLs configured)."""
    await OutboxDelivery.insert(*[OutboxDelivery(event=e, url=receiver.url, next_attempt_at=at) for e in event_ids])


async def enqueued(receiver: Receiver, event_type: str, payload: dict[str, Any], at: datetime) -> uuid.UUID:
    """A new event with one delivery to the receiver, enqueued in a transaction as the services do."""
    async with transaction():
        return await enqueue(event_type, payload, at, urls=(receiver.url,))


async def deliver_all(http: httpx.AsyncClient, secret: str, now: datetime, max_age: timedelta) -> int:
    """Delivery rounds at `now` until nothing is due: what the loop does over a few intervals. One round
    takes a batch; other tests' deliveries left failing (rescheduled later) must not hide this test's."""
    delivered = 0
    while await events_repo.due_deliveries(now, 1):
        delivered += await deliver_due(http, secret, lambda: now, max_age, development=True)  # local receivers
    return delivered
