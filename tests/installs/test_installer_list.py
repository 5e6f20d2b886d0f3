"""An installer's list reads the installs' own `installer_subject`: the installer whose job it is, written
once at insert (issue 13). A customer's own install carries none, so no installer ever lists it, whatever
jobs there are at its connection; nothing rewrites the column behind the service's back any more.
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
        for cid in (976001, 976002):
            await Connection.insert(Connection(id=cid, ean=f"plan{cid}", created_at=_AT, lat=0.0, lon=0.0))
        yield
        await transaction.rollback()


async def _install(connection: int, minutes: int, installer: str | None = None) -> uuid.UUID:
    install_id = uuid.uuid4()
    at = _AT + timedelta(minutes=minutes)
    row = {
        "id": install_id,
        "connection": connection,
        "asset_type": "smart_meter_1p",
        "state": "draft",
        "created_by": installer or "c",
        "created_by_role": "installer" if installer else "customer",
        "request_hash": "x",
        "created_at": at,
        "updated_at": at,
        "installer_subject": installer,
    }
    assert await repo.insert_install(row)
    return install_id


async def _listed(installer: str) -> list[uuid.UUID]:
    return [i.id for i in await repo.installs_scoped(installer, "installer", 50, None, None)]


class TestInstallerList:
    async def test_lists_their_installs_newest_first_never_a_customers(self, rolled_back: None) -> None:
        a1 = await _install(976001, 1, "inst-a")
        b1 = await _install(976002, 2, "inst-b")
        a2 = await _install(976002, 3, "inst-a")
        await _install(976001, 4)  # the customer's own, at a connection where inst-a works
        assert await _listed("inst-a") == [a2, a1]
        assert await _listed("inst-b") == [b1]
        page = await repo.installs_scoped("inst-a", "installer", 1, (_AT + timedelta(minutes=3), a2), None)
        assert [i.id for i in page] == [a1]

    async def test_the_column_is_kept_as_written(self, rolled_back: None) -> None:
        """The triggers that copied a connection's installer onto its installs are gone (migration 08:40)."""
        a1 = await _install(976001, 1, "inst-a")
        await Install.update({Install.connection: 976002}).where(Install.id == a1)
        assert await _listed("inst-a") == [a1]
