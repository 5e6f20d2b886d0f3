"""Move-out and a new occupant: POST /mobile/v1/connections/{ean}/release, then a claim with the same proof.

Installs belong to the customer whose connection it was when they were made: the new occupant never sees
the previous one's, the previous one keeps seeing their own but starts none there any more."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
import httpx
import pytest
from httpx import AsyncClient

from backend.db import BoundedSQLiteEngine
from backend.installs import repository as repo
from backend.installs.tables import Install
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, claimed, decide, helped
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import BASE, create, new_install, problem

CLAIM = "/mobile/v1/connections/claim"
CONNECTIONS = "/mobile/v1/connections"


def _release_url(ean: str) -> str:
    return f"{CONNECTIONS}/{ean}/release"


async def _claim(client: AsyncClient, who: Party, ean: str) -> httpx.Response:
    return await client.post(CLAIM, json={"ean": ean, "postcode": "6811AL", "house_number": 14}, headers=who.headers)


async def _release(client: AsyncClient, who: Party, ean: str) -> httpx.Response:
    return await client.post(_release_url(ean), headers=who.headers)


async def _cancelled_install(client: AsyncClient, who: Party, ean: str) -> str:
    """An install of `who` at `ean`, cancelled (a decided one: it does not hold the connection)."""
    r = await create(client, who, ean)
    assert r.status_code == 201, r.text
    install_id = r.json()["id"]
    r = await client.post(f"{BASE}/{install_id}/cancel", json={"reason": "verhuis"}, headers=who.headers)
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    assert [a["code"] for a in r.json()["next_actions"]] == ["start_new_install", "ask_for_help"]  # still theirs
    return install_id


class TestRelease:
    async def test_release_then_the_next_occupant_claims_with_the_same_proof(
        self, client: AsyncClient, make: Factory
    ) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection()
        assert (await _claim(client, old, ean)).status_code == 201
        assert (await _claim(client, new, ean)).status_code == 409  # not released yet: "contact us"
        r = await _release(client, old, ean)
        assert r.status_code == 200, r.text
        assert r.json()["connection"]["ean"] == ean
        assert (await repo.connection_by_ean(ean)).owner_subject is None  # type: ignore[union-attr]
        r = await _claim(client, new, ean)
        assert r.status_code == 201 and r.json()["newly_claimed"] is True, r.text
        listed = (await client.get(CONNECTIONS, headers=old.headers)).json()["items"]
        assert ean not in [c["connection"]["ean"] for c in listed]
        listed = (await client.get(CONNECTIONS, headers=new.headers)).json()["items"]
        assert [c["connection"]["ean"] for c in listed] == [ean]

    async def test_the_claim_after_a_release_needs_the_proof(self, client: AsyncClient, make: Factory) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        assert (await _release(client, old, ean)).status_code == 200
        r = await client.post(CLAIM, json={"ean": ean, "postcode": "6811AL", "house_number": 15}, headers=new.headers)
        problem(r, 422, "connection/claim-mismatch")
        assert (await repo.connection_by_ean(ean)).owner_subject is None  # type: ignore[union-attr]

    async def test_an_open_install_holds_the_connection_until_cancelled(
        self, client: AsyncClient, make: Factory
    ) -> None:
        old = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        r = await create(client, old, ean)
        install_id = r.json()["id"]
        body = problem(await _release(client, old, ean), 409, "connection/open-install")
        assert install_id in body["detail"]
        assert (await repo.connection_by_ean(ean)).owner_subject == old.subject  # type: ignore[union-attr]
        r = await client.post(f"{BASE}/{install_id}/cancel", json={"reason": "verhuis"}, headers=old.headers)
        assert r.status_code == 200, r.text
        assert (await _release(client, old, ean)).status_code == 200

    async def test_an_installers_open_job_install_holds_it_too(self, client: AsyncClient, make: Factory) -> None:
        old, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=old.subject)
        assert (await create(client, installer, ean)).status_code == 201
        problem(await _release(client, old, ean), 409, "connection/open-install")

    async def test_only_the_owner_releases(self, client: AsyncClient, make: Factory) -> None:
        owner, other = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=owner.subject)
        problem(await _release(client, other, ean), 404, "connection/not-found")
        problem(await _release(client, other, "871687000000000000"), 404, "connection/not-found")
        assert (await _release(client, owner, ean)).status_code == 200
        problem(await _release(client, owner, ean), 404, "connection/not-found")  # no longer theirs

    @pytest.mark.parametrize("role", [Role.INSTALLER, Role.SPECIALIST, Role.ADMIN, Role.SYSTEM])
    async def test_other_roles_are_refused(self, client: AsyncClient, make: Factory, role: Role) -> None:
        owner = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=owner.subject)
        r = await _release(client, make.party(role), ean)
        assert r.status_code == 403, r.text
        assert (await repo.connection_by_ean(ean)).owner_subject == owner.subject  # type: ignore[union-attr]

    async def test_a_malformed_ean_is_a_problem(self, client: AsyncClient, make: Factory) -> None:
        r = await _release(client, make.party(Role.CUSTOMER), "12345")
        assert r.status_code in (400, 404) and r.headers["content-type"].startswith("application/problem+json")


class TestHistoryStaysWithItsCustomer:
    async def test_the_new_occupant_never_sees_the_previous_ones_installs(
        self, client: AsyncClient, make: Factory
    ) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        old_install = await _cancelled_install(client, old, ean)
        assert (await _release(client, old, ean)).status_code == 200
        assert (await _claim(client, new, ean)).status_code == 201
        problem(await client.get(f"{BASE}/{old_install}", headers=new.headers), 404, "install/not-found")
        assert (await client.get(BASE, headers=new.headers)).json()["items"] == []
        (owned,) = (await client.get(CONNECTIONS, headers=new.headers)).json()["items"]
        assert owned["latest_install"] is None  # the previous occupant's newest is not shown
        r = await client.post(f"{BASE}/{old_install}/help", json={"message": "?"}, headers=new.headers)
        problem(r, 404, "install/not-found")

    async def test_the_previous_occupant_keeps_their_history_but_starts_nothing_new(
        self, client: AsyncClient, make: Factory
    ) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        old_install = await _cancelled_install(client, old, ean)
        assert (await _release(client, old, ean)).status_code == 200
        assert (await _claim(client, new, ean)).status_code == 201
        r = await client.get(f"{BASE}/{old_install}", headers=old.headers)
        assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
        assert [a["code"] for a in r.json()["next_actions"]] == ["ask_for_help"]  # no "start a new install" there
        assert [i["id"] for i in (await client.get(BASE, headers=old.headers)).json()["items"]] == [old_install]
        problem(await create(client, old, ean), 404, "connection/not-found")
        r = await create(client, new, ean)
        assert r.status_code == 201, r.text
        new_install = r.json()["id"]
        problem(await client.get(f"{BASE}/{new_install}", headers=old.headers), 404, "install/not-found")
        assert [i["id"] for i in (await client.get(BASE, headers=old.headers)).json()["items"]] == [old_install]
        (owned,) = (await client.get(CONNECTIONS, headers=new.headers)).json()["items"]
        assert owned["latest_install"]["id"] == new_install

    async def test_an_installers_job_install_belongs_to_the_customer_of_its_time(
        self, client: AsyncClient, make: Factory
    ) -> None:
        old, new, installer = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=old.subject)
        r = await create(client, installer, ean)
        job_install = r.json()["id"]
        assert (await client.get(f"{BASE}/{job_install}", headers=old.headers)).status_code == 200
        r = await client.post(f"{BASE}/{job_install}/cancel", json={"reason": "x"}, headers=installer.headers)
        assert r.status_code == 200, r.text
        assert (await _release(client, old, ean)).status_code == 200
        assert (await _claim(client, new, ean)).status_code == 201
        assert (await client.get(f"{BASE}/{job_install}", headers=old.headers)).status_code == 200
        problem(await client.get(f"{BASE}/{job_install}", headers=new.headers), 404, "install/not-found")


class TestOtherSystemsHearTheInstallsCustomer:
    async def test_an_objection_after_the_move_names_the_previous_occupant(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        assert (await decide(client, spec, case_id, "reject", "wrong_asset", view["version"])).status_code == 200
        assert (await _release(client, d.who, d.ean)).status_code == 200  # a rejected install holds nothing
        new = make.party(Role.CUSTOMER)
        assert (await _claim(client, new, d.ean)).status_code == 201
        r = await client.post(f"{d.url}/objection", json={"message": "Het klopt wel"}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        escalations = await events_of(d.id, "install.escalated")
        assert [e["payload"]["customer_ref"] for e in escalations] == [d.who.subject, d.who.subject]
        # Back in review, the previous occupant's install does not hold the new occupant's move-out.
        assert (await _release(client, new, d.ean)).status_code == 200


_WAITING_ON_A_LOCK = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'"""


