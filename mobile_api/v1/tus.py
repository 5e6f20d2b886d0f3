"""tus 1.0 (core, creation, termination) at /mobile/v1/tus, for tus-js-client, TUSKit, tus-android-client
and tuspy: the same uploads, parts and checks as the IETF draft's (backend/uploads).

A tus client learns a photo's checks from the install view: the PATCH that brings the last byte (and
any HEAD after it) carries `Install-Location` and `Photo-Id`. A photo refused (undecodable, say) is
refused by that PATCH with the PUT's problem (422 photo/undecodable), and the upload is gone.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC
from email.utils import format_datetime
from typing import Any

from litestar import Controller, Request, Response, Router, delete, head, patch, post, route
from litestar.connection import ASGIConnection
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.openapi import ResponseSpec
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.auth import requires_role
from backend.errors import BadRequest, DomainError, Unsupported
from backend.installs.context import InstallContext
from backend.openapi import binary_body, raw_body
from backend.principal import Principal, Role
from backend.uploads import service
from mobile_api.v1.photo_upload import chunks_of
from mobile_api.v1.resumable import RESPONSE_FIELDS, documented, finished_headers, media_type, required_integer

TUS_PATH = "/mobile/v1/tus"
TUS_VERSION = "1.0.0"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
TUS_BODY = binary_body([OFFSET_OCTET_STREAM], "The photo's bytes from Upload-Offset on (all, or a part).")
# name: (an example value, what it says); the draft's fields where tus has the same ones
TUS_FIELDS = {
    **RESPONSE_FIELDS,
    "Location": ("/mobile/v1/tus/6f1c0b9e-4d2a-4c1e-9b7a-2e5d8c3f1a40", "The upload to PATCH, HEAD or DELETE."),
    "Upload-Expires": ("Tue, 08 Dec 2026 09:00:00 GMT", "When the upload and its bytes are removed."),
    "Upload-Length": ("3145728", "The photo's length (Upload-Length of the creation)."),
}


class TusVersionUnsupported(DomainError):
    """412 naming the version this server speaks (tus: a request without Tus-Resumable: 1.0.0)."""

    status = 412
    headers = {"Tus-Version": TUS_VERSION}


async def speaks_tus(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: every tus request but OPTIONS carries `Tus-Resumable: 1.0.0`."""
    if connection.headers.get("tus-resumable") != TUS_VERSION:
        raise TusVersionUnsupported("upload/tus-version", version=TUS_VERSION)


GUARDS = [requires_role(Role.CUSTOMER, Role.INSTALLER), speaks_tus]
PROBLEMS = {412: ResponseSpec(None, description="No `Tus-Resumable: 1.0.0` (`upload/tus-version`, with Tus-Version).")}


def metadata(value: str | None) -> dict[str, str]:
    """Upload-Metadata: `key base64,key base64`, decoded (400 upload/invalid-header if it does not decode)."""
    pairs: dict[str, str] = {}
    for item in (value or "").split(","):
        key, _, encoded = item.strip().partition(" ")
        if not key:
            continue
        try:
            pairs[key] = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest("upload/invalid-header", header="Upload-Metadata") from None
    return pairs


# Discovery asks no token and no Tus-Resumable; every other request both.
@route("/", http_method="OPTIONS", operation_id="DiscoverTus", exclude_from_auth=True, include_in_schema=False)
async def discover(request: Request[Any, Any, Any]) -> Response[None]:
    """What this tus server speaks: version, extensions, maximum size."""
    ctx: InstallContext = request.app.state.ctx
    headers = {
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": "creation,termination",
        "Tus-Max-Size": str(ctx.settings.max_photo_bytes),
    }
    return Response(None, status_code=HTTP_204_NO_CONTENT, headers=headers)


