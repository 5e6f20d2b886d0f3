"""Safe by default: outside development the service refuses to start with a development secret."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from backend.app import create_app
from backend.auth import issue_token
from backend.principal import Role
from backend.settings import (
    DEV_CSRF_SECRET,
    DEV_JWT_SECRET,
    DEV_QR_KEYS,
    DEV_UNSUBSCRIBE_SECRET,
    DEV_WEBHOOK_SECRET,
    MAKE_A_SECRET,
    InsecureStart,
    Settings,
    check_production_ready,
    is_loopback,
    load_settings,
)

SCRIPT = Path(sys.executable).parent / "selfinstall"
# What an operator sets in production: every secret its own, none from the repository, and the public
# https address the links in our e-mail point to.
PRODUCTION_ENV = {
    "PUBLIC_URL": "https://aansluiten.netbeheerder.example",
    "JWT_SECRET": "prod-jwt-7Qm2vX9pLr4tKw8zN3bH6cJ1dF5gS0aY",
    "QR_KEYS": "K2:prod-qr-Vt5nB8mQ2xR7cL4wZ9kP1sD6fG3hJ0aE",
    "WEBHOOK_SECRET": "prod-webhook-Hs3kL8pQ1wE6rT9yU2iO5aZ7xC4vB0nM",
    "CSRF_SECRET": "prod-csrf-Ny6tR1mK9wQ4zX7cV2bL5sD8fG3hJ0aP",
    "UNSUBSCRIBE_SECRET": "prod-unsub-Wq3eR5tY7uI9oP1aS3dF5gH7jK9lZ2xC",
}
DEVELOPMENT_VALUES = {
    "JWT_SECRET": DEV_JWT_SECRET,
    "QR_KEYS": DEV_QR_KEYS,
    "WEBHOOK_SECRET": DEV_WEBHOOK_SECRET,
    "CSRF_SECRET": DEV_CSRF_SECRET,
    "UNSUBSCRIBE_SECRET": DEV_UNSUBSCRIBE_SECRET,
}


def _production(**overrides: str) -> Settings:
    return load_settings({"SELFINSTALL_ENV": "production", **PRODUCTION_ENV, **overrides})


def _refusal(settings: Settings, host: str | None = None) -> str:
    with pytest.raises(InsecureStart) as refused:
        check_production_ready(settings, host)
    return str(refused.value)


def _named(message: str) -> set[str]:
    """The variables the refusal lists, one per indented line."""
    return {line.split()[0] for line in message.splitlines() if line.startswith("  ")}


class TestDevelopmentNeedsNoConfiguration:
    def test_zero_configuration_is_development_and_starts(self) -> None:
        """`make run`: nothing set, loopback address, development secrets allowed."""
        settings = load_settings({})
        assert settings.is_development() and settings.insecure_secrets()
        check_production_ready(settings)

    def test_development_may_be_chosen_on_a_public_address(self) -> None:
        check_production_ready(load_settings({"SELFINSTALL_ENV": "development", "HOST": "0.0.0.0"}))

    def test_an_unknown_environment_is_refused(self) -> None:
        with pytest.raises(ValueError, match="SELFINSTALL_ENV"):
            load_settings({"SELFINSTALL_ENV": "prod"})


class TestProductionRefusesDevelopmentSecrets:
    def test_real_secrets_start(self) -> None:
        """The control: the refusals below are about the one secret each leaves at its default."""
        settings = _production()
        check_production_ready(settings)
        app = create_app(settings)
        assert isinstance(app, Litestar)
        app.state.ctx.cpu.shutdown()

    @pytest.mark.parametrize("variable", sorted(DEVELOPMENT_VALUES))
    def test_each_development_secret_is_refused(self, variable: str) -> None:
        env = {"SELFINSTALL_ENV": "production", **PRODUCTION_ENV}
        del env[variable]  # unset: the embedded development default applies
        message = _refusal(load_settings(env))
        assert _named(message) == {variable}
        assert MAKE_A_SECRET in message

    @pytest.mark.parametrize("variable", sorted(DEVELOPMENT_VALUES))
    def test_the_development_value_set_explicitly_is_refused_by_create_app(self, variable: str) -> None:
        """create_app refuses too, so another ASGI server cannot start the app with it either."""
        with pytest.raises(InsecureStart, match=variable):
            create_app(_production(**{variable: DEVELOPMENT_VALUES[variable]}))

    @pytest.mark.parametrize("variable", ["JWT_SECRET", "WEBHOOK_SECRET", "CSRF_SECRET"])
    def test_a_short_secret_is_refused(self, variable: str) -> None:
        message = _refusal(_production(**{variable: "short-but-not-default"}))
        assert _named(message) == {variable} and "shorter than 32" in message

    def test_keeping_the_development_qr_key_for_verification_is_refused(self) -> None:
        """Anyone can sign labels with K1 while it still verifies."""
        message = _refusal(_production(QR_KEYS=f"{PRODUCTION_ENV['QR_KEYS']},{DEV_QR_KEYS}"))
        assert "QR_KEYS (K1)" in message and "QR_KEYS (K2)" not in message

    def test_every_development_secret_is_listed_at_once(self) -> None:
        assert _named(_refusal(load_settings({"SELFINSTALL_ENV": "production"}))) == {
            "JWT_SECRET",
            "QR_KEYS",
            "WEBHOOK_SECRET",
            "CSRF_SECRET",
            "UNSUBSCRIBE_SECRET",
        }

    @pytest.mark.parametrize(
        "url",
        ["http://aansluiten.netbeheerder.example", "https://127.0.0.1:8000", "https://localhost", "https://0.0.0.0"],
    )
    def test_with_email_a_public_url_no_customer_reaches_safely_is_refused(self, url: str) -> None:
        """The links in our e-mail (unsubscribe, an address check) would be plain http or this machine."""
        message = _refusal(_production(PUBLIC_URL=url, SMTP_HOST="smtp.netbeheerder.example"))
        assert _named(message) == {"PUBLIC_URL"} and url in message

    def test_with_email_and_no_public_url_the_served_address_is_refused(self) -> None:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PUBLIC_URL"}
        settings = load_settings({**env, "SELFINSTALL_ENV": "production", "HOST": "0.0.0.0", "SMTP_HOST": "smtp.x"})
        assert "http://0.0.0.0:8000" in _refusal(settings)

    def test_without_email_no_link_leaves_so_public_url_is_not_asked_for(self) -> None:
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != "PUBLIC_URL"}
        check_production_ready(load_settings({**env, "SELFINSTALL_ENV": "production", "HOST": "0.0.0.0"}))

    def test_a_public_key_is_not_judged_as_a_secret(self) -> None:
        """With an identity provider JWT_SECRET is its PEM public key: public by design."""
        settings = _production(
            JWT_ALGORITHM="RS256", JWT_SECRET="-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----"
        )
        check_production_ready(settings)


class TestTheAddressDecides:
    @pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
    def test_loopback_addresses(self, host: str) -> None:
        assert is_loopback(host)

    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.org", ""])
    def test_other_addresses_are_production(self, host: str) -> None:
        assert not is_loopback(host)
        assert "JWT_SECRET" in _named(_refusal(load_settings({"HOST": host or "0.0.0.0"}), host or None))

    def test_explicit_production_on_loopback_is_production(self) -> None:
        assert "JWT_SECRET" in _named(_refusal(load_settings({"SELFINSTALL_ENV": "production"})))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TestServe:
    """`selfinstall serve` as an operator runs it."""

    def test_a_public_address_with_development_secrets_is_refused_before_binding(self) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "SELFINSTALL_ENV"}
        done = subprocess.run(
            [str(SCRIPT), "serve", "--host", "0.0.0.0", "--port", str(port)],
            env=env,
            capture_output=True,
            timeout=60,
        )
        err = done.stderr.decode()
        assert done.returncode != 0
        assert {"JWT_SECRET", "QR_KEYS", "WEBHOOK_SECRET", "CSRF_SECRET"} <= _named(err), err
        assert "0.0.0.0 is not a loopback address" in err and MAKE_A_SECRET in err
        with socket.socket() as probe:  # nothing was left listening
            probe.bind(("0.0.0.0", port))

    def test_production_with_real_secrets_serves(self) -> None:
        port = _free_port()
        env = {**os.environ, **PRODUCTION_ENV, "SELFINSTALL_ENV": "production"}
        proc = subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 60
            while True:  # wait for readiness (not a timing assertion: fails only if it never comes up)
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


class TestIdentityProviderSettings:
    KEYCLOAK = {
        "OIDC_ISSUER": "https://login.grid.example/realms/grid",
        "OIDC_CLIENT_ID": "selfinstall-console",
        "OIDC_CLIENT_SECRET": "from-the-provider",
        "JWT_AUDIENCE": "selfinstall-api",
        "ROLE_CLAIM": "realm_access.roles",
    }

    def test_none_by_default(self) -> None:
        settings = load_settings({})
        assert settings.oidc is None and settings.jwt_algorithm == "HS256" and settings.role_claim == "role"

    def test_a_provider_sets_the_issuer_the_algorithm_and_its_discovery_document(self) -> None:
        settings = load_settings(self.KEYCLOAK)
        assert settings.jwt_issuer == self.KEYCLOAK["OIDC_ISSUER"] and settings.jwt_algorithm == "RS256"
        assert settings.oidc is not None and settings.oidc.console_sign_in
        assert settings.oidc.discovery == "https://login.grid.example/realms/grid/.well-known/openid-configuration"

    def test_jwks_url_alone_verifies_api_tokens_without_a_console_sign_in(self) -> None:
        settings = load_settings({"JWKS_URL": "https://keys.example/jwks", "JWT_ISSUER": "https://issuer.example"})
        assert settings.oidc is not None and not settings.oidc.console_sign_in and settings.oidc.discovery is None
        assert settings.jwt_issuer == "https://issuer.example"

    def test_role_map_names_may_contain_colons(self) -> None:
        settings = load_settings({"ROLE_MAP": "urn:grid:reviewer:specialist, Selfinstall.Admin:admin"})
        assert settings.role_map == {"urn:grid:reviewer": "specialist", "Selfinstall.Admin": "admin"}

    @pytest.mark.parametrize(
        "env, named",
        [
            ({**KEYCLOAK, "JWT_ALGORITHM": "HS256"}, "JWT_ALGORITHM"),  # a public key as an HMAC secret
            ({"OIDC_CLIENT_ID": "console"}, "OIDC_ISSUER"),
            (
                {"JWKS_URL": "https://keys.example/jwks", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
                "OIDC_ISSUER",
            ),
            ({k: v for k, v in KEYCLOAK.items() if k != "OIDC_CLIENT_SECRET"}, "OIDC_CLIENT_SECRET"),
            ({"ROLE_MAP": "reviewer:superuser"}, "ROLE_MAP"),
            ({"ROLE_CLAIM": "realm_access..roles"}, "ROLE_CLAIM"),
            ({**KEYCLOAK, "JWKS_CACHE_S": "0"}, "JWKS_CACHE_S"),
        ],
    )
    def test_a_configuration_that_cannot_work_is_refused_at_start(self, env: dict[str, str], named: str) -> None:
        with pytest.raises(ValueError, match=named):
            load_settings(env)

    def test_no_development_tokens_once_a_provider_issues_them(self) -> None:
        with pytest.raises(ValueError, match="identity provider"):
            issue_token(load_settings(self.KEYCLOAK), "someone", Role.ADMIN, timedelta(minutes=5))