class TestReleaseRacesAnInstall:
    async def test_an_install_started_during_a_release_sees_the_connection_gone(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        """A release holds the connection's row from checking for open installs to handing it back: an
        install started meanwhile waits, then finds the connection no longer the customer's (404), so no
        open install is left for a customer who moved out. Another connection plays the release here, so
        the install is known to be waiting on it (SQLite: the IMMEDIATE transaction's write lock)."""
        who = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=who.subject)
        release = "UPDATE connections SET owner_subject = NULL WHERE ean = "
        if settings.is_sqlite:
            holder = sqlite3.connect(settings.sqlite_path, isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                started = asyncio.create_task(create(client, who, ean))
                engine = Install._meta.db
                assert isinstance(engine, BoundedSQLiteEngine)
                async with asyncio.timeout(30):  # fails the test if the install never waits (no timing)
                    while not engine.write_lock().locked() and not started.done():
                        await asyncio.sleep(0.005)
                holder.execute(release + "?", (ean,))
                holder.execute("COMMIT")
            finally:
                holder.close()
        else:
            holder = await asyncpg.connect(settings.database_url)
            try:
                async with holder.transaction():
                    await holder.execute("SELECT id FROM connections WHERE ean = $1 FOR UPDATE", ean)
                    started = asyncio.create_task(create(client, who, ean))
                    async with asyncio.timeout(30):  # fails the test if the install never waits (no timing)
                        while not started.done() and not await holder.fetchval(_WAITING_ON_A_LOCK):
                            await holder.execute("SELECT pg_stat_clear_snapshot()")
                            await asyncio.sleep(0.01)
                    await holder.execute(release + "$1", ean)
            finally:
                await holder.close()
        problem(await started, 404, "connection/not-found")
        connection = await repo.connection_by_ean(ean)
        assert connection is not None and connection.owner_subject is None
        assert await repo.open_installs_on(connection.id) == []
