"""Security headers of every console response: pages, redirects, static files and the errors that
middleware raises (a CSRF refusal is answered outside any route middleware, hence a send hook).

The pages run no inline script or style (console.js and console.css are files), so the policy allows
only this origin's files: an injected `<script>`, `on…=` handler or `style=` attribute does nothing."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

PAGES = ("/console", "/portal")  # the operators' console and the customers' portal
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # case ids and filters stay out of other sites' logs
}


async def console_security_headers(message: Message, scope: Scope) -> None:
    """Litestar before_send hook: adds SECURITY_HEADERS to every response under PAGES (async:
    Litestar runs a sync hook in a worker thread, twice for every response of every route)."""
    if message["type"] != "http.response.start":
        return
    path = scope.get("path", "")
    if any(path == page or path.startswith(page + "/") for page in PAGES):
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            headers[name] = value
