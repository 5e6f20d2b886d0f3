"""A bound on the requests one worker serves at once: beyond it, 503 + Retry-After at once.

An event loop shares its core among every request in progress, so under a burst each of them got
slower together (50 phones: uploads p50 8 s, p99 16 s). Refusing the excess right away means an
admitted request shares the core with only a few others; a refused one did nothing, so the mobile
app simply sends it again after Retry-After. Liveness, readiness and metrics are never refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.types import ASGIApp, Receive, Scope, Send

from backend.errors import Unavailable

# Probes, and static files a browser fetches beside a page (cheap, and never retried by a browser).
EXEMPT_PREFIXES = ("/health", "/metrics", "/console/static")


@dataclass
class InFlight:
    """The requests in progress in this worker, shared by the middleware of every route."""

    limit: int  # 0: no bound
    retry_after_s: int
    count: int = 0


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
        if bound.count >= bound.limit:
            raise Unavailable("service/busy", retry_after_s=bound.retry_after_s)
        bound.count += 1  # one event loop per worker: no lock needed
        try:
            await self.app(scope, receive, send)
        finally:
            bound.count -= 1
