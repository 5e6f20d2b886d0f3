"""Dependencies shared by the v1 controllers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from backend.i18n import preferred_language
from backend.installs.context import InstallContext


def provide_ctx(state: State) -> InstallContext:
    return state.ctx  # type: ignore[no-any-return]


def provide_lang(request: Request[Any, Any, Any]) -> str:
    return preferred_language(request.headers.get("accept-language"))


DEPENDENCIES = {
    "ctx": Provide(provide_ctx, sync_to_thread=False),
    "lang": Provide(provide_lang, sync_to_thread=False),
}
