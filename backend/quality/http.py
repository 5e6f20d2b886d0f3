"""/review/v1/calibration: known answers served blind to specialists, and their answers."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED

from backend.auth import requires_role
from backend.bounds import WireRequest
from backend.installs.context import InstallContext
from backend.openapi import answers
from backend.principal import Principal, Role
from backend.quality import service
from backend.quality.views import CalibrationResultView, CalibrationView, calibration_view, result_view
from backend.storage.serve import photo_response
from backend.validation.photo import CONTENT_TYPES


class AnswerIn(WireRequest):
    answer: Literal["approve", "reject", "request_info"]


class CalibrationController(Controller):
    path = "/review/v1/calibration"
    tags = ["review"]
    guards = [requires_role(Role.SPECIALIST)]

    @get("/{known_answer_id:int}", operation_id="GetCalibrationItem")
    async def item(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        known_answer_id: FromPath[int],
    ) -> CalibrationView:
        """A known answer's evidence, blind (kind `known_answer`: no case, decision or history); 403 to its deciders."""
        known, detail = await service.calibration_detail(request.user, known_answer_id)
        return calibration_view(ctx, known, detail)

    @post("/{known_answer_id:int}/answer", operation_id="AnswerCalibrationItem", status_code=HTTP_201_CREATED)
    async def answer(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        known_answer_id: FromPath[int],
        data: JSONBody[AnswerIn],
    ) -> CalibrationResultView:
        """Answer blind, once (approve, reject, request_info); the reply says whether it agreed. No install changes."""
        known, recorded = await service.answer(ctx, request.user, known_answer_id, data.answer)
        return result_view(known, recorded)

    @get(
        "/{known_answer_id:int}/photos/{photo_id:int}/original",
        operation_id="GetCalibrationPhoto",
        opt=answers(*CONTENT_TYPES.values()),
    )
    async def original(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        known_answer_id: FromPath[int],
        photo_id: FromPath[int],
    ) -> Stream:
        """A known answer's photo exactly as uploaded, EXIF included."""
        photo = await service.calibration_photo(request.user, known_answer_id, photo_id)
        body = await ctx.store.original(photo.sha256)
        return photo_response(body, photo.content_type, filename=f"{photo.slot}-{photo.id}")
