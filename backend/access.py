"""Around the whole application: a request id, one access-log line and the HTTP metrics per request.

It wraps Litestar's own exception handling (create_app installs it on `app.asgi_handler`), so it
also sees what no route answers: a 404 for an unknown path, a 503 from the admission limit, a 500.
The access line names the route template, the path and only the *names* of the query parameters
(their values may be personal: an EAN, a postcode); never a header, a token, a body or the client's
address (personal data too; the proxy's log has it).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from granian.utils.proxies import wrap_asgi_with_proxy_headers
from litestar import Litestar
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.logs import bind_request_id, unbind_request_id
from backend.metrics import UNMATCHED_ROUTE, observe_request
from backend.principal import Principal

access_log = logging.getLogger("selfinstall.access")
REQUEST_ID_HEADER = b"x-request-id"


def observe_requests(app: Litestar, forwarded_allow_ips: tuple[str, ...]) -> Litestar:
    """Wrap the app's whole handling (see the module text); behind a trusted proxy, believe its
    X-Forwarded-For and X-Forwarded-Proto (granian's own wrapper: the client and scheme it reports)."""
    handler: ASGIApp = RequestObserver(app.asgi_handler)
    if forwarded_allow_ips:
        handler = wrap_asgi_with_proxy_headers(handler, list(forwarded_allow_ips))
    app.asgi_handler = handler
    return app


class RequestObserver:
    """ASGI wrapper: binds the request id (logs, problem+json, `X-Request-Id`), then logs and counts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid, token = bind_request_id(_header(scope, REQUEST_ID_HEADER))
        started = time.perf_counter()
        status = 500  # what the server says when the app sends nothing at all

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            observe_request(route, scope["method"], status, seconds)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra=_access_fields(scope, route, status, seconds),
            )
            unbind_request_id(token)


def _access_fields(scope: Scope, route: str, status: int, seconds: float) -> dict[str, Any]:
    user = scope.get("user")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "route": route,
        "query": _query_names(scope.get("query_string", b"")),
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "role": user.role.value if isinstance(user, Principal) else None,
    }


def _query_names(query_string: bytes) -> list[str]:
    """The parameter names without their values, sorted (at most 20, each cut at 40 characters)."""
    names = (part.split(b"=", 1)[0].decode("latin-1")[:40] for part in query_string.split(b"&") if part)
    return sorted(set(names))[:20]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None
