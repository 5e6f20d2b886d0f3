"""Who may touch an install through /mobile/v1: the connection's owner and the installer whose job it is
only; nobody else learns it exists.

One install (started by an installer from their job at a customer's connection, with an asset scanned and a
photo uploaded) is the target of every refused request. After each refused request the owner reads it back, and it
must be exactly as it was: a refusal that still wrote something fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from httpx import AsyncClient

from backend.installs import repository as repo
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party
from tests.mobile_api.helpers import create


@dataclass
class Target:
    owner: Party
    installer: Party
    install_id: str
    photo_id: int
    spare_payload: str  # an in-stock asset's label, for scan attempts
    photo: bytes  # a photo not yet uploaded, for upload attempts
    baseline: dict[str, Any]
    events: int


def _fingerprint(view: dict[str, Any]) -> dict[str, Any]:
    """Everything a write could change."""
    return {
        k: view[k]
        for k in ("state", "version", "updated_at", "asset", "location", "reasons", "retake_count", "decisions")
    } | {"photos": [(p["id"], p["slot"], p["sha256"]) for p in view["photos"]]}


async def _create(client: AsyncClient, who: Party, ean: str, asset_type: str = "smart_meter_1p") -> str:
    r = await create(client, who, ean, asset_type)  # an installer's: from a job of theirs
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture(scope="module")
async def target(client: AsyncClient, settings: Settings) -> Target:
    make = Factory(settings)
    owner, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
    ean = await make.connection(owner=owner.subject)
    serial, payload = await make.asset()
    install_id = await _create(client, installer, ean)
    r = await client.post(
        f"/mobile/v1/installs/{install_id}/scan", json={"payload": payload}, headers=installer.headers
    )
    assert r.status_code == 200, r.text
    r = await client.put(
        f"/mobile/v1/installs/{install_id}/photos/cabinet_overview",
        content=make.photo("cabinet_overview", serial=serial),
        headers={**installer.headers, "Content-Type": "image/jpeg"},
    )
    assert r.status_code == 201, r.text
    photo_id = r.json()["photo"]["id"]
    _, spare_payload = await make.asset()
    r = await client.get(f"/mobile/v1/installs/{install_id}", headers=owner.headers)
    assert r.status_code == 200, r.text
    events = len(await repo.events_of(uuid.UUID(install_id)))
    return Target(
        owner,
        installer,
        install_id,
        photo_id,
        spare_payload,
        make.photo("meter_display", serial=serial),
        _fingerprint(r.json()),
        events,
    )


# --- the endpoints -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # {id} and {photo} are filled in
    body: Callable[[Target], dict[str, Any]]
    writes: bool


def _no_body(_: Target) -> dict[str, Any]:
    return {}


ENDPOINTS = [
    Endpoint("get", "GET", "/mobile/v1/installs/{id}", _no_body, writes=False),
    Endpoint("scan", "POST", "/mobile/v1/installs/{id}/scan", lambda t: {"json": {"payload": t.spare_payload}}, True),
    Endpoint("location", "POST", "/mobile/v1/installs/{id}/location", lambda t: {"json": Factory.fix()}, True),
    Endpoint(
        "photo_put",
        "PUT",
        "/mobile/v1/installs/{id}/photos/meter_display",
        lambda t: {"content": t.photo, "headers_extra": {"Content-Type": "image/jpeg"}},
        True,
    ),
    Endpoint("photo_get", "GET", "/mobile/v1/installs/{id}/photos/{photo}", _no_body, writes=False),
    Endpoint("submit", "POST", "/mobile/v1/installs/{id}/submit", _no_body, writes=True),
    Endpoint("help", "POST", "/mobile/v1/installs/{id}/help", lambda t: {"json": {"message": "help"}}, True),
    Endpoint("list", "GET", "/mobile/v1/installs?limit=100", _no_body, writes=False),
]
INSTALL_ENDPOINTS = [e for e in ENDPOINTS if e.name != "list"]
LIST = ENDPOINTS[-1]


async def _send(client: AsyncClient, endpoint: Endpoint, t: Target, headers: dict[str, str]) -> httpx.Response:
    path = endpoint.path.format(id=t.install_id, photo=t.photo_id)
    kwargs = endpoint.body(t)
    extra = kwargs.pop("headers_extra", {})
    return await client.request(endpoint.method, path, headers={**headers, **extra}, **kwargs)


def _ids(endpoint: Endpoint) -> str:
    return endpoint.name


def _assert_problem(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


async def _assert_unchanged(client: AsyncClient, t: Target) -> None:
    r = await client.get(f"/mobile/v1/installs/{t.install_id}", headers=t.owner.headers)
    assert r.status_code == 200, r.text
    assert _fingerprint(r.json()) == t.baseline
    assert len(await repo.events_of(uuid.UUID(t.install_id))) == t.events


# --- tokens ------------------------------------------------------------------------------------


def _raw_token(
    settings: Settings,
    sub: str,
    *,
    role: str | None = "customer",
    expires_in: timedelta = timedelta(hours=1),
    secret: str | None = None,
    algorithm: str = "HS256",
) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int((now - timedelta(hours=2)).timestamp()),
        "exp": int((now + expires_in).timestamp()),
    }
    if role is not None:
        claims["extras"] = {"role": role}
    return jwt.encode(claims, None if algorithm == "none" else (secret or settings.jwt_secret), algorithm=algorithm)


# Every bad credential names the owner, so a check that fails open would answer 200, not 401.
BAD_CREDENTIALS: dict[str, Callable[[Settings, str], dict[str, str]]] = {
    "no_token": lambda s, sub: {},
    "garbage": lambda s, sub: {"Authorization": "Bearer not.a.jwt"},
    "not_bearer": lambda s, sub: {"Authorization": _raw_token(s, sub)},
    "expired": lambda s, sub: {"Authorization": f"Bearer {_raw_token(s, sub, expires_in=timedelta(minutes=-5))}"},
    "wrong_secret": lambda s, sub: {
        "Authorization": f"Bearer {_raw_token(s, sub, secret='another-secret-of-sufficient-length-0123456789')}"
    },
    "alg_none": lambda s, sub: {"Authorization": f"Bearer {_raw_token(s, sub, algorithm='none')}"},
    "unknown_role": lambda s, sub: {"Authorization": f"Bearer {_raw_token(s, sub, role='superuser')}"},
    "no_role": lambda s, sub: {"Authorization": f"Bearer {_raw_token(s, sub, role=None)}"},
}


class TestCraftedTokenControl:
    """The crafted tokens differ from a good one only in the broken property."""

    async def test_well_formed_crafted_token_is_accepted(
        self, client: AsyncClient, target: Target, settings: Settings
    ) -> None:
        headers = {"Authorization": f"Bearer {_raw_token(settings, target.owner.subject)}"}
        r = await client.get(f"/mobile/v1/installs/{target.install_id}", headers=headers)
        assert r.status_code == 200, r.text


# --- the behaviours ----------------------------------------------------------------------------


class TestRightfulPartiesSeeTheInstall:
    """The control: the refusals below are about the caller, not a broken install."""

    @pytest.mark.parametrize("who", ["owner", "installer"])
    @pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if not e.writes], ids=_ids)
    async def test_owner_and_assigned_installer_may_read(
        self, client: AsyncClient, target: Target, who: str, endpoint: Endpoint
    ) -> None:
        r = await _send(client, endpoint, target, getattr(target, who).headers)
        assert r.status_code == 200, r.text
        if endpoint.name == "list":
            assert target.install_id in [i["id"] for i in r.json()["items"]]
        elif endpoint.name == "get":
            assert r.json()["id"] == target.install_id
        else:
            assert r.headers["content-type"] == "image/jpeg" and r.content[:2] == b"\xff\xd8"


class TestOutsidersGetNotFound:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER])
    @pytest.mark.parametrize("endpoint", INSTALL_ENDPOINTS, ids=_ids)
    async def test_other_party_gets_404_and_nothing_changes(
        self, client: AsyncClient, make: Factory, target: Target, role: Role, endpoint: Endpoint
    ) -> None:
        outsider = make.party(role)
        r = await _send(client, endpoint, target, outsider.headers)
        _assert_problem(r, 404, "install/not-found")
        await _assert_unchanged(client, target)

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER])
    async def test_other_party_does_not_list_it(
        self, client: AsyncClient, make: Factory, target: Target, role: Role
    ) -> None:
        outsider = make.party(role)
        r = await _send(client, LIST, target, outsider.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"items": [], "next_cursor": None}

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER])
    async def test_party_of_another_connection_gets_404(
        self, client: AsyncClient, make: Factory, target: Target, role: Role
    ) -> None:
        """A job at (or owning) some connection is not enough: it must be this install's."""
        outsider = make.party(role)
        owner = outsider if role is Role.CUSTOMER else target.owner
        own_install = await _create(client, outsider, await make.connection(owner=owner.subject))
        r = await client.get(f"/mobile/v1/installs/{target.install_id}", headers=outsider.headers)
        _assert_problem(r, 404, "install/not-found")
        r = await client.get("/mobile/v1/installs", headers=outsider.headers)
        assert [i["id"] for i in r.json()["items"]] == [own_install]

    async def test_photo_of_another_install_via_own_install_is_404(
        self, client: AsyncClient, make: Factory, target: Target
    ) -> None:
        outsider = make.party(Role.CUSTOMER)
        own_install = await _create(client, outsider, await make.connection(owner=outsider.subject))
        r = await client.get(f"/mobile/v1/installs/{own_install}/photos/{target.photo_id}", headers=outsider.headers)
        _assert_problem(r, 404, "install/not-found")


