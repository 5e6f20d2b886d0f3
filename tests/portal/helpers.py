"""A customer's portal session for page tests without a browser (its cookies sent by hand: they are Secure)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx

from backend.console import sessions
from backend.portal.access import COOKIE
from backend.principal import Principal, Role


async def portal_headers(client: httpx.AsyncClient, subject: str) -> dict[str, str]:
    """Headers of `subject`'s portal session (opened as a sign-in opens it), with the CSRF token."""
    csrf = (await client.get("/portal/login")).cookies["csrftoken"]
    now = datetime.now(UTC)
    value = await sessions.open_session(Principal(subject=subject, role=Role.CUSTOMER), now, now + timedelta(hours=1))
    return {"Cookie": f"csrftoken={csrf}; {COOKIE}={value}", "x-csrftoken": csrf}


def form(headers: dict[str, str], **fields: str) -> dict[str, str]:
    """A form's fields with the CSRF token a page's form carries."""
    return {"_csrf_token": headers["x-csrftoken"], **fields}


def flash_of(page: httpx.Response) -> str:
    """The text of the page's message (an outcome, or a refusal), '' when it has none."""
    found = re.search(r'<div class="flash [a-z]+" role="[a-z]+">([^<]*)</div>', page.text)
    return html.unescape(found.group(1)) if found else ""
