"""A second instance of the real app in the test's event loop, on the same database and pool."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx

from backend.app import create_app
from backend.settings import Settings


@asynccontextmanager
async def burst_client(
    settings: Settings, clock: Callable[[], datetime] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its bound on requests in flight, so every request of a burst reaches the
    code under test, and with `clock` in its context when given. Needs the `client` fixture (the pool)."""
    app = create_app(dataclasses.replace(settings, max_requests_in_flight=0))
    if clock is not None:
        app.state.ctx = dataclasses.replace(app.state.ctx, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
    await app.state.ctx.store.aclose()
