"""/mobile/v1/installs/{id}/visit: the visit offered on a customer's install, and picking its window."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.auth import requires_role
from backend.i18n import N_, Msg, translate
from backend.installs.context import InstallContext
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF
from backend.jobs import visits
from backend.jobs.repository import VisitRec
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s
from mobile_api.v1.words import window_words

STATE_TEXT = {
    "offered": N_("An installer can come by: pick one of the windows."),
    "planned": N_("The visit is planned."),
    "done": N_("The visit has taken place."),
    "cancelled": N_("The visit is off."),
}


def _window(start: datetime, end: datetime, lang: str) -> s.VisitWindow:
    return s.VisitWindow(window_start=start, window_end=end, text=window_words(start, end, lang))


def visit_view(visit: VisitRec, lang: str) -> s.VisitView:
    chosen = visit.window_start is not None and visit.window_end is not None
    return s.VisitView(
        id=visit.id,
        state=visit.state,  # type: ignore[arg-type]
        state_text=translate(lang, STATE_TEXT[visit.state]),
        windows=[_window(w.start, w.end, lang) for w in visit.windows],
        chosen=_window(visit.window_start, visit.window_end, lang) if chosen else None,  # type: ignore[arg-type]
        offered_at=visit.created_at,
    )


def visit_brief(visit: VisitRec, lang: str) -> s.VisitBrief:
    """The case's brief on an installer's job, in their language."""
    b = visit.brief
    reasons = [str(r) for r in b.get("reasons", [])]
    return s.VisitBrief(
        visit_id=visit.id,
        reasons=reasons,
        reasons_text=[translate(lang, REASON_TEXT_FOR_STAFF[r]) for r in reasons if r in REASON_TEXT_FOR_STAFF],
        checks=[
            s.VisitCheck(
                check=c["check"],
                subject=c["subject"],
                status=c["status"],
                text=Msg(c.get("fix", ""), c.get("fix_params", {})).words(lang),
            )
            for c in b.get("checks", [])
        ],
        serial=b.get("serial"),
        reading=b.get("reading"),
        note=b.get("note", ""),
    )


class VisitController(Controller):
    path = "/mobile/v1/installs"
    tags = ["installs"]
    guards = [requires_role(Role.CUSTOMER)]  # a visit is offered on a customer's own install

    @get("/{install_id:uuid}/visit", operation_id="GetVisit")
    async def get_visit(
        self, request: Request[Principal, Any, Any], lang: NamedDependency[str], install_id: FromPath[uuid.UUID]
    ) -> s.VisitView:
        """The visit offered on the caller's install: the windows, the one picked, its state."""
        return visit_view(await visits.customer_visit(request.user, install_id), lang)

    @post("/{install_id:uuid}/visit", operation_id="PickVisitWindow", status_code=HTTP_200_OK)
    async def pick(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.PickVisitWindow],
    ) -> s.VisitView:
        """Pick one of the offered windows before it begins; the same window again is a retry, another a 409."""
        visit = await visits.pick_window(
            ctx.settings.webhook_urls, request.user, install_id, data.window_start, data.window_end, ctx.clock()
        )
        return visit_view(visit, lang)
