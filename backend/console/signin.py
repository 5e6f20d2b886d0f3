"""/console/oidc: the console's sign-in through the identity provider (backend/console/oidc.py).
Routed only when a provider sign-in is configured (OIDC_ISSUER and OIDC_CLIENT_ID)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from backend.console import oidc, sessions
from backend.console.access import HOME, session_cookie
from backend.console.said import reader
from backend.errors import Unavailable
from backend.i18n import translate
from backend.installs.context import InstallContext
from backend.principal import Principal
from backend.settings import OidcSettings


def _redirect_url(request: Request[Any, Any, Any], provider: OidcSettings) -> str:
    """Where the provider sends the browser back: OIDC_REDIRECT_URL, else this server's callback."""
    return provider.redirect_url or str(request.base_url).rstrip("/") + oidc.CALLBACK_PATH


def _attempt_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        key=oidc.ATTEMPT_COOKIE,
        value=value,
        path=oidc.ATTEMPT_PATH,
        max_age=max_age,
        httponly=True,
        secure=True,
        samesite="lax",  # Strict would not come back on the provider's (cross-site) redirect
    )


def _failed(request: Request[Any, Any, Any], status: int, msgid: str) -> Template:
    text = translate(reader(request), msgid)
    context = {"who": None, "flash": {"kind": "error", "text": text}, "provider": True, "paste": False}
    return Template("login.html", status_code=status, context=context)


class ConsoleSignInController(Controller):
    path = oidc.ATTEMPT_PATH
    include_in_schema = False

    @get("/start")
    async def start(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext]
    ) -> Response[Any]:
        """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""
        provider, discovery = oidc.provider_sign_in(ctx.settings), state.verifier.provider.discovery
        assert provider is not None and discovery is not None
        try:
            url, attempt = await oidc.begin(provider, discovery, _redirect_url(request, provider))
        except Unavailable:
            return _failed(request, 503, oidc.UNREACHABLE)
        sealed = oidc.seal(ctx.settings, attempt, ctx.clock())
        max_age = int(oidc.ATTEMPT_TTL.total_seconds())
        return Redirect(url, status_code=303, cookies=[_attempt_cookie(sealed, max_age)])

    @get("/callback")
    async def callback(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext]
    ) -> Response[Any]:
        """The provider's redirect back: check it, open a console session, go to the role's first page."""
        provider, discovery = oidc.provider_sign_in(ctx.settings), state.verifier.provider.discovery
        assert provider is not None and discovery is not None
        attempt = oidc.unseal(ctx.settings, request.cookies.get(oidc.ATTEMPT_COOKIE), ctx.clock())
        params = {key: request.query_params[key] for key in ("code", "state", "error") if key in request.query_params}
        spent = _attempt_cookie("", 0)  # an attempt is used once, whatever its outcome
        try:
            token = await oidc.finish(state.verifier, discovery, attempt, params, _redirect_url(request, provider))
        except oidc.SignInFailed as failed:
            response = _failed(request, failed.status, failed.text)
            response.cookies.append(spent)
            return response
        now = ctx.clock()
        role = state.verifier.role(token)
        assert role is not None, "oidc.finish admits only the console's roles"
        who = Principal(subject=token.sub, role=role)
        session = await sessions.open_session(who, now, now + timedelta(seconds=provider.console_session_s))
        # A page, not a redirect: the browser arrived by a cross-site navigation, and a redirect from
        # it would not carry the SameSite=Strict session cookie; a navigation from our own page does.
        return Template(
            "signed_in.html",
            context={"who": None, "flash": None, "home": HOME[role]},
            cookies=[session_cookie(session, provider.console_session_s), spent],
        )
