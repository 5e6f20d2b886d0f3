"""The portal signs a customer in through a real (local) OpenID Connect provider: the console's flow
with the portal's own attempt cookie and callback, admitting customers only."""

from __future__ import annotations

import httpx

from backend.console import oidc
from backend.portal import signin
from tests.console.test_oidc import ORIGIN, _authorize, _console, _provider_env, _set_cookies, _user
from tests.helpers.oidc_provider import LocalProvider

CUSTOMER = {"realm_access": {"roles": ["customer"]}}


async def _signed_in(portal: httpx.AsyncClient, provider: LocalProvider, claims: dict[str, object]) -> httpx.Response:
    """Press the portal's sign-in button, pick the account at the provider, come back."""
    started = await portal.get("/portal/oidc/start")
    assert started.status_code == 303, started.text
    assert "path=/portal/oidc" in _set_cookies(started)[oidc.ATTEMPT_COOKIE].lower()
    callback = _authorize(started.headers["location"], _user(provider, claims))
    assert callback.startswith(ORIGIN + signin.CALLBACK_PATH), callback
    return await portal.get(callback.removeprefix(ORIGIN), headers={"Accept-Language": "en"})


class TestProviderSignIn:
    async def test_a_customer_signs_in_and_sees_their_home(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        async with _console(_provider_env(oidc_provider.url)) as portal:
            login = await portal.get("/portal/login")
            assert 'id="provider-sign-in"' in login.text and "cust-anna" not in login.text  # no demo beside it
            r = await _signed_in(portal, oidc_provider, CUSTOMER)
            assert r.status_code == 200 and 'content="0; url=/portal/"' in r.text, r.text
            cookies = _set_cookies(r)
            session = cookies["si_portal"].lower()
            assert "httponly" in session and "secure" in session and "samesite=strict" in session
            assert "path=/portal" in session and "max-age=0" in cookies[oidc.ATTEMPT_COOKIE].lower()
            home = await portal.get("/portal/", headers={"Accept-Language": "en"})
            assert home.status_code == 200 and "What is going on for me" in home.text
            assert (await portal.get("/console/queue")).status_code == 303  # no console session from it

    async def test_staff_are_sent_to_the_console(self, client: httpx.AsyncClient, oidc_provider: LocalProvider) -> None:
        async with _console(_provider_env(oidc_provider.url)) as portal:
            r = await _signed_in(portal, oidc_provider, {"realm_access": {"roles": ["specialist"]}})
        assert r.status_code == 403 and "staff sign in to the console" in r.text
        assert "si_portal" not in _set_cookies(r)

    async def test_a_callback_not_begun_in_this_browser_is_refused(
        self, client: httpx.AsyncClient, oidc_provider: LocalProvider
    ) -> None:
        env = _provider_env(oidc_provider.url)
        async with _console(env) as attacker, _console(env) as victim:
            started = await attacker.get("/portal/oidc/start")
            callback = _authorize(started.headers["location"], _user(oidc_provider, CUSTOMER))
            r = await victim.get(callback.removeprefix(ORIGIN))
        assert r.status_code == 400 and "si_portal" not in _set_cookies(r)
        assert "Deze aanmelding is verlopen" in r.text
