"""A customer's phone for the portal's browser tests: Chromium at 360x800 with touch, and the checks every
portal page passes where a test stops on it (tests/portal/test_portal_pages_audit.py lists the pages):
axe-core's WCAG 2.2 AA rules (0 serious or critical), nothing wider than the phone, every script deferred,
no script blocked by the CSP, the document under 100 kB; and its screenshot under `make screenshots`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page

from tests.portal.test_portal_browser import _accessible

PAGE_BYTES = 100_000  # a page before its photos, on a slow network


@dataclass
class Phone:
    context: BrowserContext
    page: Page
    axe_source: str
    screenshots: Path
    sizes: dict[str, int] = field(default_factory=dict)  # each page's document: URL -> bytes
    blocked: list[str] = field(default_factory=list)  # what the CSP refused, in the console's words

    async def check(self, shot: str | None = None) -> None:
        """The page as it stands passes the portal's checks; `shot`: docs/screenshots/portal-<shot>.png."""
        page = self.page
        await _accessible(page, self.axe_source)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 360, page.url
        blocking = await page.evaluate(
            "[...document.scripts].filter(s => !s.defer && !s.async).map(s => s.src || s.text.slice(0, 40))"
        )
        assert blocking == [], (page.url, blocking)
        if shot:
            await page.screenshot(path=str(self.screenshots / f"portal-{shot}.png"), full_page=True)

    async def close(self) -> None:
        await self.context.close()
        assert self.sizes and all(size < PAGE_BYTES for size in self.sizes.values()), self.sizes
        assert not self.blocked, self.blocked


async def phone(browser: Browser, axe_source: str, screenshots: Path, **options: Any) -> Phone:
    """A fresh phone (its own cookies) browsing as a Dutch reader unless `locale` says otherwise."""
    context = await browser.new_context(
        **{
            "viewport": {"width": 360, "height": 800},
            "has_touch": True,
            "is_mobile": True,
            "locale": "nl-NL",
            **options,
        }
    )
    page = await context.new_page()
    it = Phone(context, page, axe_source, screenshots)

    async def kept(response: Any) -> None:
        # A page (200) or a refusal in words (4xx); not a redirect, nor a 204 that leaves the page as it was.
        if response.request.resource_type == "document" and (response.status == 200 or response.status >= 400):
            it.sizes[response.url] = len(await response.body())

    page.on("response", kept)
    page.on("console", lambda m: it.blocked.append(m.text) if "Content Security Policy" in m.text else None)
    return it