@post(
    "/",
    operation_id="CreateTusUpload",
    status_code=HTTP_201_CREATED,
    guards=GUARDS,
    response_headers=documented(TUS_FIELDS, "Location", "Upload-Expires"),
    responses={
        **PROBLEMS,
        400: ResponseSpec(None, description="Upload-Length or Upload-Metadata missing or not understood."),
        404: ResponseSpec(None, description="No such install of the caller's (`install/not-found`)."),
        413: ResponseSpec(None, description="Upload-Length past MAX_PHOTO_BYTES (`photo/too-large`)."),
        415: ResponseSpec(None, description="A filetype that is no photo (`photo/unsupported-type`)."),
        422: ResponseSpec(
            None, description="A slot this install does not have (`photo/slot-unknown`, `photo/not-asked`)."
        ),
    },
)
async def create(request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]) -> Response[None]:
    """Create a tus upload: Upload-Length, and Upload-Metadata naming install_id, slot and filetype."""
    length = required_integer(request.headers.get("upload-length"), "Upload-Length")
    meta = metadata(request.headers.get("upload-metadata"))
    try:
        install_id = uuid.UUID(meta["install_id"])
        slot = meta["slot"]
    except (KeyError, ValueError):
        raise BadRequest("upload/invalid-header", header="Upload-Metadata") from None
    content_type = meta.get("filetype") or meta.get("content_type") or ""
    upload = await service.create(ctx, request.user, "tus", install_id, slot, content_type, length)
    headers = {
        "Location": f"{TUS_PATH}/{upload.id}",
        "Upload-Expires": format_datetime(upload.expires_at.astimezone(UTC), usegmt=True),
    }
    return Response(None, status_code=HTTP_201_CREATED, headers=headers)


class TusUploadController(Controller):
    """A tus upload: offset (HEAD), append (PATCH), termination (DELETE)."""

    path = "/{upload_id:uuid}"
    guards = GUARDS

    @head(
        "/",
        operation_id="GetTusOffset",
        status_code=HTTP_200_OK,
        response_headers=documented(TUS_FIELDS, "Upload-Offset", "Upload-Length", "Install-Location", "Photo-Id"),
        responses=PROBLEMS,
    )
    async def offset(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[None]:
        """The upload's Upload-Offset and Upload-Length (and, once it is a photo, where its checks are)."""
        upload = await service.settled(ctx, request.user, upload_id)
        headers = {"Upload-Offset": str(upload.received), "Cache-Control": "no-store", **finished_headers(upload)}
        if upload.declared_length is not None:
            headers["Upload-Length"] = str(upload.declared_length)
        return Response(None, status_code=HTTP_200_OK, headers=headers)

    @patch(
        "/",
        operation_id="AppendTusUpload",
        status_code=HTTP_204_NO_CONTENT,
        request_max_body_size=None,
        operation_class=raw_body(TUS_BODY),
        response_headers=documented(TUS_FIELDS, "Upload-Offset", "Install-Location", "Photo-Id"),
        responses=PROBLEMS,
    )  # the photo store enforces MAX_PHOTO_BYTES while streaming
    async def append(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[None]:
        """Append the body at Upload-Offset; the last byte makes the photo, checked as a PUT's."""
        if media_type(request) != OFFSET_OCTET_STREAM:
            raise Unsupported("request/unsupported-media-type", accepted=OFFSET_OCTET_STREAM)
        appended = await service.append(
            ctx,
            request.user,
            upload_id,
            required_integer(request.headers.get("upload-offset"), "Upload-Offset"),
            chunks_of(request),
            content_length=request.content_length,
            declared_length=None,
            complete=False,  # tus: complete once Upload-Length bytes are there
        )
        headers = {"Upload-Offset": str(appended.upload.received), **finished_headers(appended.upload)}
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=headers)

    @delete(
        "/",
        operation_id="TerminateTusUpload",
        status_code=HTTP_204_NO_CONTENT,
        responses=PROBLEMS,
    )
    async def terminate(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> None:
        """Terminate the upload: its bytes are removed (a photo it already made stays)."""
        await service.cancel(ctx, request.user, upload_id)


# A router, not one controller: Litestar adds an OPTIONS handler of its own to a controller's paths, so
# discovery must be registered on the path before the creation is.
tus_router = Router(
    path=TUS_PATH,
    tags=["uploads"],
    response_headers=[ResponseHeader(name="Tus-Resumable", value=TUS_VERSION)],
    route_handlers=[discover, create, TusUploadController],
)
