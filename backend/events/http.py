"""/admin/v1/webhooks (subscriptions) and /admin/v1/deliveries (failing and dead ones, retry): role admin."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.auth import requires_role
from backend.bounds import WireRequest
from backend.cursor import decode_cursor, encode_cursor
from backend.events import service
from backend.events.repository import DeliveryRec, SubscriptionRec
from backend.installs.context import InstallContext
from backend.principal import Principal, Role

EventType = Annotated[str, msgspec.Meta(max_length=40, pattern=r"^[a-z_]+\.[a-z_]+$", examples=["install.approved"])]
EventTypes = Annotated[
    list[EventType], msgspec.Meta(max_length=20, examples=[["install.approved", "install.rejected"]])
]
Url = Annotated[
    str,
    msgspec.Meta(max_length=500, pattern=r"^https?://[^\s/?#]+[^\s]*$", examples=["https://registry.example/hooks"]),
]
Created = Annotated[datetime, msgspec.Meta(examples=["2026-05-12T08:00:00+00:00"])]


class SubscriptionIn(WireRequest):
    """A receiver: where to POST, and which event types (none listed: every type)."""

    url: Url
    event_types: EventTypes = msgspec.field(default_factory=list)


class SubscriptionView(msgspec.Struct, kw_only=True):
    id: Annotated[int, msgspec.Meta(examples=[7])]
    url: Url
    event_types: EventTypes
    created_by: Annotated[str, msgspec.Meta(examples=["admin-kees"])]
    created_at: Created


class NewSubscriptionView(SubscriptionView, kw_only=True):
    """The subscription with its signing secret: shown this once (Standard Webhooks, `whsec_` + base64)."""

    secret: Annotated[str, msgspec.Meta(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])]


class SubscriptionPage(msgspec.Struct, kw_only=True):
    items: list[SubscriptionView]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["Nw"])]


class DeliveryView(msgspec.Struct, kw_only=True):
    id: Annotated[int, msgspec.Meta(examples=[1234])]
    event_id: Annotated[uuid.UUID, msgspec.Meta(examples=["5f0c6f0e-8a43-4c55-9a55-9a1d2c0f4b11"])]
    event_type: EventType
    event_created_at: Created
    subscription: Annotated[int | None, msgspec.Meta(examples=[7])]  # null: a WEBHOOK_URLS receiver
    url: Url
    state: Annotated[Literal["pending", "failing", "dead", "delivered"], msgspec.Meta(examples=["dead"])]
    attempts: Annotated[int, msgspec.Meta(examples=[9])]
    next_attempt_at: Created
    last_error: Annotated[str | None, msgspec.Meta(examples=["HTTP 503"])]
    dead_at: Annotated[datetime | None, msgspec.Meta(examples=["2026-05-15T08:00:00+00:00"])]
    delivered_at: datetime | None = None
    retried_at: datetime | None = None  # an admin's retry: the maximum age counts from here


class DeliveryPage(msgspec.Struct, kw_only=True):
    items: list[DeliveryView]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["MTIzNA"])]


def subscription_view(s: SubscriptionRec) -> SubscriptionView:
    return SubscriptionView(
        id=s.id, url=s.url, event_types=s.event_types, created_by=s.created_by, created_at=s.created_at
    )


def delivery_state(d: DeliveryRec) -> Literal["pending", "failing", "dead", "delivered"]:
    if d.delivered_at is not None:
        return "delivered"
    if d.dead_at is not None:
        return "dead"
    return "failing" if d.attempts else "pending"


def delivery_view(d: DeliveryRec) -> DeliveryView:
    return DeliveryView(
        id=d.id,
        event_id=d.event_id,
        event_type=d.event_type,
        event_created_at=d.event_created_at,
        subscription=d.subscription,
        url=d.url,
        state=delivery_state(d),
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_error=d.last_error,
        delivered_at=d.delivered_at,
        retried_at=d.retried_at,
        dead_at=d.dead_at,
    )


Limit = FromQuery[Annotated[int, Parameter(ge=1, le=100)]]


class WebhookAdminController(Controller):
    path = "/admin/v1/webhooks"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @post("/", operation_id="CreateWebhook", status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        data: JSONBody[SubscriptionIn],
    ) -> NewSubscriptionView:
        """Subscribe a receiver to event types (none: all); the answer holds its signing secret, shown once."""
        development = ctx.settings.is_development()  # local http receivers only there (events/targets.py)
        s, secret = await service.create_subscription(
            request.user, data.url, data.event_types, ctx.clock(), development
        )
        return NewSubscriptionView(**msgspec.structs.asdict(subscription_view(s)), secret=secret)

    @get("/", operation_id="ListWebhooks")
    async def list_webhooks(self, limit: Limit = 25, cursor: FromQuery[str | None] = None) -> SubscriptionPage:
        """Every subscription, oldest first, without secrets; by cursor."""
        after = decode_cursor(cursor, int)[0] if cursor else None
        rows = await service.list_subscriptions(limit + 1, after)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].id) if len(rows) > limit else None
        return SubscriptionPage(items=[subscription_view(s) for s in page], next_cursor=next_cursor)

    @delete("/{subscription_id:int}", operation_id="DeleteWebhook", status_code=HTTP_204_NO_CONTENT)
    async def remove(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        subscription_id: FromPath[int],
    ) -> None:
        """Unsubscribe: nothing more is sent to it, its pending deliveries included."""
        await service.delete_subscription(request.user, subscription_id, ctx.clock())


class DeliveryAdminController(Controller):
    path = "/admin/v1/deliveries"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @get("/", operation_id="ListDeliveries")
    async def list_deliveries(
        self,
        delivery_state: Annotated[Literal["failing", "dead"], QueryParameter(name="state")] = "dead",
        limit: Limit = 25,
        cursor: FromQuery[str | None] = None,
    ) -> DeliveryPage:
        """Deliveries still failing or given up (dead), newest first; by cursor."""
        before = decode_cursor(cursor, int)[0] if cursor else None
        rows = await service.failed_deliveries(delivery_state, limit + 1, before)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].id) if len(rows) > limit else None
        return DeliveryPage(items=[delivery_view(d) for d in page], next_cursor=next_cursor)

    @post("/{delivery_id:int}/retry", operation_id="RetryDelivery", status_code=HTTP_200_OK)
    async def retry(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], delivery_id: FromPath[int]
    ) -> DeliveryView:
        """Send a failing or dead delivery again at the next round, with a fresh maximum age."""
        return delivery_view(await service.retry_delivery(request.user, delivery_id, ctx.clock()))
