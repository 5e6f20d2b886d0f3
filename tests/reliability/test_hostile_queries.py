"""Hostile query strings on every route that reads one: NUL, bytes that are not UTF-8, overlong
encodings, numbers past the columns, forged cursors. No 5xx, nothing stored."""

from __future__ import annotations

import base64

import httpx
import pytest

from backend.principal import Role
from backend.settings import Settings
from tests.reliability.hostile import refused, stored
from tests.reliability.routes import ROUTES, World, make_world, send


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, settings: Settings) -> World:
    return await make_world(client, settings)


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode("|".join(map(str, parts)).encode()).decode().rstrip("=")


# Refused on every route, before any handler: the query is not UTF-8 or carries NUL.
UNREADABLE = {
    "%00": "%00",
    "%ff": "%FF",
    "nul inside": "ab%00cd",
    "overlong utf-8": "%C0%AE",
    "lone surrogate": "%ED%A0%80",
}
# Refused where the parameter is bounded; a mere non-match where it is a free filter.
ODD = {"10k characters": "x" * 10_000, "2**64": str(2**64), "1e3": "1e3", "-1": "-1"}
FORGED_CURSORS = {
    "2**63 id": _cursor("2024-01-01T00:00:00+00:00", 0, 2**63),
    "9999 time": _cursor("9999-12-31T23:59:59-23:59", 0, 1),
    "2**31 id": _cursor(2**31),
    "nul": _cursor("\x00", "\x00", "\x00"),
    "garbage": "!!!",
}
# Their cursor is a serial, and "2147483648" is one: a position to page from, not a forgery.
SERIAL_CURSORS = {("GET", "/admin/v1/assets"), ("GET", "/console/assets")}
QUERY_CASES = [
    (key, name, label, value)
    for key, route in ROUTES.items()
    for name in route.query
    for label, value in [*UNREADABLE.items(), *ODD.items(), *(FORGED_CURSORS.items() if name == "cursor" else ())]
]


class TestQueryStrings:
    @pytest.mark.parametrize(
        ("key", "name", "label", "value"), QUERY_CASES, ids=[f"{k[1]}?{n}={lb}" for k, n, lb, _ in QUERY_CASES]
    )
    async def test_a_hostile_parameter_is_refused_or_harmless(
        self,
        client: httpx.AsyncClient,
        world: World,
        settings: Settings,
        key: tuple[str, str],
        name: str,
        label: str,
        value: str,
    ) -> None:
        before = await stored(settings.photo_dir)
        r = await send(client, world, key[0], world.url(key[1], case_id=1) + f"?{name}={value}", ROUTES[key].role)
        assert r.status_code < 500, r.text
        if r.status_code >= 400 and key[1].startswith(("/portal", "/console")):
            # A person's browser reads the portal and the console: the problem is a page in words, its code kept
            # for support (a console page's own refusals are its flash: the same words in its own page).
            code = "request/invalid-encoding" if label in UNREADABLE else "request/"
            assert "text/html" in r.headers["content-type"], r.text
            assert f'data-code="{code}' in r.text or (key[1].startswith("/console") and 'class="flash error"' in r.text)
        elif label in UNREADABLE:
            refused(r, "request/invalid-encoding")
        elif label in FORGED_CURSORS and not (label == "2**31 id" and key in SERIAL_CURSORS):
            refused(r, "request/invalid")
        elif r.status_code >= 400:
            refused(r)
        assert await stored(settings.photo_dir) == before


@pytest.mark.parametrize(
    "accept_language",
    ["en;q=nan", "en;q=1e999, nl;q=-inf", "x" * 8000, ";;;,,,q=", "en;q=0.5" + ", nl;q=0.4" * 500],
    ids=["NaN weight", "infinite weights", "8000 characters", "punctuation", "1000 languages"],
)
async def test_a_hostile_accept_language_still_gets_an_answer_in_dutch_or_english(
    client: httpx.AsyncClient, world: World, accept_language: str
) -> None:
    r = await send(
        client, world, "GET", "/mobile/v1/installs?limit=0", Role.CUSTOMER, headers={"Accept-Language": accept_language}
    )
    refused(r, "request/invalid")
    assert r.headers["content-language"] in ("nl", "en")
