"""Resumable uploads per the IETF HTTP working group's draft (draft-ietf-httpbis-resumable-upload-12,
interop version 8; the requests of interop versions 6 and 7 are the same): upload creation on the photo
route (a PUT carrying `Upload-Complete`), and the upload resource at /mobile/v1/uploads/{id}: offset
(HEAD), append (PATCH, application/partial-upload) and cancellation (DELETE). granian cannot send
informational responses, so there is no `104 Upload Resumption Supported`: README "Resumable uploads".
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, head, patch
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from backend.auth import requires_role
from backend.errors import BadRequest, Unsupported
from backend.installs.context import InstallContext
from backend.openapi import binary_body, raw_body
from backend.principal import Principal, Role
from backend.uploads import service
from backend.uploads.records import UploadRec
from mobile_api.v1 import schemas as s
from mobile_api.v1.photo_upload import chunks_of, photo_uploaded

UPLOADS_PATH = "/mobile/v1/uploads"
PARTIAL_UPLOAD = "application/partial-upload"
PARTIAL_BODY = binary_body(
    [PARTIAL_UPLOAD],
    "The photo's bytes from Upload-Offset on (all, or a part), with Upload-Complete: ?1 on the last.",
)
MAX_SF_INTEGER = 999_999_999_999_999  # RFC 9651: at most 15 digits


# The draft's request fields, as handler parameters (read by the handler, documented in OpenAPI).
UploadComplete = Annotated[
    str | None,
    HeaderParameter(
        name="Upload-Complete",
        description="`?1`: this request brings the last of the photo's bytes; `?0`: more follow (RFC 9651 Boolean).",
    ),
]
UploadOffset = Annotated[
    str | None, HeaderParameter(name="Upload-Offset", description="Where this request's bytes start (HEAD tells).")
]
UploadLength = Annotated[
    str | None, HeaderParameter(name="Upload-Length", description="The whole photo's length in bytes, if known.")
]


def documented(fields: dict[str, tuple[str, str]], *names: str) -> list[ResponseHeader]:
    """The response fields `names` of `fields` (name: example, meaning), for the OpenAPI document only."""
    return [
        ResponseHeader(name=n, value=example, description=description, documentation_only=True)
        for n in names
        for example, description in (fields[n],)
    ]


# name: (an example value, what it says)
RESPONSE_FIELDS = {
    "Location": ("/mobile/v1/uploads/6f1c0b9e-4d2a-4c1e-9b7a-2e5d8c3f1a40", "The upload resource to resume at."),
    "Upload-Offset": ("1048576", "How many of the photo's bytes the server holds, durably."),
    "Upload-Complete": ("?0", "`?1` once the photo's last byte arrived and its answer was made."),
    "Upload-Length": ("3145728", "The photo's length, once a request said it."),
    "Upload-Limit": (
        "max-size=26214400, max-age=86400",
        "`max-size` (MAX_PHOTO_BYTES) and `max-age` (seconds the upload is still kept: UPLOAD_EXPIRY_S).",
    ),
    "Install-Location": (
        "/mobile/v1/installs/0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10",
        "The install view with the photo's checks (a finished upload).",
    ),
    "Photo-Id": ("1", "The photo the upload made (a finished upload)."),
}
STATE_FIELDS = ("Upload-Offset", "Upload-Complete", "Upload-Length", "Upload-Limit", "Install-Location", "Photo-Id")


def upload_complete(value: str | None) -> bool | None:
    """Upload-Complete (an RFC 9651 Boolean); None when absent or not a Boolean (the draft: ignored)."""
    return {"?1": True, "?0": False}.get((value or "").strip())


def sf_integer(value: str | None) -> int | None:
    """An RFC 9651 non-negative Integer, or None (absent or anything else: the draft ignores the field)."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or int(value) > MAX_SF_INTEGER:
        return None
    return int(value)


def required_integer(value: str | None, header: str) -> int:
    """A header that must be a non-negative Integer (400 upload/invalid-header otherwise)."""
    number = sf_integer(value)
    if number is None:
        raise BadRequest("upload/invalid-header", header=header)
    return number


