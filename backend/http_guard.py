"""What the HTTP server does not refuse for us, refused once for every route.

granian already answers 400 to a malformed request line, duplicate or non-numeric Content-Length
and a Transfer-Encoding that is not chunked, resolves Content-Length + chunked as RFC 9112 asks
(chunked wins, the connection is closed after the answer) and bounds the header read
(`header_read_timeout`). It waits for a body without limit, though, and hands the request target
and JSON to the application as sent. Here: the body read timeout (408), the request target's
encoding (400), integer path ids the database cannot hold (404) and JSON nested past what the
decoder can follow (400).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.bounds import MAX_INT4
from backend.errors import BadRequest, NotFound, RequestTimeout


class RequestGuard:
    """ASGI middleware: a request target that is UTF-8 without NUL, and a body that keeps coming."""

    def __init__(self, app: ASGIApp, body_read_timeout_s: float) -> None:
        self.app = app
        self.body_read_timeout_s = body_read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _check_target(scope.get("raw_path") or scope["path"].encode(), scope.get("query_string", b""))
            receive = _body_deadline(receive, self.body_read_timeout_s)
        await self.app(scope, receive, send)


def _check_target(raw_path: bytes, query_string: bytes) -> None:
    for part in (raw_path, query_string.replace(b"+", b" ")):
        decoded = unquote_to_bytes(part)
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("request/invalid-encoding") from None
        if b"\x00" in decoded:
            raise BadRequest("request/invalid-encoding")


def _body_deadline(receive: Receive, timeout_s: float) -> Receive:
    """Each wait for the next piece of the body is bounded; once the body is complete (or the
    client left), `receive` is passed through: a streamed response listens on it for a disconnect."""
    complete = False

    async def bounded() -> Message:
        nonlocal complete
        if complete:
            return await receive()
        try:
            async with asyncio.timeout(timeout_s):
                message = await receive()
        except TimeoutError:
            raise RequestTimeout("request/body-timeout", timeout_s=f"{timeout_s:g}") from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            complete = True
        return message

    return bounded


async def bounded_path_ids(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """App-wide guard: an `{x:int}` path id outside 1..2**31-1 names no row (404), and must not
    reach a query (PostgreSQL `integer` overflows at 2**31, SQLite at 2**63). Async: Litestar runs a
    sync guard in a worker thread."""
    for value in connection.path_params.values():
        if isinstance(value, int) and not 1 <= value <= MAX_INT4:
            raise NotFound("request/id-out-of-range", max=MAX_INT4)


class GuardedRequest(Request[Any, Any, Any]):
    """The app's request class: JSON nested past the decoder's recursion limit is the client's error."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise BadRequest("request/too-deeply-nested") from None
