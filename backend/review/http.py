"""/review/v1: the specialists' queue, cases, claims and decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK

from backend.auth import requires_role
from backend.bounds import LINE, PROSE, Version, WireRequest
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.installs.context import InstallContext
from backend.installs.conversation import Ask
from backend.openapi import answers
from backend.principal import Principal, Role
from backend.quality import service as quality
from backend.quality.views import calibration_item
from backend.review import followups, service
from backend.review.views import CaseView, QueueView, case_view, queue_view
from backend.storage.serve import photo_response
from backend.validation.photo import CONTENT_TYPES

ReasonName = Literal[
    "suspected_fraud", "human_requested", "approval_required", "specialist_knowledge", "complexity", "uncertain"
]

KindName = Literal["escalation", "qa_sample", "device_silent", "device_mismatch", "reading_mismatch", "customer_help"]


class DecisionIn(WireRequest):
    outcome: Annotated[Literal["approve", "reject", "request_info"], msgspec.Meta(examples=["request_info"])]
    reason_code: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=LINE, examples=["label_not_visible"])]
    version: Annotated[Version, msgspec.Meta(examples=[2])]  # the case's version as last read
    note: Annotated[
        str, msgspec.Meta(max_length=4000, pattern=PROSE, examples=["GPS-fix gemockt; label niet leesbaar."])
    ] = ""
    message_to_customer: Annotated[
        str,
        msgspec.Meta(
            max_length=2000,
            pattern=PROSE,
            examples=["Maak de foto van het label opnieuw, van dichtbij en zonder schittering."],
        ),
    ] = ""
    # request_info only: an extra photo the customer uploads to its own slot, in words, and/or a question
    # they answer in words (POST /mobile/v1/installs/{id}/messages); once both are there the case is back.
    extra_photo: (
        Annotated[
            str,
            msgspec.Meta(min_length=1, max_length=200, pattern=LINE, examples=["een foto van de aardlekschakelaar"]),
        ]
        | None
    ) = None
    question: (
        Annotated[
            str, msgspec.Meta(min_length=1, max_length=2000, pattern=PROSE, examples=["Wanneer is de meter geplaatst?"])
        ]
        | None
    ) = None


class VerdictIn(WireRequest):
    # which verdicts a case takes depends on its kind
    verdict: Annotated[
        Literal["agree", "disagree", "resolved", "escalate", "answered"], msgspec.Meta(examples=["agree"])
    ]
    version: Annotated[Version, msgspec.Meta(examples=[2])]
    note: Annotated[
        str, msgspec.Meta(max_length=4000, pattern=PROSE, examples=["Foto's en meterstand kloppen met de melding."])
    ] = ""


class ReviewController(Controller):
    path = "/review/v1"
    tags = ["review"]
    guards = [requires_role(Role.SPECIALIST)]

    @get("/queue", operation_id="ListQueue")
    async def queue(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 25,
        cursor: FromQuery[str | None] = None,
        reason: FromQuery[ReasonName | None] = None,
        asset_type: FromQuery[Annotated[str | None, Parameter(max_length=40, pattern=r"^[a-z0-9_]+$")]] = None,
        region: FromQuery[Annotated[str | None, Parameter(max_length=80, pattern=LINE)]] = None,
        kind: FromQuery[KindName | None] = None,
    ) -> QueueView:
        """Open cases by due time, then risk; filters; cursor; counts; now and then a blind `calibration` item (kind `known_answer`)."""  # noqa: E501
        after = decode_cursor(cursor, aware_datetime, int, int) if cursor else None
        page = await service.queue(limit, after, reason, asset_type, region, ctx.clock(), kind)
        served = await quality.calibration_for(ctx, request.user) if cursor is None else None
        return queue_view(
            page,
            encode_cursor(*page.next_after) if page.next_after else None,
            ctx.clock(),
            calibration_item(*served) if served else None,
        )

    @get("/cases/{case_id:int}", operation_id="GetCase")
    async def case(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> CaseView:
        """Everything the automation saw: photos with EXIF, checks, location, attempts, history."""
        return case_view(ctx, await service.case_detail(request.user, case_id))

    @post("/cases/{case_id:int}/claim", operation_id="ClaimCase", status_code=HTTP_200_OK)
    async def claim(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> CaseView:
        """Take (or renew) the 15-minute lease; 409 with the holder if someone else has it."""
        await service.claim(ctx, request.user, case_id)
        return case_view(ctx, await service.case_detail(request.user, case_id))

    @post("/cases/{case_id:int}/release", operation_id="ReleaseCase", status_code=HTTP_200_OK)
    async def release(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> CaseView:
        """Give the case back to the queue."""
        await service.release(ctx, request.user, case_id)
        return case_view(ctx, await service.case_detail(request.user, case_id))

    @post("/cases/{case_id:int}/decision", operation_id="DecideCase", status_code=HTTP_200_OK)
    async def decision(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: JSONBody[DecisionIn],
    ) -> CaseView:
        """Approve, reject or request information (optionally an extra photo and/or a question), with a reason code; only by the lease holder."""  # noqa: E501
        await service.decide(
            ctx,
            request.user,
            case_id,
            data.outcome,
            data.reason_code,
            data.note,
            data.message_to_customer,
            data.version,
            Ask(photo_label=data.extra_photo, question=data.question),
        )
        return case_view(ctx, await service.case_detail(request.user, case_id))

    @post("/cases/{case_id:int}/verdict", operation_id="GiveVerdict", status_code=HTTP_200_OK)
    async def verdict(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: JSONBody[VerdictIn],
    ) -> CaseView:
        """Close a follow-up with a verdict its kind allows (docs/quality.md); the install's state is untouched."""
        await followups.give_verdict(ctx, request.user, case_id, data.verdict, data.note, data.version)
        return case_view(ctx, await service.case_detail(request.user, case_id))

    @get(
        "/cases/{case_id:int}/photos/{photo_id:int}/original",
        operation_id="GetOriginalPhoto",
        opt=answers(*CONTENT_TYPES.values()),  # as stored: the format the upload was read as
    )
    async def original(
        self, ctx: NamedDependency[InstallContext], case_id: FromPath[int], photo_id: FromPath[int]
    ) -> Stream:
        """The photo exactly as uploaded, EXIF (location) included: specialists only."""
        photo = await service.original_photo(case_id, photo_id)
        body = await ctx.store.original(photo.sha256)
        return photo_response(body, photo.content_type, filename=f"{photo.slot}-{photo.id}")