def media_type(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def finished_headers(upload: UploadRec) -> dict[str, str]:
    """Where a finished upload's photo and its checks are (GET the install view): also on an offset
    query, so a client that missed the final answer finds them."""
    if upload.photo is None:
        return {}
    return {"Install-Location": f"/mobile/v1/installs/{upload.install}", "Photo-Id": str(upload.photo)}


def state_headers(ctx: InstallContext, upload: UploadRec) -> dict[str, str]:
    """The upload's state as the draft's fields: offset, completeness, length if known, limits."""
    headers = {
        "Upload-Offset": str(upload.received),
        "Upload-Complete": "?1" if upload.complete else "?0",
        "Upload-Limit": _limit(ctx.settings.max_photo_bytes, upload.expires_at, ctx.clock()),
        **finished_headers(upload),
    }
    if upload.declared_length is not None:
        headers["Upload-Length"] = str(upload.declared_length)
    return headers


def _limit(max_size: int, expires_at: datetime, now: datetime) -> str:
    # `expires` is what interop version 6 called `max-age` (an unknown key is ignored by either).
    age = max(0, int((expires_at - now).total_seconds()))
    return f"max-size={max_size}, max-age={age}, expires={age}"


async def create(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    lang: str,
    install_id: uuid.UUID,
    slot: str,
    complete: bool,
    length: str | None,
) -> Response[s.PhotoUploaded]:
    """Upload creation: the PUT's own checks before the body, the body appended as far as it arrives;
    complete, the PUT's answer, else 201 with the upload resource's Location."""
    declared = sf_integer(length)
    content_type = request.headers.get("content-type", "")
    upload = await service.create(ctx, request.user, "ietf", install_id, slot, content_type, declared)
    return await _appended(request, ctx, lang, upload.id, 0, complete, None, HTTP_201_CREATED)


async def _appended(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    lang: str,
    upload_id: uuid.UUID,
    offset: int,
    complete: bool,
    length: int | None,
    status: int,
) -> Response[Any]:
    appended = await service.append(
        ctx,
        request.user,
        upload_id,
        offset,
        chunks_of(request),
        content_length=request.content_length,
        declared_length=length,
        complete=complete,
    )
    headers = {**state_headers(ctx, appended.upload), "Location": f"{UPLOADS_PATH}/{upload_id}"}
    if appended.finished is None:
        if status != HTTP_201_CREATED:  # the Location of an append is the creation's business
            del headers["Location"]
        return Response(b"", status_code=status, headers=headers)
    done = appended.finished
    return await photo_uploaded(
        ctx, request.user, appended.upload.install, done.photo, done.results, done.created, lang, headers
    )


class UploadController(Controller):
    path = UPLOADS_PATH
    tags = ["uploads"]
    guards = [requires_role(Role.CUSTOMER, Role.INSTALLER)]

    @head(
        "/{upload_id:uuid}",
        operation_id="GetUploadOffset",
        status_code=HTTP_204_NO_CONTENT,
        response_headers=documented(RESPONSE_FIELDS, *STATE_FIELDS),
    )
    async def offset(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> Response[None]:
        """The upload's state in Upload-Offset, Upload-Complete, Upload-Length and Upload-Limit."""
        upload = await service.settled(ctx, request.user, upload_id)
        return Response(
            None, status_code=HTTP_204_NO_CONTENT, headers={**state_headers(ctx, upload), "Cache-Control": "no-store"}
        )

    @patch(
        "/{upload_id:uuid}",
        operation_id="AppendUpload",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        operation_class=raw_body(PARTIAL_BODY),
        response_headers=documented(RESPONSE_FIELDS, *STATE_FIELDS),
        responses={
            204: ResponseSpec(None, description="Appended; more is to come (Upload-Complete: ?0)."),
            409: ResponseSpec(None, description="Upload-Offset is not the upload's (`upload/offset-mismatch`)."),
        },
    )  # the photo store enforces MAX_PHOTO_BYTES while streaming
    async def append(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        upload_id: FromPath[uuid.UUID],
        upload_complete_field: UploadComplete = None,
        upload_offset: UploadOffset = None,
        upload_length: UploadLength = None,
    ) -> Response[s.PhotoUploaded]:
        """Append the body at Upload-Offset; with Upload-Complete: ?1 the photo is checked (the PUT's answer)."""
        if media_type(request) != PARTIAL_UPLOAD:
            raise Unsupported("request/unsupported-media-type", accepted=PARTIAL_UPLOAD)
        complete = upload_complete(upload_complete_field)
        if complete is None:
            raise BadRequest("upload/invalid-header", header="Upload-Complete")
        offset = required_integer(upload_offset, "Upload-Offset")
        length = sf_integer(upload_length)
        return await _appended(request, ctx, lang, upload_id, offset, complete, length, HTTP_204_NO_CONTENT)

    @delete("/{upload_id:uuid}", operation_id="CancelUpload", status_code=HTTP_204_NO_CONTENT)
    async def cancel(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        upload_id: FromPath[uuid.UUID],
    ) -> None:
        """Cancel the upload: its bytes are removed (a photo it already made stays)."""
        await service.cancel(ctx, request.user, upload_id)
