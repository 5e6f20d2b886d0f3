"""/mobile/v1/installs: create, read, scan, locate, photograph, submit, ask for help."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth import requires_role
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.errors import NotFound
from backend.installs import conversation, evidence, service
from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.openapi import answers, binary_body, raw_body
from backend.principal import Principal, Role
from backend.storage.serve import photo_response
from mobile_api.v1 import resumable
from mobile_api.v1 import schemas as s
from mobile_api.v1.deps import provide_lang
from mobile_api.v1.photo_upload import chunks_of, photo_uploaded
from mobile_api.v1.views import install_summary, install_view

PHOTO_BODY = binary_body(
    evidence.ACCEPTED_CONTENT_TYPES,
    "The photo as the camera wrote it, EXIF included, at most MAX_PHOTO_BYTES (25 MB by default); "
    "its Content-Type names the format.",
)
StateName = Literal["draft", "needs_retake", "in_review", "approved", "rejected", "cancelled"]
Slot = Annotated[str, Parameter(pattern=r"^[a-z0-9_]{1,40}$")]  # a catalog slot, or extra_<n> a specialist asked for
_JSON = msgspec.json.Encoder()


class InstallController(Controller):
    path = "/mobile/v1/installs"
    tags = ["installs"]
    guards = [requires_role(Role.CUSTOMER, Role.INSTALLER)]

    @post("/", operation_id="CreateInstall", status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        data: JSONBody[s.CreateInstall],
    ) -> Response[s.InstallView]:
        """Create an install (idempotent on the client-made id)."""
        snap, created = await service.create_install(
            ctx, request.user, data.id, data.connection_ean, data.asset_type, data.started_at, data.client_time
        )
        return Response(install_view(ctx.catalog, snap, lang), status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/", operation_id="ListInstalls")
    async def list_installs(
        self,
        request: Request[Principal, Any, Any],
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 20,
        cursor: FromQuery[str | None] = None,
        install_state: Annotated[StateName | None, QueryParameter(name="state")] = None,
    ) -> s.InstallPage:
        """The caller's own installs, newest first, by cursor."""
        after = decode_cursor(cursor, aware_datetime, uuid.UUID) if cursor else None
        rows = await service.list_installs(request.user, limit + 1, after, install_state)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None
        return s.InstallPage(items=[install_summary(r) for r in page], next_cursor=next_cursor)

    @get("/{install_id:uuid}", operation_id="GetInstall")
    async def get_install(
        self,
        request: Request[Principal, Any, Any],
        install_id: FromPath[uuid.UUID],
    ) -> Response[s.InstallView]:
        """One install with its evidence, checks and next actions."""
        # The hot read of the app: no dependencies (Litestar resolves two in an anyio task group, two
        # tasks a request) and the Struct encoded once, to bytes (the contract's shape: the annotation).
        ctx: InstallContext = request.app.state.ctx
        view = install_view(ctx.catalog, await service.get_install(request.user, install_id), provide_lang(request))
        return Response(_JSON.encode(view), media_type=MediaType.JSON)  # type: ignore[arg-type]

    @post("/{install_id:uuid}/scan", operation_id="ScanLabel", status_code=HTTP_200_OK)
    async def scan(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.ScanLabel],
    ) -> s.InstallView:
        """Link the asset whose QR label was scanned."""
        return install_view(ctx.catalog, await service.scan_label(ctx, request.user, install_id, data.payload), lang)

    @post("/{install_id:uuid}/location", operation_id="ReportLocation", status_code=HTTP_200_OK)
    async def location(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.ReportLocation],
    ) -> s.InstallView:
        """Record the phone's GPS fix at the meter cabinet."""
        snap = await service.add_location(
            ctx,
            request.user,
            install_id,
            data.lat,
            data.lon,
            data.accuracy_m,
            data.captured_at,
            data.provider,
            data.mocked,
            data.client_time,
        )
        return install_view(ctx.catalog, snap, lang)

    @post("/{install_id:uuid}/reading", operation_id="EnterReading", status_code=HTTP_200_OK)
    async def reading(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.EnterReading],
    ) -> s.InstallView:
        """Record the meter reading shown on the display."""
        return install_view(ctx.catalog, await service.enter_reading(ctx, request.user, install_id, data.value), lang)

    @put(
        "/{install_id:uuid}/photos/{slot:str}",
        operation_id="UploadPhoto",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        operation_class=raw_body(PHOTO_BODY),
        response_headers=resumable.documented(resumable.RESPONSE_FIELDS, "Location", *resumable.STATE_FIELDS[:4]),
    )  # the photo store enforces MAX_PHOTO_BYTES while streaming
    async def upload_photo(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        slot: FromPath[Slot],
        upload_complete: resumable.UploadComplete = None,
        upload_length: resumable.UploadLength = None,
    ) -> Response[s.PhotoUploaded]:
        """Upload a slot's photo as the raw body, checked at once (same bytes: 200); resumable with Upload-Complete."""
        if (complete := resumable.upload_complete(upload_complete)) is not None:
            return await resumable.create(request, ctx, lang, install_id, slot, complete, upload_length)
        photo, results, created = await evidence.upload_photo(
            ctx,
            request.user,
            install_id,
            slot,
            request.headers.get("content-type", ""),
            request.content_length,
            chunks_of(request),
        )
        return await photo_uploaded(ctx, request.user, install_id, photo, results, created, lang)

    @get(
        "/{install_id:uuid}/photos/{photo_id:int}",
        operation_id="GetPhoto",
        media_type="image/jpeg",
        opt=answers("image/jpeg"),
    )
    async def get_photo(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        photo_id: FromPath[int],
    ) -> Stream:
        """The photo re-encoded without EXIF (no location, nothing trailing the image)."""
        install = await service.scoped_install(request.user, install_id)
        photo = await repo.photo_by_id(install.id, photo_id)
        if photo is None:
            raise NotFound("install/not-found")
        return photo_response(await ctx.store.rendition(photo.sha256), "image/jpeg", max_age_s=86400)

    @post("/{install_id:uuid}/submit", operation_id="SubmitInstall", status_code=HTTP_200_OK)
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
    ) -> s.InstallView:
        """Check all evidence together and decide."""
        return install_view(ctx.catalog, await service.submit(ctx, request.user, install_id), lang)

    @post("/{install_id:uuid}/cancel", operation_id="CancelInstall", status_code=HTTP_200_OK)
    async def cancel(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.CancelInstall],
    ) -> s.InstallView:
        """Withdraw an install that is not yet decided."""
        return install_view(ctx.catalog, await service.cancel(ctx, request.user, install_id, data.reason), lang)

    @post("/{install_id:uuid}/help", operation_id="AskForHelp", status_code=HTTP_200_OK)
    async def help(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.AskForHelp],
    ) -> s.InstallView:
        """Ask for a person, in any state: before a decision the install goes to a specialist now; after
        one it stays as decided and a person follows it up."""
        snap = await service.request_help(ctx, request.user, install_id, data.message)
        return install_view(ctx.catalog, snap, lang)

    @post("/{install_id:uuid}/objection", operation_id="ObjectToDecision", status_code=HTTP_200_OK)
    async def objection(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.ObjectToDecision],
    ) -> s.InstallView:
        """Object to a rejection: a specialist looks at it again, with these words (409 if not rejected)."""
        snap = await service.object_to_decision(ctx, request.user, install_id, data.message)
        return install_view(ctx.catalog, snap, lang)

    @post("/{install_id:uuid}/messages", operation_id="SendMessage", status_code=HTTP_200_OK)
    async def message(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        install_id: FromPath[uuid.UUID],
        data: JSONBody[s.SendMessage],
    ) -> s.InstallView:
        """Answer the specialist's open question in words; all they asked given, the install is back with them."""
        snap = await conversation.send_message(ctx, request.user, install_id, data.text)
        return install_view(ctx.catalog, snap, lang)
