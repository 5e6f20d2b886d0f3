"""/portal/oidc: the customers' sign-in through the identity provider, the console's OpenID Connect code
flow (backend/console/oidc.py) with the portal's own attempt cookie and callback, admitting customers
only. Routed only when a provider sign-in is configured (OIDC_ISSUER and OIDC_CLIENT_ID); the provider
must accept <this server>/portal/oidc/callback as a redirect URL of the client."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from backend.console import oidc, sessions
from backend.errors import Unavailable
from backend.i18n import N_, translate
from backend.installs.context import InstallContext
from backend.portal.access import CUSTOMERS, PATH, language_of, session_cookie
from backend.principal import Principal, Role

ATTEMPT_PATH = PATH + "/oidc"
CALLBACK_PATH = ATTEMPT_PATH + "/callback"
CUSTOMERS_ONLY = N_("This portal is for customers; staff sign in to the console.")


def _attempt_cookie(value: str, max_age: int) -> Cookie:
    return Cookie(
        key=oidc.ATTEMPT_COOKIE,
        value=value,
        path=ATTEMPT_PATH,
        max_age=max_age,
        httponly=True,
        secure=True,
        samesite="lax",  # it must come back on the provider's (cross-site) redirect
    )


def _failed(request: Request[Any, Any, Any], status: int, text: str) -> Template:
    lang, _ = language_of(request)
    flash = {"kind": "error", "text": translate(lang, text)}
    context = {"lang": lang, "who": None, "flash": flash, "provider": True, "demo": ()}
    return Template("portal/login.html", status_code=status, context=context)


def _redirect_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/") + CALLBACK_PATH


class PortalSignInController(Controller):
    path = ATTEMPT_PATH
    include_in_schema = False

    @get("/start")
    async def start(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext]
    ) -> Response[Any]:
        """Send the browser to the provider with a fresh state, nonce and PKCE challenge."""
        provider, discovery = oidc.provider_sign_in(ctx.settings), state.verifier.provider.discovery
        assert provider is not None and discovery is not None
        try:
            url, attempt = await oidc.begin(provider, discovery, _redirect_url(request))
        except Unavailable:
            return _failed(request, 503, oidc.UNREACHABLE)
        sealed = oidc.seal(ctx.settings, attempt, ctx.clock())
        return Redirect(url, status_code=303, cookies=[_attempt_cookie(sealed, int(oidc.ATTEMPT_TTL.total_seconds()))])

    @get("/callback")
    async def callback(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext]
    ) -> Response[Any]:
        """The provider's redirect back: check it, open a customer's session, go home."""
        provider = oidc.provider_sign_in(ctx.settings)
        discovery = state.verifier.provider.discovery
        assert provider is not None and discovery is not None
        attempt = oidc.unseal(ctx.settings, request.cookies.get(oidc.ATTEMPT_COOKIE), ctx.clock())
        params = {key: request.query_params[key] for key in ("code", "state", "error") if key in request.query_params}
        spent = _attempt_cookie("", 0)  # an attempt is used once, whatever its outcome
        try:
            token = await oidc.finish(
                state.verifier, discovery, attempt, params, _redirect_url(request), CUSTOMERS, CUSTOMERS_ONLY
            )
        except oidc.SignInFailed as failed:
            response = _failed(request, failed.status, failed.text)
            response.cookies.append(spent)
            return response
        now = ctx.clock()
        who = Principal(subject=token.sub, role=Role.CUSTOMER)
        session = await sessions.open_session(who, now, now + timedelta(seconds=provider.console_session_s))
        lang, _ = language_of(request)
        # A page, not a redirect: the SameSite=Strict session cookie does not ride a redirect that
        # follows the provider's cross-site navigation; a navigation from our own page carries it.
        return Template(
            "portal/signed_in.html",
            context={"lang": lang, "who": None, "flash": None},
            cookies=[session_cookie(session, provider.console_session_s), spent],
        )
