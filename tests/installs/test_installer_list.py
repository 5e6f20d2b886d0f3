"""An installer's list reads the installs' own copy of the connection's installer: triggers keep it true.

The copy is what `installs_query` filters on (index installs_installer); if it drifted from the
connection, an installer would see installs that are no longer theirs, or miss new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.installs import repository as repo
from backend.installs.tables import Connection, Install

_AT = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def rolled_back(client: httpx.AsyncClient) -> AsyncIterator[None]:
    async with Install._meta.db.transaction() as transaction:
        for cid, installer in ((976001, "inst-a"), (976002, "inst-b"), (976003, None)):
            await Connection.insert(
                Connection(id=cid, ean=f"plan{cid}", installer_subject=installer, created_at=_AT, lat=0.0, lon=0.0)
            )
        yield
        await transaction.rollback()


async def _install(connection: int, minutes: int, **extra: object) -> uuid.UUID:
    install_id = uuid.uuid4()
    at = _AT + timedelta(minutes=minutes)
    row = {
        "id": install_id,
        "connection": connection,
        "asset_type": "smart_meter_1p",
        "state": "draft",
        "created_by": "c",
        "created_by_role": "customer",
        "request_hash": "x",
        "created_at": at,
        "updated_at": at,
        **extra,
    }
    assert await repo.insert_install(row)
    return install_id


async def _listed(installer: str) -> list[uuid.UUID]:
    return [i.id for i in await repo.installs_scoped(installer, "installer", 50, None, None)]


class TestInstallerList:
    async def test_lists_the_installs_of_their_connections_newest_first(self, rolled_back: None) -> None:
        a1 = await _install(976001, 1)
        b1 = await _install(976002, 2)
        a2 = await _install(976001, 3, installer_subject="inst-b")  # a written copy is not believed
        await _install(976003, 4)
        assert await _listed("inst-a") == [a2, a1]
        assert await _listed("inst-b") == [b1]
        page = await repo.installs_scoped("inst-a", "installer", 1, (_AT + timedelta(minutes=3), a2), None)
        assert [i.id for i in page] == [a1]

    async def test_follows_a_connection_handed_to_another_installer(self, rolled_back: None) -> None:
        a1 = await _install(976001, 1)
        b1 = await _install(976002, 2)
        await Connection.update({Connection.installer_subject: "inst-b"}).where(Connection.id == 976001)
        assert await _listed("inst-a") == []
        assert await _listed("inst-b") == [b1, a1]
        await Connection.update({Connection.installer_subject: None}).where(Connection.id == 976002)
        assert await _listed("inst-b") == [a1]

    async def test_follows_an_install_moved_to_another_connection(self, rolled_back: None) -> None:
        a1 = await _install(976001, 1)
        await Install.update({Install.connection: 976002}).where(Install.id == a1)
        assert await _listed("inst-a") == []
        assert await _listed("inst-b") == [a1]
