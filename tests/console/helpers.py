"""A signed-in console session for page tests without a browser (its cookies sent by hand: they are Secure)."""

from __future__ import annotations

import httpx

from backend.principal import Role
from tests.factories import Factory


async def console_headers(
    client: httpx.AsyncClient, make: Factory, role: Role, subject: str | None = None
) -> dict[str, str]:
    """Headers of a console session of `role`, signed in through the paste form, with the CSRF token."""
    csrf = (await client.get("/console/login")).cookies["csrftoken"]
    token = make.party(role, subject).headers["Authorization"].removeprefix("Bearer ")
    r = await client.post(
        "/console/login", data={"token": token, "_csrf_token": csrf}, headers={"Cookie": f"csrftoken={csrf}"}
    )
    assert r.status_code == 303, r.text
    return {"Cookie": f"csrftoken={csrf}; si_console={r.cookies['si_console']}", "x-csrftoken": csrf}
