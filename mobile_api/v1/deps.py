"""Dependencies shared by the v1 controllers."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from backend.errors import BadRequest
from backend.installs.context import InstallContext
from backend.problems import preferred_language


def provide_ctx(state: State) -> InstallContext:
    return state.ctx  # type: ignore[no-any-return]


def provide_lang(request: Request[Any, Any, Any]) -> str:
    return preferred_language(request.headers.get("accept-language"))


DEPENDENCIES = {
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "lang": Provide(provide_lang, sync_to_thread=False),
}


def encode_cursor(created_at: datetime, install_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{install_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """An opaque keyset cursor; anything malformed is the client's error, not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, _, ident = raw.partition("|")
        created = datetime.fromisoformat(stamp)
        if created.tzinfo is None:
            raise ValueError("naive timestamp")
        return created, uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("request/invalid", detail="cursor") from None
