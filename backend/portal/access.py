"""Who may open a portal page: the session cookie names a customer (the console's session machinery,
backend/console/sessions.py, in a cookie of the portal's own path). No session: the sign-in page.
A staff session never opens here: its cookie is scoped to /console, and the role is checked.

Any other refusal under /portal is a page in words too (problem_page, the app's `problem_pages`).

The reader's language: `?lang=` (the language switch, then kept in a cookie), else the cookie, else
Accept-Language (Dutch by default)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from backend.console import sessions
from backend.errors import MESSAGES, NotFound
from backend.i18n import catalogs, preferred_language
from backend.installs.context import InstallContext
from backend.principal import Principal, Role
from backend.problems import LocalizedProblem

COOKIE = "si_portal"
LANG_COOKIE = "si_lang"
PATH = "/portal"
HOME = "/portal/"
LOGIN = "/portal/login"


# Who may hold a portal session.
CUSTOMERS = frozenset({Role.CUSTOMER})


class PortalLoginRequired(Exception):
    """No customer's session: go to the sign-in page."""


def _not_found(request: Request[Any, Any, Any], exc: NotFound) -> Template:
    """Another customer's install, or none: a page in words with the 404 (a browser, not an API client,
    reads the portal); the problem's code rides along for support."""
    lang, _ = language_of(request)
    return _problem(lang, 404, exc.code, MESSAGES[exc.code].title_in(lang), exc.message(lang), {})


def problem_page(request: Request[Any, Any, Any], problem: LocalizedProblem) -> Template:
    """Any other refusal under /portal (an unknown page, a form without its CSRF token, a wrong method):
    the problem catalog's words as a page, not problem+json; its headers (Retry-After) kept."""
    lang, _ = language_of(request)
    title, text = problem.worded(lang)
    return _problem(lang, problem.status_code, problem.code, title, text, dict(problem.headers or {}))


def _problem(lang: str, status: int, code: str, title: str, text: str, headers: dict[str, str]) -> Template:
    context = {"lang": lang, "who": None, "flash": None, "title": title, "text": text, "code": code}
    return Template("portal/problem.html", status_code=status, context=context, headers=headers)


HANDLERS: dict[type[Exception], Any] = {
    PortalLoginRequired: lambda _r, _e: Redirect(LOGIN, status_code=303),
    NotFound: _not_found,
}


# Middleware of every portal controller whose pages and forms need a signed-in customer: the customer
# becomes `request.user`, and a request without a customer's session is sent to sign in before any of its
# body is received (sessions.SessionFirst, as the console's StaffSession).
CustomerSession = sessions.session_first(COOKIE, CUSTOMERS, PortalLoginRequired)


async def principal_of(request: Request[Any, Any, Any], ctx: InstallContext) -> Principal | None:
    """The customer whose portal session the cookie names (None for none, or for any other role)."""
    who = await sessions.session_principal(request.cookies.get(COOKIE), ctx.clock())
    return who if who is not None and who.role in CUSTOMERS else None


def session_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(key=COOKIE, value=value, path=PATH, max_age=max_age, httponly=True, secure=True, samesite="strict")


def language_of(request: Request[Any, Any, Any]) -> tuple[str, Cookie | None]:
    """The page's language, and the cookie that keeps a language the reader just switched to."""
    offered = catalogs().languages
    chosen = request.query_params.get("lang")
    if chosen in offered:
        year = 365 * 24 * 3600
        return chosen, Cookie(key=LANG_COOKIE, value=chosen, path=PATH, max_age=year, secure=True, samesite="lax")
    kept = request.cookies.get(LANG_COOKIE)
    if kept in offered:
        return kept, None
    return preferred_language(request.headers.get("accept-language")), None
