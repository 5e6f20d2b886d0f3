"""A real OpenID Connect provider on a free local port: oidc-provider-mock (Authlib's provider code
in a Flask app) served by werkzeug from a thread of the test process; no internet.

Three additions make it behave like a provider seen from outside: its ID tokens name their key
(`kid`, as Keycloak's, Entra's and every other real provider's do; the mock leaves it out), it keeps
a log of the requests it served (the JWKS fetches, the authorization and token requests with their
PKCE parameters), and it can rotate its signing key as a real provider does."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import flask
import httpx
import oidc_provider_mock
import oidc_provider_mock._app as provider_internals
import werkzeug.serving

CLIENT_ID = "selfinstall-console"
CLIENT_SECRET = "local-provider-accepts-any-secret"
API_CLIENT_REDIRECT = "http://client.invalid/callback"  # never followed: the code is read from it


@dataclass(frozen=True, slots=True)
class Served:
    """One request the provider answered."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]


class _Recorder:
    """WSGI middleware keeping what the provider was asked (the body is read once and handed on)."""

    def __init__(self, app: flask.Flask) -> None:
        self.app = app
        self.served: list[Served] = []

    def __call__(self, environ: dict, start_response):  # noqa: ANN204 - the WSGI signature
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        form = parse_qs(body.decode()) if "form-urlencoded" in environ.get("CONTENT_TYPE", "") else {}
        query = parse_qs(environ.get("QUERY_STRING", ""))
        self.served.append(Served(environ["REQUEST_METHOD"], environ["PATH_INFO"], query, form))
        return self.app(environ, start_response)


@dataclass
class LocalProvider:
    url: str  # also its issuer (the provider names itself by the host it is asked at)
    recorder: _Recorder = field(repr=False)
    stop: Callable[[], None] = field(repr=False)  # an outage: it answers nothing from now on

    @property
    def issuer(self) -> str:
        return self.url

    def served(self, path: str) -> list[Served]:
        return [s for s in self.recorder.served if s.path == path]

    def set_user(self, sub: str, claims: dict[str, object]) -> None:
        """The claims the provider puts in this user's ID tokens (besides the registered ones)."""
        assert httpx.put(f"{self.url}/users/{sub}", json=claims).status_code == 204

    def rotate_key(self) -> None:
        """A new signing key; the JWKS publishes only it from now on."""
        assert httpx.post(f"{self.url}/test/rotate-key").status_code == 204

    def id_token(self, sub: str, client_id: str = CLIENT_ID, *, asked_at: str | None = None) -> str:
        """An ID token for `sub`, through the provider's own authorization code flow. `asked_at`
        (a host:port) makes the provider name another issuer, signing with the same key."""
        headers = {"Host": asked_at} if asked_at else {}
        with httpx.Client(base_url=self.url, headers=headers) as c:
            params = {
                "client_id": client_id,
                "redirect_uri": API_CLIENT_REDIRECT,
                "response_type": "code",
                "scope": "openid",
                "nonce": "test-nonce",
                "state": "test-state",
            }
            r = c.post("/oauth2/authorize", params=params, data={"sub": sub})
            assert r.status_code == 302, r.text
            code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": API_CLIENT_REDIRECT}
            r = c.post("/oauth2/token", data=form, auth=(client_id, CLIENT_SECRET))
            assert r.status_code == 200, r.text
            return str(r.json()["id_token"])


def _name_the_key() -> None:
    """Make the provider's ID tokens carry the key id its JWKS publishes (once per process)."""
    code_class = provider_internals.OpenIDCode
    if getattr(code_class, "names_its_key", False):
        return
    plain = code_class.get_jwt_config

    def get_jwt_config(self, grant, client=None):  # noqa: ANN001, ANN202 - Authlib's hook
        return {**plain(self, grant, client), "kid": flask.g.oidc_provider_mock_storage.jwk.thumbprint()}

    code_class.get_jwt_config = get_jwt_config
    code_class.names_its_key = True


def _provider_app() -> flask.Flask:
    _name_the_key()
    app = oidc_provider_mock.app(require_nonce=True)

    @app.post("/test/rotate-key")
    def rotate_key() -> tuple[str, int]:
        storage = flask.g.oidc_provider_mock_storage  # the provider's own state, set per request
        storage.jwk = type(storage.jwk).generate_key(is_private=True)
        return "", 204

    return app


@contextmanager
def local_provider() -> Iterator[LocalProvider]:
    """The provider on 127.0.0.1 and a free port, for as long as the block runs."""
    recorder = _Recorder(_provider_app())
    server = werkzeug.serving.make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield LocalProvider(f"http://127.0.0.1:{server.server_port}", recorder, server.shutdown)
    finally:
        server.shutdown()  # returns at once when `stop` already ended serving
        thread.join(timeout=10)
        server.server_close()
