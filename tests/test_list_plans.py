"""Every page reads an index that matches its filter and order, never the whole table (issue 11).

The real queries of the repositories (their `*_query` builders) are EXPLAINed against 20,000 rows
inserted and ANALYZEd inside a transaction that is rolled back: PostgreSQL's JSON plan must hold no
sequential scan of the big table and must use the named index; SQLite's EXPLAIN QUERY PLAN must SEARCH
(or SCAN) using that index and never scan the table itself.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from piccolo.query import Select

from backend.events import repository as events_repo
from backend.installs import repository as installs_repo
from backend.installs.tables import Install
from backend.jobs import repository as jobs_repo
from backend.review import repository as review_repo

ROWS = 20_000
_STATES = "CASE WHEN i % 100 = 0 THEN 'in_review' ELSE 'approved' END"  # a rare state: only its index bounds it
_SERIES = f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS}) "


def _sql(engine_type: str) -> list[str]:
    pg = engine_type == "postgres"
    uid = (
        "(lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid"
        if pg
        else "printf('%08x-0000-4000-8000-%012x', i, i)"
    )
    at = (
        "(timestamptz '2020-01-01' + i * interval '1 minute')"
        if pg
        else "datetime('2020-01-01', '+' || i || ' minutes')"
    )
    at_end = (
        "(timestamptz '2020-01-01' + i * interval '1 minute' + interval '4 hours')"
        if pg
        else "datetime('2020-01-01', '+' || (i + 240) || ' minutes')"
    )
    return [
        f"INSERT INTO connections (id, ean, owner_subject, created_at) {_SERIES}"
        f"SELECT 900000 + i, 'plan' || i, 'plan-c' || i, {at} FROM s WHERE i <= {ROWS // 2}",
        # Every other install an installer's (from a job), the rest the customers' own; each belongs to its
        # connection's customer (written at insert, kept when they move out).
        "INSERT INTO installs (id, connection, state, created_at, updated_at, installer_subject, customer_subject) "
        f"{_SERIES}SELECT {uid}, 900000 + (i + 1) / 2, {_STATES}, {at}, {at}, "
        "CASE WHEN i % 2 = 0 THEN 'plan-i' || ((i / 2) % 50) ELSE NULL END, 'plan-c' || ((i + 1) / 2) FROM s",
        # Assets: a type, a state and a label key each, the rare ones bounded only by their index.
        f"INSERT INTO assets (id, serial, asset_type, status, connection, label_key_id, created_at) {_SERIES}"
        "SELECT 900000 + i, 'PLAN-' || i, CASE WHEN i % 100 = 0 THEN 'battery' ELSE 'smart_meter_1p' END, "
        "CASE WHEN i % 100 = 1 THEN 'retired' WHEN i % 2 = 0 THEN 'installed' ELSE 'in_stock' END, "
        "CASE WHEN i % 2 = 0 THEN 900000 + i / 2 ELSE NULL END, "
        f"CASE WHEN i % 100 = 2 THEN 'K0' ELSE 'K1' END, {at} FROM s",
        # A connection's audit trail: an event about every connection.
        f"INSERT INTO events (connection, actor, actor_role, action, created_at) {_SERIES}"
        f"SELECT 900000 + (i + 1) / 2, 'plan-c' || i, 'customer', 'connection.claimed', {at} FROM s",
        # A job a connection, an installer's or (every tenth) still planned; a rare state: only its index bounds it.
        f"INSERT INTO jobs (id, connection, asset_type, window_start, window_end, assignee, installer_subject, state) "
        f"{_SERIES}SELECT 900000 + i, 900000 + i, 'smart_meter_1p', {at}, {at_end}, "
        "CASE WHEN i % 10 = 0 THEN NULL ELSE 'installer' END, "
        "CASE WHEN i % 10 = 0 THEN NULL ELSE 'plan-i' || (i % 50) END, "
        "CASE WHEN i % 10 = 0 THEN 'planned' WHEN i % 100 = 1 THEN 'in_progress' "
        f"WHEN i % 3 = 0 THEN 'assigned' ELSE 'done' END FROM s WHERE i <= {ROWS // 2}",
        "INSERT INTO review_cases (install, kind, state, reasons, reason_tags, risk, due_at, opened_at) "
        f"{_SERIES}SELECT {uid}, 'escalation', CASE WHEN i % 50 = 0 THEN 'open' ELSE 'closed' END, "
        f"'[\"uncertain\"]', ',uncertain,', i % 100, {at}, {at} FROM s",
        "INSERT INTO photos (install, slot, sha256, phash_h0, phash_h1, core_h0, core_h1, hash_informative) "
        f"{_SERIES}SELECT {uid}, 'meter_label', 'plan' || i, i * 2654435761 % 4294967291, i * 40503 % 4294967279, "
        "i * 97 + 1000000000, i * 7919 % 4294967231, "
        f"{'i % 100 <> 0' if pg else '(i % 100 <> 0)'} FROM s",
        # Webhook deliveries: nearly all delivered; a rare dead or failing one, bounded only by its partial index.
        f"INSERT INTO outbox_events (id, event_type, payload, created_at) {_SERIES}"
        f"SELECT {uid}, 'plan.event', '[]', {at} FROM s",
        "INSERT INTO outbox_deliveries (id, event, url, attempts, next_attempt_at, delivered_at, dead_at) "
        f"{_SERIES}SELECT 900000 + i, {uid}, 'http://plan', CASE WHEN i % 100 IN (0, 1) THEN 3 ELSE 1 END, {at}, "
        f"CASE WHEN i % 100 IN (0, 1) THEN NULL ELSE {at} END, CASE WHEN i % 100 = 0 THEN {at} ELSE NULL END FROM s",
        "ANALYZE",
    ]


@pytest.fixture
async def filled(client: httpx.AsyncClient) -> AsyncIterator[str]:
    """20,000 rows in each big table for the test's duration; the engine type."""
    engine = Install._meta.db
    async with engine.transaction() as transaction:
        for statement in _sql(engine.engine_type):
            await Install.raw(statement)
        yield engine.engine_type
        await transaction.rollback()


