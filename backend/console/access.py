"""Who may open a console page: the session cookie names a specialist or an admin (`StaffSession`, before
any body is read), each controller names the role it is for (its `staff` guard). No session: the sign-in
page. The other role: a 403 page in words, with a link home."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.handlers import BaseRouteHandler
from litestar.response import Redirect, Template

from backend.console import sessions
from backend.console.oidc import CONSOLE_ROLES
from backend.console.said import reader
from backend.console.words import ROLE_WORDS
from backend.i18n import translate
from backend.installs.context import InstallContext
from backend.principal import Principal, Role
from backend.problems import LocalizedProblem

COOKIE = "si_console"
# Each role's first page: the queue for specialists, dispatch for operators.
HOME = {Role.SPECIALIST: "/console/queue", Role.ADMIN: "/console/jobs"}
PATH = "/console"
LOGIN = "/console/login"


class ConsoleLoginRequired(Exception):
    """No valid session cookie: go to the sign-in page."""


class ConsoleForbidden(Exception):
    """A session of another role than the page is for."""

    def __init__(self, who: Principal, needed: Role) -> None:
        super().__init__(needed.value)
        self.who = who
        self.needed = needed


def _forbidden(request: Request[Any, Any, Any], exc: ConsoleForbidden) -> Template:
    lang = reader(request)
    needed, who = translate(lang, ROLE_WORDS[exc.needed]), translate(lang, ROLE_WORDS[exc.who.role])
    text = translate(lang, "This page is only for {needed}; you are signed in as {who}.", needed=needed, who=who)
    context = {"who": exc.who, "flash": {"kind": "error", "text": text}, "home": HOME[exc.who.role]}
    return Template("forbidden.html", status_code=403, context=context)


def problem_page(request: Request[Any, Any, Any], problem: LocalizedProblem) -> Template:
    """Any other refusal under /console (an unknown case, a bad cursor, a form without its CSRF token): the
    problem catalog's words as a page for the staff member's browser, not problem+json; headers kept."""
    title, text = problem.worded(reader(request))
    user = request.scope.get("user")
    who = user if isinstance(user, Principal) else None
    home = HOME.get(who.role, LOGIN) if who else LOGIN
    context = {"who": who, "flash": None, "title": title, "text": text, "code": problem.code, "home": home}
    headers = dict(problem.headers or {})
    return Template("problem.html", status_code=problem.status_code, context=context, headers=headers)


# Every console controller answers these two the same way.
HANDLERS: dict[type[Exception], Any] = {
    ConsoleLoginRequired: lambda _r, _e: Redirect(LOGIN, status_code=303),
    ConsoleForbidden: _forbidden,
}


async def principal_of(connection: ASGIConnection[Any, Any, Any, Any], ctx: InstallContext) -> Principal | None:
    """The specialist or admin whose session the cookie names."""
    return await sessions.session_principal(connection.cookies.get(COOKIE), ctx.clock())


# Middleware of every console controller that needs a signed-in member of staff (sessions.SessionFirst:
# the session before any body is read); without one, the sign-in page.
StaffSession = sessions.session_first(COOKIE, CONSOLE_ROLES, ConsoleLoginRequired)


def staff(role: Role):  # noqa: ANN201 - a Litestar guard factory
    """A guard: the session (`StaffSession`'s) is of `role`, else the 403 page in words."""

    async def guard(connection: ASGIConnection[Any, Principal, Any, Any], _: BaseRouteHandler) -> None:
        if connection.user.role is not role:
            raise ConsoleForbidden(connection.user, role)

    return guard


def session_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE, value=value, path="/console", max_age=max_age, httponly=True, secure=True, samesite="strict"
    )
