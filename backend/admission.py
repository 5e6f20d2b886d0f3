"""A bound on the requests one worker serves at once: beyond it, 503 + Retry-After at once.

An event loop shares its core among every request in progress, so under a burst each of them got
slower together (50 phones: uploads p50 8 s, p99 16 s). Refusing the excess right away means an
admitted request shares the core with only a few others; a refused one did nothing, so the mobile
app simply sends it again after Retry-After. Liveness, readiness and metrics are never refused.

A request is counted from the moment it can work: at once without a body, and when its body is
complete otherwise. A phone in a basement sending 12 MB over a bad line costs the server nothing
while it waits for bytes, and two clients trickling bodies byte by byte must not hold every place
(they did: every other request got 503 for as long as they kept sending). A body completed while
the worker is full is refused then, from inside the read; the upload path deletes what it staged.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import Unavailable

# Probes, and static files a browser fetches beside a page (cheap, and never retried by a browser).
EXEMPT_PREFIXES = ("/health", "/metrics", "/console/static", "/portal/static")


@dataclass
class InFlight:
    """The requests at work in this worker, shared by the middleware of every route."""

    limit: int  # 0: no bound
    retry_after_s: int
    count: int = 0

    def admit(self) -> None:
        """Take a place, or Unavailable (503) when none is free. One event loop per worker: no lock."""
        if self.count >= self.limit:
            raise Unavailable("service/busy", retry_after_s=self.retry_after_s)
        self.count += 1


class AdmissionLimit:
    """ASGI middleware counting requests into `InFlight` and refusing them past its limit."""

    def __init__(self, app: ASGIApp, in_flight: InFlight) -> None:
        self.app = app
        self.in_flight = in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        bound = self.in_flight
        if scope["type"] != "http" or not bound.limit or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        admitted = False
        if not _has_body(scope):
            bound.admit()
            admitted = True

        async def admitted_when_complete() -> Message:
            nonlocal admitted
            message = await receive()
            if not admitted and message["type"] == "http.request" and not message.get("more_body", False):
                bound.admit()
                admitted = True
            return message

        try:
            await self.app(scope, receive if admitted else admitted_when_complete, send)
        finally:
            if admitted:
                bound.count -= 1


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False
