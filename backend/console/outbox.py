"""/console/outbox: the webhook outbox's health for operators. The backlog (still to send, failing, given
up, the oldest waiting event), failing or dead deliveries newest first (keyset on the id), and a retry
button per delivery: backend/events' own service functions, the same as /admin/v1/deliveries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from backend.console.access import HANDLERS, StaffSession, staff
from backend.console.said import error_flash, flash, reader
from backend.console.words import DELIVERY_STATE_WORDS, EVENT_WORDS
from backend.cursor import decode_cursor, encode_cursor
from backend.errors import DomainError
from backend.events import service
from backend.installs.context import InstallContext
from backend.principal import Principal, Role

PAGE = 25
State = Literal["failing", "dead"]


async def _page(
    ctx: InstallContext,
    who: Principal,
    state: State,
    cursor: str | None,
    message: dict[str, str] | None,
    status: int = 200,
) -> Template:
    before = decode_cursor(cursor, int)[0] if cursor else None
    rows = await service.failed_deliveries(state, PAGE + 1, before)
    backlog = await service.backlog()
    now = ctx.clock()
    waiting = (now - backlog.oldest_pending_at).total_seconds() if backlog.oldest_pending_at else None
    return Template(
        "outbox.html",
        status_code=status,
        context={
            "who": who,
            "flash": message,
            "backlog": backlog,
            "waiting_min": None if waiting is None else max(0, round(waiting / 60)),
            "state": state,
            "states": DELIVERY_STATE_WORDS,
            "events": EVENT_WORDS,
            "deliveries": rows[:PAGE],
            "next_cursor": encode_cursor(rows[PAGE - 1].id) if len(rows) > PAGE else None,
        },
    )


class OutboxController(Controller):
    path = "/console/outbox"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.ADMIN)]

    @get("/")
    async def outbox(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        delivery_state: Annotated[str | None, QueryParameter(name="state")] = None,
        cursor: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        """The backlog and the failing (or dead) deliveries, 25 a page."""
        who = request.user
        state: State = "dead" if delivery_state == "dead" else "failing"
        return await _page(ctx, who, state, cursor, flash(msg, reader(request)))

    @post("/{delivery_id:int}/retry", status_code=303)
    async def retry(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], delivery_id: FromPath[int]
    ) -> Redirect | Template:
        """Send one delivery again now (a dead one comes back to life with a fresh maximum age)."""
        who = request.user
        try:
            retried = await service.retry_delivery(who, delivery_id, ctx.clock())
        except DomainError as exc:
            return await _page(ctx, who, "failing", None, error_flash(exc, reader(request)), status=exc.status)
        back = "dead" if retried.dead_at else "failing"
        return Redirect(f"/console/outbox?state={back}&msg=delivery_retried", status_code=303)
