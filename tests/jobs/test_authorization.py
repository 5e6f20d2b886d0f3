"""Who may do what with jobs, per role and endpoint, and the installer/customer separation (issue 13):
an installer sees only their jobs' installs, never the customer's own self-install or its help message,
and only an install's creator may cancel it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import AsyncClient, Response

from backend.principal import Role
from tests.factories import Factory, Party
from tests.jobs.helpers import JOBS, MY_JOBS, created_job, job_count, start, window
from tests.mobile_api.helpers import Draft, ask_help, create, problem


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str  # {job} is filled in
    body: Callable[[str], dict[str, Any]]  # from a free EAN


def _no_body(_: str) -> dict[str, Any]:
    return {}


ADMIN_CALLS = [
    Call("create", "POST", JOBS, lambda ean: {"json": {"ean": ean, "asset_type": "smart_meter_1p", **window()}}),
    Call(
        "import",
        "POST",
        f"{JOBS}/import",
        lambda ean: {"json": [{"ean": ean, "asset_type": "smart_meter_1p", **window()}]},
    ),
    Call("list", "GET", JOBS, _no_body),
    Call("get", "GET", JOBS + "/{job}", _no_body),
    Call("assign", "POST", JOBS + "/{job}/assign", lambda _: {"json": {"version": 1, "installer": "inst-x"}}),
    Call("cancel", "POST", JOBS + "/{job}/cancel", lambda _: {"json": {"version": 1}}),
]
INSTALLER_CALLS = [
    Call("my-jobs", "GET", MY_JOBS, _no_body),
    Call("start", "POST", MY_JOBS + "/{job}/install", lambda _: {"json": {"id": str(uuid.uuid4())}}),
]


async def _send(client: AsyncClient, call: Call, job_id: int, ean: str, headers: dict[str, str]) -> Response:
    return await client.request(call.method, call.path.format(job=job_id), headers=headers, **call.body(ean))


def _ids(call: Call) -> str:
    return call.name


@pytest.fixture
async def job(client: AsyncClient, make: Factory) -> tuple[dict[str, Any], Party]:
    """An installer's assigned job, and that installer."""
    installer = make.party(Role.INSTALLER)
    return await created_job(
        client, make.party(Role.ADMIN), await make.connection(), installer=installer.subject
    ), installer


class TestDispatchIsForAdmins:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST, Role.SYSTEM])
    @pytest.mark.parametrize("call", ADMIN_CALLS, ids=_ids)
    async def test_other_roles_get_403_and_nothing_changes(
        self, client: AsyncClient, make: Factory, job: tuple[dict[str, Any], Party], role: Role, call: Call
    ) -> None:
        before = await job_count()
        r = await _send(client, call, job[0]["id"], await make.connection(), make.party(role).headers)
        problem(r, 403, "auth/forbidden")
        assert await job_count() == before
        assert (await client.get(f"{JOBS}/{job[0]['id']}", headers=make.party(Role.ADMIN).headers)).json() == job[0]

    @pytest.mark.parametrize("call", ADMIN_CALLS, ids=_ids)
    async def test_without_a_token_401(
        self, client: AsyncClient, make: Factory, job: tuple[dict[str, Any], Party], call: Call
    ) -> None:
        problem(await _send(client, call, job[0]["id"], await make.connection(), {}), 401, "auth/unauthenticated")

    @pytest.mark.parametrize("call", ADMIN_CALLS, ids=_ids)
    async def test_an_admin_may(
        self, client: AsyncClient, make: Factory, job: tuple[dict[str, Any], Party], call: Call
    ) -> None:
        r = await _send(client, call, job[0]["id"], await make.connection(), make.party(Role.ADMIN).headers)
        assert r.is_success, r.text


