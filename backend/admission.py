"""A bound on the requests one worker serves at once: beyond it a short wait, then 503 + Retry-After.

An event loop shares its core among every request in progress, so under a burst each of them got
slower together (50 phones: uploads p50 8 s, p99 16 s). Refusing the excess right away means an
admitted request shares the core with only a few others; a refused one did nothing, so the mobile
app simply sends it again after Retry-After. Liveness, readiness and metrics are never refused.

A request is counted from the moment it can work: at once without a body, and when its body is
complete otherwise. A phone in a basement sending 12 MB over a bad line costs the server nothing
while it waits for bytes, and two clients trickling bodies byte by byte must not hold every place
(they did: every other request got 503 for as long as they kept sending). A body completed while
the worker is full waits for a place there, and a refusal comes from inside the read; the upload
path deletes what it staged.

Past the bound a request waits up to ADMISSION_WAIT_S for a place, first come first served, with at
most ADMISSION_QUEUE waiting; a place that frees goes to the first waiter. A phone sending its three
photos at once to an idle worker is served (it was refused one of them), while a burst beyond the
queue is still refused at once, and a request never waits longer than the wait.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.errors import Unavailable

# Probes, and static files a browser fetches beside a page (cheap, and never retried by a browser).
EXEMPT_PREFIXES = ("/health", "/metrics", "/console/static", "/portal/static")


@dataclass
class InFlight:
    """The requests at work in this worker, shared by the middleware of every route."""

    limit: int  # 0: no bound
    retry_after_s: int
    wait_s: float = 0.0  # how long a request past the bound waits for a place
    queue: int = 0  # how many may wait at once
    count: int = 0
    _waiting: deque[asyncio.Future[None]] = field(default_factory=deque)

    async def admit(self) -> None:
        """Take a place, waiting for one up to `wait_s` behind those already waiting; else Unavailable (503).
        One event loop per worker: no lock."""
        if self.count < self.limit and not self._waiting:
            self.count += 1
            return
        if self.wait_s <= 0 or len(self._waiting) >= self.queue:
            raise self._busy()
        place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(place)
        try:
            async with asyncio.timeout(self.wait_s):
                await place
        except BaseException as exc:
            if place.done() and not place.cancelled():
                self.release()  # handed a place as it gave up (its client went away): the next one has it
            elif place in self._waiting:
                self._waiting.remove(place)
            if isinstance(exc, TimeoutError):
                raise self._busy() from None
            raise

    def release(self) -> None:
        """Give a place back: to the first request still waiting, else free."""
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(None)  # the place passes on: the count stays
                return
        self.count -= 1

    def _busy(self) -> Unavailable:
        return Unavailable("service/busy", retry_after_s=self.retry_after_s)


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
            await bound.admit()
            admitted = True

        async def admitted_when_complete() -> Message:
            nonlocal admitted
            message = await receive()
            if not admitted and message["type"] == "http.request" and not message.get("more_body", False):
                await bound.admit()
                admitted = True
            return message

        try:
            await self.app(scope, receive if admitted else admitted_when_complete, send)
        finally:
            if admitted:
                bound.release()


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False
