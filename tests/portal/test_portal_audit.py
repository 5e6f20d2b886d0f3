"""Every portal route that renders a page is accounted for: each has phone-size screenshots in
docs/screenshots (written by the browser tests under `make screenshots`, where each page also passes
axe-core, the 360 px width, deferred scripts and the 100 kB budget: tests/portal/phone.py), each linked from
the README's portal section; a new page route fails here until it has them."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx

from backend.app import create_app
from backend.settings import load_settings
from tests.console.test_oidc import _provider_env

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "screenshots"
INSTALL = "/portal/installs/{install_id:uuid}"
# (method, route) -> the screenshots of what it renders (docs/screenshots/portal-<name>.png).
PAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/portal/login"): ("login", "login-provider"),  # the demo in development, else the provider's button
    ("POST", "/portal/login/demo"): ("login-refused",),  # a redirect home, or the sign-in page refusing
    ("GET", "/portal"): ("home", "home-empty", "claimed", "review-home"),
    ("POST", "/portal/connections/claim"): ("claim-refused",),  # a redirect home, or home with the refusal
    ("GET", INSTALL): (
        "install",
        "help-sent",
        "visit",
        "review-install",
        "answer",
        "answer-refused",
        "answer-sent",
        "objection",
        "objection-sent",
    ),
    ("GET", INSTALL + "/guide"): (
        "guide-scan",
        "guide-retake",
        "guide-upload-retry",
        "guide-location",
        "guide-submit",
        "guide-approved",
        "guide-review",
    ),
    # A form's refusal is the page it came from at once, the refusal in full words above the form as typed
    # (the same page and error message as these screenshots show); its success is a redirect.
    ("POST", "/portal/installs"): ("claim-refused",),
    ("POST", INSTALL + "/help"): ("answer-refused",),
    ("POST", INSTALL + "/answer"): ("answer-refused",),
    ("POST", INSTALL + "/answer/photo"): ("answer-refused",),
    ("POST", INSTALL + "/objection"): ("answer-refused",),
    ("POST", INSTALL + "/visit"): ("answer-refused",),
    ("POST", INSTALL + "/guide/scan"): ("guide-scan",),
    ("POST", INSTALL + "/guide/location"): ("guide-location",),
    ("POST", INSTALL + "/guide/reading"): ("guide-scan",),
    ("POST", INSTALL + "/guide/photos/{slot:str}"): ("guide-retake",),
    ("POST", INSTALL + "/guide/submit"): ("guide-submit",),
    ("GET", "/portal/oidc/start"): ("login-expired",),  # a redirect to the provider, or the failed sign-in
    ("GET", "/portal/oidc/callback"): ("signed-in", "login-expired"),
}
PROBLEM_PAGE = ("not-found",)  # any refusal under /portal (backend/portal/access.problem_page)
# Routes under /portal that answer data to a script, never a page (backend/portal/uploads.py for upload.js).
DATA_ROUTES = {("POST", INSTALL + "/uploads/{slot:str}")}


def _page_routes() -> set[tuple[str, str]]:
    """The portal's routes that may answer with a page: every GET, and a POST that is not only a redirect."""
    app = create_app(load_settings({**os.environ, **_provider_env("http://127.0.0.1:9")}))
    try:
        found = set()
        for route in app.routes:
            if not route.path.startswith("/portal") or route.path.startswith("/portal/static"):
                continue
            for handler in route.route_handlers:
                method = next(iter(handler.http_methods))
                if method == "GET" or (method == "POST" and handler.fn.__annotations__["return"] != "Redirect"):
                    found.add((method, route.path))
        return found
    finally:
        app.state.ctx.cpu.shutdown()


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("## Customer portal")
    return text[start : text.index("\n## ", start + 1)]


class TestEveryPortalPage:
    async def test_each_page_route_has_its_screenshots(self, client: httpx.AsyncClient) -> None:
        routes = _page_routes()
        assert routes - DATA_ROUTES == set(PAGES), (routes - DATA_ROUTES) ^ set(PAGES)

    def test_each_screenshot_is_there_and_linked_from_the_readme(self) -> None:
        readme = _readme_section()
        wanted = {name for names in PAGES.values() for name in names} | set(PROBLEM_PAGE)
        linked = set(re.findall(r"\(docs/screenshots/portal-([a-z0-9-]+)\.png\)", readme))
        assert wanted <= linked, sorted(wanted - linked)
        on_disk = {p.stem.removeprefix("portal-") for p in SHOTS.glob("portal-*.png")}
        assert wanted <= on_disk, sorted(wanted - on_disk)
        assert on_disk <= linked, sorted(on_disk - linked)  # no screenshot the README leaves out