async def _plan(query: Select, engine_type: str) -> tuple[list[str], list[str]]:
    """(scan lines naming a table, index names used) of the query's plan."""
    querystring = query.querystrings[0]
    if engine_type == "postgres":
        rows = await Install.raw("EXPLAIN (FORMAT JSON) {}", querystring)
        plan = rows[0]["QUERY PLAN"]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        nodes: list[dict[str, Any]] = []

        def walk(node: dict[str, Any]) -> None:
            nodes.append(node)
            for child in node.get("Plans", []):
                walk(child)

        walk(plan[0]["Plan"])
        seq = [f"Seq Scan on {n['Relation Name']}" for n in nodes if n["Node Type"] == "Seq Scan"]
        return seq, [n["Index Name"] for n in nodes if "Index Name" in n]
    rows = await Install.raw("EXPLAIN QUERY PLAN {}", querystring)
    details = [r["detail"] for r in rows]
    scans = [d for d in details if d.startswith("SCAN ") and " USING " not in d]
    return scans, [d.split(" INDEX ")[1].split(" ")[0] for d in details if " INDEX " in d]


def _queries() -> dict[str, tuple[Callable[[], Select], str, set[str]]]:
    """Each list query, the index it must use (or one of `a|b`), and the tables it must not scan."""
    due = datetime(2020, 1, 10, tzinfo=UTC)
    early = datetime(2020, 1, 2, tzinfo=UTC)  # within the jobs' windows (a job a minute from 2020-01-01)
    keys = [{1, 2, 3}, set(), {5, 6}, {7, 8, 9}]
    return {
        "queue first page": (lambda: review_repo.queue_query(26, None), "review_cases_queue", {"review_cases"}),
        "queue deep page": (
            lambda: review_repo.queue_query(26, (due, 40, 5000)),
            "review_cases_queue",
            {"review_cases"},
        ),
        "queue by kind": (
            lambda: review_repo.queue_query(26, (due, 40, 5000), kind="escalation"),
            "review_cases_queue",
            {"review_cases"},
        ),
        "oldest open case": (review_repo.oldest_open_query, "review_cases_open_since", {"review_cases"}),
        # Either partial index of open cases will do (PostgreSQL counts through the narrower one).
        "overdue open cases": (
            lambda: review_repo.overdue_query(due),
            "review_cases_queue|review_cases_open_since",
            {"review_cases"},
        ),
        "open cases waiting long": (
            lambda: review_repo.open_since_before_query(due),
            "review_cases_open_since",
            {"review_cases"},
        ),
        "customer installs": (
            lambda: installs_repo.installs_query("plan-c77", "customer", 21, None, None),
            "installs_customer",
            {"installs", "connections"},
        ),
        "customer installs, next page": (
            lambda: installs_repo.installs_query("plan-c77", "customer", 21, (due, uuid.UUID(int=5)), None),
            "installs_customer",
            {"installs", "connections"},
        ),
        "installer installs": (
            lambda: installs_repo.installs_query("plan-i7", "installer", 21, None, None),
            "installs_installer",
            {"installs", "connections"},
        ),
        "installer installs, next page, by state": (
            lambda: installs_repo.installs_query("plan-i7", "installer", 21, (due, uuid.UUID(int=5)), "approved"),
            "installs_installer",
            {"installs", "connections"},
        ),
        "everyone's installs": (
            lambda: installs_repo.installs_query("s", "specialist", 21, (due, uuid.UUID(int=5)), None),
            "installs_created",
            {"installs"},
        ),
        "everyone's installs by state": (
            lambda: installs_repo.installs_query("s", "specialist", 21, None, "in_review"),
            "installs_state_created",
            {"installs"},
        ),
        "customer connections": (
            lambda: installs_repo.connections_owned_query("plan-c77", 21, None),
            "connections_owner",
            {"connections"},
        ),
        "customer connections, next page": (
            lambda: installs_repo.connections_owned_query("plan-c77", 21, "plan77"),
            "connections_owner",
            {"connections"},
        ),
        "newest install of each connection": (
            lambda: installs_repo.newest_install_ids_query([900077, 900078], "plan-c77"),  # type: ignore[arg-type,return-value]
            "installs_customer|installs_connection",
            {"installs"},
        ),
        "admin connections": (
            lambda: installs_repo.connections_search_query(26, None),
            "connections_ean_key|sqlite_autoindex_connections_1",
            {"connections"},
        ),
        "admin connections by postcode and house number": (
            lambda: installs_repo.connections_search_query(26, "plan5", postcode="6811AL", house_number=14),
            "connections_postcode_ean",
            {"connections"},
        ),
        "admin connections of an owner": (
            lambda: installs_repo.connections_search_query(26, None, owner="plan-c77"),
            "connections_owner",
            {"connections"},
        ),
        "admin connection by EAN": (
            lambda: installs_repo.connections_search_query(26, None, ean="plan77"),
            "connections_ean_key|sqlite_autoindex_connections_1",
            {"connections"},
        ),
        "connection's audit trail": (
            lambda: installs_repo.connection_events_query(900077, 100),
            "events_connection",
            {"events"},
        ),
        "admin assets by type": (
            lambda: installs_repo.assets_search_query(26, "PLAN-5", asset_type="battery"),
            "assets_type",
            {"assets"},
        ),
        "admin assets by state": (
            lambda: installs_repo.assets_search_query(26, None, status="retired"),
            "assets_status",
            {"assets"},
        ),
        "labels of a key": (
            lambda: installs_repo.assets_search_query(26, None, key_id="K0"),
            "assets_label_key",
            {"assets"},
        ),
        "admin asset by serial": (
            lambda: installs_repo.assets_search_query(26, None, serial="PLAN-77"),
            "assets_serial_key|sqlite_autoindex_assets_1",
            {"assets"},
        ),
        "dispatcher's jobs": (lambda: jobs_repo.jobs_query(26, None, None, None), "jobs_window", {"jobs"}),
        "dispatcher's jobs, next page, by state": (
            lambda: jobs_repo.jobs_query(26, (early, 1440), "in_progress", None),
            "jobs_state_window",
            {"jobs"},
        ),
        "dispatcher's jobs of one installer": (
            lambda: jobs_repo.jobs_query(26, (early, 1440), None, "plan-i7"),
            "jobs_installer",
            {"jobs"},
        ),
        "installer's jobs from today": (
            lambda: jobs_repo.installer_jobs_query("plan-i7", early, 21, None),
            "jobs_installer",
            {"jobs"},
        ),
        "installer's jobs, next page": (
            lambda: jobs_repo.installer_jobs_query("plan-i7", early, 21, (early, 1440)),
            "jobs_installer",
            {"jobs"},
        ),
        "dead webhook deliveries": (
            lambda: events_repo.deliveries_query("dead", 26, None),
            "outbox_deliveries_dead",
            {"outbox_deliveries"},
        ),
        # SQLite may read the undelivered ones through delivered_at instead: as few, never the table.
        "failing webhook deliveries, next page": (
            lambda: events_repo.deliveries_query("failing", 26, 910000),
            "outbox_deliveries_failing|outbox_deliveries_delivered_at",
            {"outbox_deliveries"},
        ),
        "reuse half hits": (
            lambda: installs_repo.half_hits_query(uuid.uuid4(), keys),  # type: ignore[arg-type,return-value]
            "photos_core_h1",
            {"photos"},
        ),
    }


