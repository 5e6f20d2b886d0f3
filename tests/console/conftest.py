"""A real server process on a free port (same database and photo folder as the test process) and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from tests.helpers.server import serving_sync

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The server shares the run's database for the rest of the run: its background rounds would race later
# tests for their rows (send their webhook deliveries, signed with its own secret; their e-mail; sweep
# their files), so they wait a day; the tests that need a round run it themselves.
QUIET_ROUNDS = {"WEBHOOK_INTERVAL_S": "86400", "NOTIFY_INTERVAL_S": "86400", "FILE_SWEEP_INTERVAL_S": "86400"}


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    with serving_sync(QUIET_ROUNDS) as url:
        yield url


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is required (apt-get install chromium)"
    # Generous waits: a loaded 2-core CI machine renders slowly; nothing here asserts speed.
    expect.set_options(timeout=20_000)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield _DutchBrowser(b)  # type: ignore[misc]
        await b.close()


class _DutchBrowser:
    """The browser of a Dutch specialist or operator: pages ask for Dutch (Accept-Language nl-NL), as the
    console's words follow the reader's language (Playwright's own default is en-US)."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)

    async def new_page(self, **options: Any) -> Page:
        return await self._browser.new_page(**{"locale": "nl-NL", **options})

    async def new_context(self, **options: Any) -> BrowserContext:
        return await self._browser.new_context(**{"locale": "nl-NL", **options})


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots under `make screenshots` (SCREENSHOTS=docs); a temporary folder otherwise,
    so an ordinary test run leaves the work tree as it was."""
    if os.environ.get("SCREENSHOTS") == "docs":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")
