"""/portal: a photo sent in chunks that survive a dropped connection (backend/portal/static/upload.js): the
guide's photo step, and the extra photo a specialist asks for (answer.py: the open request's slot `extra_<id>`).

Thin routes over the mobile API's resumable uploads (backend/uploads/service.py: the same rows, leases,
offsets and limits; the last byte goes through evidence.upload_photo, as the guide's form does), on the
customer's portal session: its cookie names the customer (looked up before any of a chunk is received),
the CSRF token comes in the `X-CSRFToken` header (the body is the photo's bytes, not a form). The requests
are the IETF draft's (mobile_api/v1/resumable.py): creation carries the photo's type and Upload-Length,
HEAD tells the offset, PATCH appends at Upload-Offset. A refusal is problem+json for the script, which
asks for it in Accept (and says its detail); the finished upload answers with the page the slot's form
path redirects to: the guide with the photo's checks, or for the asked photo the install's page saying
whether all that was asked is given."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, head, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.console.sessions import session_first
from backend.errors import BadRequest, Forbidden, Unsupported
from backend.installs.asked import EXTRA_SLOT_PREFIX
from backend.installs.context import InstallContext
from backend.portal.access import COOKIE, CUSTOMERS
from backend.portal.answer import answered_url
from backend.portal.guide import guide_url
from backend.principal import Principal
from backend.uploads import service
from backend.uploads.records import UploadRec
from mobile_api.v1.photo_upload import chunks_of
from mobile_api.v1.resumable import (
    PARTIAL_UPLOAD,
    UploadComplete,
    UploadLength,
    UploadOffset,
    media_type,
    required_integer,
    state_headers,
    upload_complete,
)

UPLOADS = "/portal/uploads"


class PhotoSent(msgspec.Struct, frozen=True):
    """The finished upload: the photo, and the page its form path redirects to (`_outcome`)."""

    photo: int
    page: str


async def _state(ctx: InstallContext, who: Principal, upload: UploadRec) -> dict[str, str]:
    """The draft's fields of the upload and, once its photo is made, the page that says the outcome in
    Page-Location (an offset query after a lost answer finds it there)."""
    headers = state_headers(ctx, upload)
    if upload.photo is not None:
        headers["Page-Location"] = await _outcome(who, upload, upload.photo)
    return headers


async def _outcome(who: Principal, upload: UploadRec, photo: int) -> str:
    """Where the slot's form path redirects after the photo: for a specialist's extra photo the install's
    page, answered as answer.py answers; for a step of the guide its page with the photo's checks."""
    if upload.slot.startswith(EXTRA_SLOT_PREFIX):
        return await answered_url(who, upload.install)
    return guide_url(upload.install, "photo_checked", photo)


def _signed_out() -> Forbidden:
    return Forbidden("portal/signed-out")


# The customer's portal session, looked up before any of a chunk is received; a staff session or none is
# refused in words (problem+json for the script, the portal's page for a browser's navigation).
_CustomerOrRefused = session_first(COOKIE, CUSTOMERS, _signed_out)


class PortalUploadController(Controller):
    path = "/portal"
    include_in_schema = False
    middleware = [_CustomerOrRefused]

    @post("/installs/{install_id:uuid}/uploads/{slot:str}", status_code=HTTP_201_CREATED)
    async def create(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        slot: FromPath[str],
        upload_length: UploadLength = None,
    ) -> Response[bytes]:
        """A resumable upload for the slot's photo: the customer's own install and a slot the install asks
        for, an accepted type, within MAX_PHOTO_BYTES (evidence.admit_photo, as for the API's creation)."""
        who = request.user
        length = required_integer(upload_length, "Upload-Length")
        content_type = request.headers.get("content-type", "")
        upload = await service.create(ctx, who, "ietf", install_id, slot, content_type, length)
        headers = {**await _state(ctx, who, upload), "Location": f"{UPLOADS}/{upload.id}"}
        return Response(b"", status_code=HTTP_201_CREATED, headers=headers)

    @head("/uploads/{upload_id:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def offset(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[None]:
        """How far the customer's upload is: where the script continues after a failed request."""
        who = request.user
        upload = await service.settled(ctx, who, upload_id)
        headers = {**await _state(ctx, who, upload), "Cache-Control": "no-store"}
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers=headers)

    @patch("/uploads/{upload_id:uuid}", status_code=HTTP_200_OK, request_max_body_size=None)
    async def append(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
        upload_complete_field: UploadComplete = None,
        upload_offset: UploadOffset = None,
    ) -> Response[Any]:
        """A chunk at Upload-Offset; the last one (Upload-Complete: ?1) makes the photo and answers the page
        that says the outcome. The photo store holds the body to MAX_PHOTO_BYTES while it streams."""
        who = request.user
        if media_type(request) != PARTIAL_UPLOAD:
            raise Unsupported("request/unsupported-media-type", accepted=PARTIAL_UPLOAD)
        complete = upload_complete(upload_complete_field)
        if complete is None:
            raise BadRequest("upload/invalid-header", header="Upload-Complete")
        offset = required_integer(upload_offset, "Upload-Offset")
        appended = await service.append(
            ctx,
            who,
            upload_id,
            offset,
            chunks_of(request),
            content_length=request.content_length,
            declared_length=None,
            complete=complete,
        )
        headers = await _state(ctx, who, appended.upload)
        if appended.finished is None:
            return Response(b"", status_code=HTTP_204_NO_CONTENT, headers=headers)
        sent = PhotoSent(photo=appended.finished.photo.id, page=headers["Page-Location"])
        return Response(sent, status_code=HTTP_200_OK, headers=headers)
