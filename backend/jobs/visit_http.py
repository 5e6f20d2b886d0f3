"""/review/v1/cases/{id}/visit: the specialist holding an escalation turns it into a visit."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from backend.auth import requires_role
from backend.bounds import LINE, PROSE, WireRequest
from backend.installs.context import InstallContext
from backend.jobs import visits
from backend.jobs.repository import VisitRec
from backend.principal import Principal, Role

Start = Annotated[datetime, msgspec.Meta(tz=True, examples=["2026-12-08T08:00:00+01:00"])]
End = Annotated[datetime, msgspec.Meta(tz=True, examples=["2026-12-08T12:00:00+01:00"])]
Installer = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE, examples=["inst-joost"])]


class WindowIn(WireRequest):
    window_start: Start
    window_end: End


class OfferVisitIn(WireRequest):
    # The windows the customer may pick from; none: the planning rule's (backend/jobs/visits.toml).
    windows: Annotated[list[WindowIn], msgspec.Meta(min_length=1, max_length=12)] | None = None
    # The installer the job goes to once a window is picked; none: visits.toml's default, else a dispatcher.
    installer: Installer | None = None
    note: Annotated[
        str, msgspec.Meta(max_length=2000, pattern=PROSE, examples=["Label zit achter een kastje in de kelder."])
    ] = ""  # for the installer, on their job


class WindowOut(msgspec.Struct, kw_only=True):
    window_start: Start
    window_end: End


class VisitOut(msgspec.Struct, kw_only=True):
    visit_id: Annotated[int, msgspec.Meta(examples=[7])]
    install_id: uuid.UUID
    case_id: Annotated[int | None, msgspec.Meta(examples=[12])]
    state: Annotated[str, msgspec.Meta(examples=["offered"])]  # offered | planned | done | cancelled
    windows: list[WindowOut]
    window_start: Start | None  # the one the customer picked
    window_end: End | None
    installer: Annotated[str | None, msgspec.Meta(examples=["inst-joost"])]
    job_id: Annotated[int | None, msgspec.Meta(examples=[42])]
    brief: dict[str, Any]


def visit_out(v: VisitRec) -> VisitOut:
    return VisitOut(
        visit_id=v.id,
        install_id=v.install,
        case_id=v.case_id,
        state=v.state,
        windows=[WindowOut(window_start=w.start, window_end=w.end) for w in v.windows],
        window_start=v.window_start,
        window_end=v.window_end,
        installer=v.installer_subject,
        job_id=v.job,
        brief=v.brief,
    )


class VisitReviewController(Controller):
    path = "/review/v1"
    tags = ["review"]
    guards = [requires_role(Role.SPECIALIST)]

    @post("/cases/{case_id:int}/visit", operation_id="OfferVisit", status_code=HTTP_201_CREATED)
    async def offer(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: JSONBody[OfferVisitIn],
    ) -> VisitOut:
        """Offer the customer a visit (the lease holder): the case leaves the queue until the visit ends."""
        windows = [(w.window_start, w.window_end) for w in data.windows] if data.windows is not None else None
        visit = await visits.offer_visit(
            ctx.settings.webhook_urls, request.user, case_id, ctx.clock(), windows, data.installer, data.note
        )
        return visit_out(visit)