class TestStaffRolesAreForbiddenOnMobile:
    @pytest.mark.parametrize("role", [Role.SPECIALIST, Role.ADMIN])
    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
    async def test_specialist_and_admin_get_403(
        self, client: AsyncClient, make: Factory, target: Target, role: Role, endpoint: Endpoint
    ) -> None:
        r = await _send(client, endpoint, target, make.party(role).headers)
        _assert_problem(r, 403, "auth/forbidden")
        await _assert_unchanged(client, target)


class TestBadCredentialsAreUnauthenticated:
    @pytest.mark.parametrize("credential", list(BAD_CREDENTIALS))
    @pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_ids)
    async def test_401_and_nothing_changes(
        self, client: AsyncClient, settings: Settings, target: Target, credential: str, endpoint: Endpoint
    ) -> None:
        headers = BAD_CREDENTIALS[credential](settings, target.owner.subject)
        r = await _send(client, endpoint, target, headers)
        _assert_problem(r, 401, "auth/unauthenticated")
        await _assert_unchanged(client, target)


class TestCustomerSeesInstallerCreatedInstall:
    async def test_install_created_by_installer_is_visible_to_connection_owner(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=customer.subject)
        install_id = await _create(client, installer, ean)
        r = await client.get(f"/mobile/v1/installs/{install_id}", headers=customer.headers)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == install_id and r.json()["connection"]["ean"] == ean
        r = await client.get("/mobile/v1/installs", headers=customer.headers)
        assert [i["id"] for i in r.json()["items"]] == [install_id]
        other = make.party(Role.CUSTOMER)
        r = await client.get(f"/mobile/v1/installs/{install_id}", headers=other.headers)
        _assert_problem(r, 404, "install/not-found")
