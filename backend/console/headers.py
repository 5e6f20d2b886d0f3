"""Security headers of every console and portal response: pages, redirects, static files and the errors
that middleware raises (a CSRF refusal is answered outside any route middleware, hence a send hook).

The pages run no inline script or style (console.js, portal.js and the CSS are files), so the policy allows
only this origin's files: an injected `<script>`, `on…=` handler or `style=` attribute does nothing. The
portal's policy adds only what its QR reader needs (backend/portal/static/scan.js): compiling WebAssembly
('wasm-unsafe-eval', which allows no eval of JavaScript) and fetching the reader's .wasm from this origin, the
same connect-src that lets upload.js send a photo in chunks to this origin."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CONTENT_SECURITY_POLICY = f"{_POLICY}; script-src 'self'"
PORTAL_CONTENT_SECURITY_POLICY = f"{_POLICY}; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # case ids and filters stay out of other sites' logs
}
PORTAL_SECURITY_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": PORTAL_CONTENT_SECURITY_POLICY}
# The operators' console and the customers' portal, each with its headers.
PAGES = {"/console": SECURITY_HEADERS, "/portal": PORTAL_SECURITY_HEADERS}


async def console_security_headers(message: Message, scope: Scope) -> None:
    """Litestar before_send hook: adds its PAGES headers to every response under /console and /portal
    (async: Litestar runs a sync hook in a worker thread, twice for every response of every route)."""
    if message["type"] != "http.response.start":
        return
    path = scope.get("path", "")
    for page, wanted in PAGES.items():
        if path == page or path.startswith(page + "/"):
            headers = MutableScopeHeaders.from_message(message)
            for name, value in wanted.items():
                headers[name] = value
            return
