"""/admin/v1/known-answers: decided cases kept as known answers for the specialists' calibration."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta

from backend.auth import requires_role
from backend.bounds import RowId, WireRequest
from backend.cursor import decode_cursor, encode_cursor
from backend.installs.context import InstallContext
from backend.principal import Principal, Role
from backend.quality import service
from backend.quality.views import AgreementView, KnownAnswerList, KnownAnswerView, known_answer_list, known_answer_view


class KnownAnswerIn(WireRequest):
    case_id: Annotated[RowId, Meta(examples=[42])]  # a closed escalation decided by a specialist


class KnownAnswerController(Controller):
    path = "/admin/v1/known-answers"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @post("/", operation_id="MarkKnownAnswer", status_code=HTTP_201_CREATED)
    async def mark(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: JSONBody[KnownAnswerIn]
    ) -> KnownAnswerView:
        """Keep a closed escalation decided by a specialist as a known answer; its final decision is expected."""
        known = await service.mark_known_answer(ctx, request.user, data.case_id)
        return known_answer_view(known, (0, 0))

    @get("/", operation_id="ListKnownAnswers")
    async def list(
        self,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 25,
        cursor: FromQuery[str | None] = None,
    ) -> KnownAnswerList:
        """Known answers in service, oldest first, with answers and agreements; cursor pagination."""
        after = decode_cursor(cursor, int)[0] if cursor else None
        page = await service.list_known_answers(limit, after)
        return known_answer_list(page, encode_cursor(page.next_after) if page.next_after is not None else None)

    @delete("/{known_answer_id:int}", operation_id="RetireKnownAnswer", status_code=HTTP_204_NO_CONTENT)
    async def retire(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        known_answer_id: FromPath[int],
    ) -> None:
        """Stop serving a known answer; the answers already given keep counting."""
        await service.retire_known_answer(ctx, request.user, known_answer_id)

    @get("/agreement", operation_id="ListSpecialistAgreement")
    async def agreement(self) -> list[AgreementView]:
        """Per specialist: known answers answered and agreed with (kept off /metrics: it names people)."""
        return [
            AgreementView(specialist=s, answers=n, agreed=a, agreement=round(a / n, 4))
            for s, (n, a) in sorted((await service.agreement()).items())
        ]
