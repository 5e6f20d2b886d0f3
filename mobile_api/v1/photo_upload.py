"""What a photo's upload needs of HTTP, single (PUT) or resumable (the IETF draft, tus): its body as
chunks with the transport's errors turned into domain ones, and the answer with the photo's checks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from litestar import Request, Response
from litestar.exceptions import InternalServerException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.installs import service
from backend.installs.context import InstallContext
from backend.installs.records import PhotoRec
from backend.principal import Principal
from backend.storage import UploadInterrupted, UploadTooLarge
from backend.validation.results import CheckResult
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import actions_for, check_view, photo_view


async def chunks_of(request: Request[Any, Any, Any]) -> AsyncIterator[bytes]:
    """The request body as it arrives, with Litestar's transport errors turned into domain ones."""
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except RequestEntityTooLarge:
        raise UploadTooLarge from None
    except InternalServerException:  # "client disconnected prematurely"
        raise UploadInterrupted from None


async def photo_uploaded(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    photo: PhotoRec,
    results: list[CheckResult],
    created: bool,
    lang: str,
    headers: dict[str, str] | None = None,
) -> Response[s.PhotoUploaded]:
    """The answer to a photo's upload, single or resumable: the photo with its checks, the install's state."""
    snap = await service.get_install(who, install_id)  # the install as it is now: one query
    checks = [check_view(r, lang) for r in results] or [check_view(c, lang) for c in snap.checks if c.photo == photo.id]
    body = s.PhotoUploaded(
        photo=photo_view(photo, checks), state=snap.install.state, next_actions=actions_for(ctx.catalog, snap, lang)
    )
    return Response(body, status_code=HTTP_201_CREATED if created else HTTP_200_OK, headers=headers)
