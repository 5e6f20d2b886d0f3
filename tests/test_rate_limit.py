"""Litestar's rate limiter guards the API; its 429 is problem+json like every other refusal."""

from __future__ import annotations

import dataclasses

import httpx

from backend.app import create_app
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory


class TestRateLimit:
    async def test_the_sixth_request_in_a_minute_is_refused(self, settings: Settings, make: Factory) -> None:
        app = create_app(dataclasses.replace(settings, rate_limit_per_minute=5))
        who = make.party(Role.CUSTOMER)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            statuses = [(await c.get("/mobile/v1/installs", headers=who.headers)).status_code for _ in range(6)]
            refused = await c.get("/mobile/v1/installs", headers={**who.headers, "Accept-Language": "en"})
            health = await c.get("/health")
        assert statuses == [200] * 5 + [429]
        assert refused.status_code == 429
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "request/rate-limited"
        assert "Too many requests" in refused.json()["title"]
        assert health.status_code == 200  # health checks are never limited