class TestJobsAreForTheirInstaller:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SPECIALIST, Role.ADMIN, Role.SYSTEM])
    @pytest.mark.parametrize("call", INSTALLER_CALLS, ids=_ids)
    async def test_other_roles_get_403(
        self, client: AsyncClient, make: Factory, job: tuple[dict[str, Any], Party], role: Role, call: Call
    ) -> None:
        problem(await _send(client, call, job[0]["id"], "", make.party(role).headers), 403, "auth/forbidden")

    @pytest.mark.parametrize("call", INSTALLER_CALLS, ids=_ids)
    async def test_without_a_token_401(
        self, client: AsyncClient, job: tuple[dict[str, Any], Party], call: Call
    ) -> None:
        problem(await _send(client, call, job[0]["id"], "", {}), 401, "auth/unauthenticated")

    async def test_another_installer_neither_lists_nor_starts_it(
        self, client: AsyncClient, make: Factory, job: tuple[dict[str, Any], Party]
    ) -> None:
        other = make.party(Role.INSTALLER)
        assert (await client.get(MY_JOBS, headers=other.headers)).json() == {"items": [], "next_cursor": None}
        problem(await start(client, other, job[0]["id"]), 404, "job/not-found")
        r = await client.get(MY_JOBS, headers=job[1].headers)
        assert [j["id"] for j in r.json()["items"]] == [job[0]["id"]]
        assert (await start(client, job[1], job[0]["id"])).status_code == 201


class TestInstallerCustomerSeparation:
    @pytest.fixture
    async def both(self, client: AsyncClient, make: Factory) -> dict[str, Any]:
        """At one customer's connection: the customer's own install (with a help message) and the install an
        installer started there from their job."""
        customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=customer.subject)
        own = (await create(client, customer, ean)).json()["id"]
        job = await created_job(client, make.party(Role.ADMIN), ean, installer=installer.subject)
        installers = (await start(client, installer, job["id"])).json()["id"]
        own_url = f"/mobile/v1/installs/{own}"
        r = await client.post(f"{own_url}/help", json={"message": "Mijn privébericht"}, headers=customer.headers)
        assert r.status_code == 200, r.text
        return {"customer": customer, "installer": installer, "own": own, "installers": installers}

    async def test_the_installer_never_sees_the_customers_own_install(
        self, client: AsyncClient, both: dict[str, Any]
    ) -> None:
        installer, own = both["installer"], both["own"]
        r = await client.get("/mobile/v1/installs", headers=installer.headers)
        assert [i["id"] for i in r.json()["items"]] == [both["installers"]]
        problem(await client.get(f"/mobile/v1/installs/{own}", headers=installer.headers), 404, "install/not-found")
        problem(
            await client.get(f"/mobile/v1/installs/{own}/photos/1", headers=installer.headers), 404, "install/not-found"
        )
        for action, body in (("help", {"message": "x"}), ("cancel", {}), ("submit", None)):
            r = await client.post(f"/mobile/v1/installs/{own}/{action}", json=body, headers=installer.headers)
            assert "Mijn privébericht" not in r.text
            problem(r, 404, "install/not-found")

    async def test_the_customer_sees_the_installers_install_but_only_its_creator_cancels(
        self, client: AsyncClient, make: Factory, both: dict[str, Any]
    ) -> None:
        customer, installer, installers = both["customer"], both["installer"], both["installers"]
        r = await client.get("/mobile/v1/installs", headers=customer.headers)
        assert {i["id"] for i in r.json()["items"]} == {both["own"], installers}
        url = f"/mobile/v1/installs/{installers}"
        assert (await client.get(url, headers=customer.headers)).status_code == 200
        problem(await client.post(f"{url}/cancel", json={}, headers=customer.headers), 403, "install/not-creator")
        stranger = make.party(Role.INSTALLER)
        problem(await client.post(f"{url}/cancel", json={}, headers=stranger.headers), 404, "install/not-found")
        r = await client.post(f"{url}/cancel", json={}, headers=installer.headers)
        assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text

    async def test_the_customers_help_message_stays_theirs(self, client: AsyncClient, both: dict[str, Any]) -> None:
        r = await ask_help(client, _as(both["installer"], both["own"]), "Ik kijk even mee")
        problem(r, 404, "install/not-found")
        r = await client.get(f"/mobile/v1/installs/{both['own']}", headers=both["customer"].headers)
        assert r.json()["reasons"] == ["human_requested"]


def _as(who: Party, install_id: str) -> Draft:
    return Draft(who=who, id=install_id, ean="", asset_type="smart_meter_1p")