@pytest.mark.parametrize("name", list(_queries()))
async def test_list_query_uses_its_index(filled: str, name: str) -> None:
    build, index, tables = _queries()[name]
    scans, indexes = await _plan(build(), filled)
    assert set(index.split("|")) & set(indexes), (name, indexes, scans)
    assert not [s for s in scans if any(s.split(" ")[-1] == t or s == f"SCAN {t}" for t in tables)], (name, scans)


@pytest.mark.parametrize("gaps", [0, 2])
async def test_the_stored_halves_read_only_unseen_photo_rows(filled: str, gaps: int) -> None:
    # Each upload's reuse lookup first reads the photo rows its worker has not seen (stored_halves): the
    # newest few, and a few skipped ids; a range of the primary key, never a scan of every photo.
    top = int(
        (
            await installs_repo.Photo.select(installs_repo.Photo.id)
            .order_by(installs_repo.Photo.id, ascending=False)
            .first()
            or {"id": 100}
        )["id"]
    )
    skipped = [(top - 40, top - 38), (top - 20, top - 20)][:gaps]
    scans, indexes = await _plan(installs_repo.photo_halves_query(top - 5, skipped, 0), filled)  # type: ignore[arg-type]
    assert not [s for s in scans if "photos" in s or s.endswith(" p")], scans
    if filled == "postgres":
        assert "photos_pkey" in indexes, indexes
