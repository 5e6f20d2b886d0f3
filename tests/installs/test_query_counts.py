"""What one request sends to the database, counted at the engine (backend/db.py records every
statement and every connection it opens): an install view is one query, an upload and a submit one
short write transaction plus a few reads, on reused connections. The same bounds on both engines."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import pytest
from httpx import AsyncClient, Response

from backend.db import Statement, recorded_statements
from tests.factories import Factory
from tests.mobile_api.helpers import Draft, ready_install, slots_of, submit, upload

# The reuse lookup (backend/installs/verdict.find_reuse: band hits, same bytes, close rows) is its own
# work and reads up to three times per photo; everything else of an upload is what these bounds are about.
REUSE_LOOKUP = 3


async def _sent(request: Callable[[], Awaitable[Response]]) -> tuple[Response, list[Statement]]:
    with recorded_statements() as statements:
        response = await request()
    return response, statements


def _transactions(statements: list[Statement]) -> list[list[Statement]]:
    """The statements of each transaction, BEGIN to COMMIT/ROLLBACK."""
    out: list[list[Statement]] = []
    for s in statements:
        if s.kind == "begin":
            out.append([s])
        elif out and out[-1][-1].kind not in ("commit", "rollback"):
            out[-1].append(s)
    return out


def _reads_outside(statements: list[Statement]) -> list[Statement]:
    return [s for s in statements if s.kind == "query" and not s.in_transaction]


def _describe(statements: list[Statement]) -> str:
    return "\n".join(f"{s.kind:8} {'T' if s.in_transaction else ' '} {s.sql[:140]}" for s in statements)


@pytest.fixture
async def ready(client: AsyncClient, make: Factory) -> Draft:
    d = await ready_install(client, make, skip=("cabinet_overview",))
    r = await client.get(d.url, headers=d.who.headers)  # every connection a view needs is open now
    assert r.status_code == 200, r.text
    return d


class TestInstallView:
    async def test_one_query_on_an_open_connection(self, client: AsyncClient, ready: Draft) -> None:
        r, sent = await _sent(lambda: client.get(ready.url, headers=ready.who.headers))
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["photos"]) == 2 and body["asset"]["serial"] == ready.serial  # the whole install came back
        queries = [s for s in sent if s.kind == "query"]
        assert len(queries) <= 1, _describe(sent)
        assert not [s for s in sent if s.kind in ("begin", "connect")], _describe(sent)

    async def test_someone_elses_install_is_not_found_in_one_query(
        self, client: AsyncClient, make: Factory, ready: Draft
    ) -> None:
        stranger = make.party(ready.who.role)
        r, sent = await _sent(lambda: client.get(ready.url, headers=stranger.headers))
        assert r.status_code == 404, r.text
        assert len([s for s in sent if s.kind == "query"]) <= 1, _describe(sent)


class TestUpload:
    async def test_one_short_write_transaction_and_a_few_reads(
        self, client: AsyncClient, make: Factory, ready: Draft
    ) -> None:
        photo = make.photo("cabinet_overview")
        r, sent = await _sent(lambda: upload(client, ready, "cabinet_overview", photo))
        assert r.status_code == 201, r.text
        transactions = _transactions(sent)
        assert len(transactions) == 1, _describe(sent)
        (write,) = transactions
        # BEGIN, the install locked, the slot's photo retired and the new one inserted, its checks,
        # the install's version, the audit event, COMMIT.
        assert len(write) <= 8, _describe(write)
        # The install with its evidence before the body is read, the reuse lookup, the answer's view.
        assert len(_reads_outside(sent)) <= 2 + REUSE_LOOKUP, _describe(sent)
        assert not [s for s in sent if s.kind == "connect"], _describe(sent)

    async def test_only_a_slots_later_photo_retires_one(self, client: AsyncClient, make: Factory, ready: Draft) -> None:
        def retiring(sent: list[Statement]) -> list[Statement]:
            return [s for s in sent if s.sql.startswith('UPDATE "photos"')]

        first, second = make.photo("cabinet_overview"), make.photo("cabinet_overview")
        r, sent = await _sent(lambda: upload(client, ready, "cabinet_overview", first))
        assert r.status_code == 201, r.text
        assert retiring(sent) == [], _describe(sent)  # the slot had no photo: nothing to retire
        r, sent = await _sent(lambda: upload(client, ready, "cabinet_overview", second))
        assert r.status_code == 201, r.text
        assert len(retiring(sent)) == 1, _describe(sent)
        view = (await client.get(ready.url, headers=ready.who.headers)).json()
        current = [p["sha256"] for p in view["photos"] if p["slot"] == "cabinet_overview"]
        assert current == [hashlib.sha256(second).hexdigest()]

    async def test_the_same_bytes_again_write_nothing(self, client: AsyncClient, make: Factory, ready: Draft) -> None:
        photo = make.photo("cabinet_overview")
        assert (await upload(client, ready, "cabinet_overview", photo)).status_code == 201
        r, sent = await _sent(lambda: upload(client, ready, "cabinet_overview", photo))
        assert r.status_code == 200, r.text
        assert _transactions(sent) == [], _describe(sent)
        assert len(_reads_outside(sent)) <= 2, _describe(sent)  # the install before the body, the answer's view


class TestSubmit:
    async def test_checks_read_first_then_one_short_write_transaction(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        r, sent = await _sent(lambda: submit(client, d))
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "approved", r.text
        transactions = _transactions(sent)
        assert len(transactions) == 1, _describe(sent)
        (write,) = transactions
        # The reuse lookups of every photo run before it, not while holding the write lock.
        assert not any("band" in s.sql or "phash" in s.sql for s in write), _describe(write)
        # BEGIN, the install's version, the connection locked (PostgreSQL: it holds one meter, so two
        # approvals there queue; installs/placement.py), the asset placed (a compare-and-set), checks,
        # decision, event, COMMIT; plus what the flows of an approval write (review case, outbox,
        # device confirmation, QA sample, the customer's notification): their own business.
        own = [s for s in write if not _is_flow(s)]
        assert len(own) <= 8, _describe(write)
        photos = len(slots_of(d.asset_type))
        # The install, the meters already installed at its connection (the asset check), the answer's view.
        assert len(_reads_outside(sent)) <= 3 + REUSE_LOOKUP * photos, _describe(sent)
        assert not [s for s in sent if s.kind == "connect"], _describe(sent)


_FLOW_TABLES = (
    "review_cases",
    "outbox_",
    "device_reports",
    "case_verdicts",
    "known_answers",
    'decisions" WHERE',
    '"visits"',
    '"webhook_subscriptions"',  # the outbox hook: who hears of this event
    "notification",
)


def _is_flow(s: Statement) -> bool:
    """A statement of another domain's state hook (or its reads of this install's rows); a row lock is
    the install domain's own (placement's lock on the connection)."""
    reads_install_rows = (
        s.sql.startswith("SELECT")
        and "FOR UPDATE" not in s.sql
        and any(
            t in s.sql
            for t in ("assets", "connections", "installs$connection")  # the last: an event's facts
        )
    )
    return any(t in s.sql for t in _FLOW_TABLES) or reads_install_rows
