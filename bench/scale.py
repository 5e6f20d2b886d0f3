"""Pages whose cost does not grow with the table: the same requests against 10k and 1M rows.

Fills two scratch databases itself, per engine (PostgreSQL: `bench_scale_10k` and `bench_scale_1m`,
created and dropped here; SQLite: two files in a temporary folder), migrated by `selfinstall migrate`:
connections (two installs each), installs, one review case per install (2 % open, a few follow-ups)
and one photo per install with random reuse hashes. Then times the real service and repository
functions — the review queue's first page with its counts, a page from the middle of the open cases by
cursor, a customer's own installs, an installer's installs (50 at 10k, 5,000 at 1M), a reuse lookup of
a real phone photo (`verdict.find_reuse`) — on both databases, interleaved round by round (10k, 1M, 1M,
10k, ...), and prints the median of the per-round ratios (and the median times behind them). Then 1 % of
the photos become one uniform picture whose hash halves equal one of the lookup's own half values, and
the reuse lookup is timed again. Wall time: the work is the server's.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from backend.db import engine_for
from backend.installs import service as installs_service
from backend.installs import verdict
from backend.installs.stored_halves import StoredHalves
from backend.installs.verdict import hash_halves, hash_to_db
from backend.principal import Principal, Role
from backend.review import service as review_service
from backend.settings import get_settings
from backend.validation.photo import inspect_photo
from backend.validation.reuse_hash import QueryHashes
from bench.common import PHONE_PHOTOS

SCALES = (10_000, 1_000_000)
OPEN_SHARE = 0.02  # cases waiting for a specialist; the rest are history
SKEW_SHARE = 0.01  # photos that become one uniform picture
ROUNDS = 15
_BATCH = 50_000
_PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
_BASE = datetime(2026, 1, 1, tzinfo=UTC)
_REASONS = (
    "suspected_fraud",
    "human_requested",
    "approval_required",
    "specialist_knowledge",
    "complexity",
    "uncertain",
)
_MUNICIPALITIES = tuple(f"Gemeente {i}" for i in range(40))
_U64 = (1 << 64) - 1
# A folder to keep the databases in between runs (developing the queries): filled once, never dropped.
KEEP = os.environ.get("SCALE_KEEP", "")
LOOKUP_PHOTO = "Samsung_GT-I9505_Galaxy_S4.jpg"


@dataclass(frozen=True, slots=True)
class Target:
    rows: int
    url: str
    engine: Engine | None = None
    deep_cursor: tuple[datetime, int, int] | None = None


def _rows(n: int, rng: random.Random) -> dict[str, list[tuple[Any, ...]]]:
    """Connections, installs, review cases and photos of a database with `n` installs."""
    connections, installs, cases, photos = [], [], [], []
    for c in range(n // 2):
        connections.append(
            (c + 1, f"{c:018d}", "Straat", c % 200, "", "6811AB", "Arnhem", 51.98, 5.9, "1x35A", f"cust-{c}", _BASE)
        )  # fmt: skip
    for i in range(n):
        install = uuid.UUID(int=i + 1)
        created = _BASE + timedelta(seconds=i * 7 + rng.randrange(7))
        installs.append(
            (install, i // 2 + 1, "smart_meter_1p", "in_review", f"cust-{i // 2}", "customer", "x", created, created,
             f"inst-{(i // 2) % 200}", f"cust-{i // 2}")  # as if from installer inst-N's jobs: the installer's
            # list reads installer_subject; the customer's list their own customer_subject (not the owner's now)
        )  # fmt: skip
        open_ = rng.random() < OPEN_SHARE
        reasons = sorted(rng.sample(_REASONS, rng.choice((1, 1, 2))), key=_REASONS.index)
        kind = "escalation" if rng.random() < 0.95 else "qa_sample"
        due = created + timedelta(minutes=rng.randrange(60 * 24 * 30))
        cases.append(
            (i + 1, install, kind, "open" if open_ else "closed", json.dumps(reasons), f",{','.join(reasons)},",
             rng.randrange(100), due, "smart_meter_1p", rng.choice(_MUNICIPALITIES), created,
             None if open_ else created + timedelta(days=1))
        )  # fmt: skip
        frame, core = rng.getrandbits(64), rng.getrandbits(64)
        photos.append(
            (i + 1, install, "meter_label", f"{i:064x}", "image/jpeg", 1, 1, 1, "bench", created,
             hash_to_db(frame), *hash_halves(frame), f"{rng.getrandbits(256):064x}",
             hash_to_db(core), *hash_halves(core), f"{rng.getrandbits(256):064x}", True)
        )  # fmt: skip
    return {
        "connections": connections,
        "installs": installs,
        "review_cases": cases,
        "photos": photos,
    }


_COLUMNS = {
    "connections": "id ean street house_number house_number_suffix postcode city lat lon capacity owner_subject "
    "created_at",
    "installs": "id connection asset_type state created_by created_by_role request_hash created_at updated_at "
    "installer_subject customer_subject",
    "review_cases": "id install kind state reasons reason_tags risk due_at asset_type municipality opened_at closed_at",
    "photos": "id install slot sha256 content_type size_bytes width height uploaded_by created_at phash phash_h0 "
    "phash_h1 fingerprint core_hash core_h0 core_h1 core_fingerprint hash_informative",
}


async def _filled(url: str) -> bool:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return db.execute("SELECT count(*) FROM photos").fetchone()[0] > 0
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM photos") > 0
    finally:
        await conn.close()


def _migrate(url: str, data_dir: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": data_dir}
    subprocess.run(
        [sys.executable, "-c", "from backend.cli import main; main(['migrate'])"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    return v


def _fill_sqlite(path: Path, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous = OFF")  # a scratch file: nothing to keep through a crash
        db.execute("PRAGMA cache_size = -262144")
        for table, values in rows.items():
            names = _COLUMNS[table].split()
            sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            db.executemany(sql, ([_sqlite_value(v) for v in row] for row in values))
        db.execute("ANALYZE")


async def _fill_postgres(url: str, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table, values in rows.items():
            names = _COLUMNS[table].split()
            for start in range(0, len(values), _BATCH):
                await conn.copy_records_to_table(table, records=values[start : start + _BATCH], columns=names)
            if table in ("connections", "review_cases", "photos"):
                await conn.execute(f"SELECT setval('{table}_id_seq', {len(values) + 1})")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


async def _create_databases(names: list[str], keep: bool) -> None:
    conn = await asyncpg.connect(_PG_ADMIN)
    try:
        for name in names:
            if keep and await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                continue
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_databases(names: list[str]) -> None:
    conn = await asyncpg.connect(_PG_ADMIN)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _use(engine: Engine) -> None:
    """Point every table of the project at `engine` (the bench switches between two databases)."""
    for table in Finder().get_table_classes():
        table._meta.db = engine


async def _skew(target: Target, value: int | None) -> None:
    """Add SKEW_SHARE more photos of one uniform picture (both halves `value`, not informative), placed
    among the others; `None` takes them out again."""
    first = target.rows + 1
    if value is None:
        sql, args = "DELETE FROM photos WHERE id >= {0}", [first]
    else:
        h = hash_to_db(value * 0x0000_0001_0000_0001)
        sql = (
            "INSERT INTO photos (id, install, slot, sha256, content_type, size_bytes, width, height, uploaded_by, "
            "created_at, phash, core_hash, phash_h0, phash_h1, core_h0, core_h1, fingerprint, core_fingerprint, "
            "hash_informative) "
            "SELECT id + {0}, install, slot, 'u' || substr(sha256, 2), content_type, size_bytes, width, height, "
            "uploaded_by, created_at, {1}, {1}, {2}, {2}, {2}, {2}, '0', '0', {3} FROM photos "
            "WHERE id % {4} = 0 AND id < {0}"
        )
        args = [first, h, value, False, round(1 / SKEW_SHARE)]
    if target.url.startswith("sqlite"):
        with sqlite3.connect(target.url.removeprefix("sqlite:///")) as db:
            db.execute(sql.format(*["?"] * len(args)), _sqlite_args(sql, args))
            db.execute("ANALYZE")
        return
    conn = await asyncpg.connect(target.url)
    try:
        await conn.execute(sql.format(*[f"${i + 1}" for i in range(len(args))]), *args)
        await conn.execute("VACUUM ANALYZE photos")
    finally:
        await conn.close()


def _sqlite_args(sql: str, args: list[Any]) -> list[Any]:
    """The arguments in the order their numbered placeholders appear in `sql`."""
    import re

    return [args[int(i)] for i in re.findall(r"\{(\d)\}", sql)]


async def _timed(
    targets: list[Target], fn: Callable[[Target], Awaitable[object]], rounds: int = ROUNDS
) -> tuple[float, str]:
    """Median over rounds of (time at 1M) / (time at 10k), the order alternating round by round; and
    the median times in words."""
    for t in targets:  # warm: pool, caches, plans
        _use(t.engine)
        await fn(t)
    ratios, spent = [], {t.rows: [] for t in targets}
    for r in range(rounds):
        times = {}
        for t in targets if r % 2 == 0 else reversed(targets):
            _use(t.engine)
            best = float("inf")
            for _ in range(3):  # the least of three: a stray pause of the shared machine is not the query
                start = time.perf_counter()
                await fn(t)
                best = min(best, time.perf_counter() - start)
            times[t.rows] = best
            spent[t.rows].append(best)
        ratios.append(times[SCALES[1]] / times[SCALES[0]])
    ms = " vs ".join(f"{statistics.median(spent[n]) * 1000:.1f}" for n in SCALES)
    return statistics.median(ratios), f"({ms} ms)"


async def _measure(engine_name: str, targets: list[Target], lookup: QueryHashes) -> None:
    customer = Principal("cust-123", Role.CUSTOMER)
    installer = Principal("inst-123", Role.INSTALLER)  # 50 installs at 10k, 5,000 at 1M
    now = datetime.now(UTC)

    async def first_page(_: Target) -> object:
        return await review_service.queue(25, None, None, None, None, now)

    async def deep_page(t: Target) -> object:
        page = await review_service.queue(25, t.deep_cursor, None, None, None, now)
        assert len(page.cases) == 25
        return page

    async def customer_installs(_: Target) -> object:
        page = await installs_service.list_installs(customer, 21, None, None)
        assert len(page) == 2, page
        return page

    async def installer_installs(_: Target) -> object:
        page = await installs_service.list_installs(installer, 21, None, None)
        assert len(page) == 21, page
        return page

    other = uuid.uuid4()
    halves = {t.rows: StoredHalves() for t in targets}  # a worker's bitmap of each database's photos
    for t in targets:  # what a worker's first read takes (in the background: until it ends, no bitmap)
        _use(t.engine)
        start = time.perf_counter()
        await halves[t.rows].refresh(now)
        print(f"{engine_name}: stored halves, first read at {t.rows:,} photos: {time.perf_counter() - start:.2f} s")

    async def reuse(t: Target) -> object:
        return await verdict.find_reuse(halves[t.rows], now, other, "f" * 64, lookup)

    figures = [
        ("queue page", first_page),
        ("deep page", deep_page),
        ("customer installs", customer_installs),
        ("installer installs", installer_installs),
        ("reuse lookup", reuse),
    ]
    for label, fn in figures:
        ratio, ms = await _timed(targets, fn)
        print(f"{engine_name}: {label} 1M/10k: {ratio:.2f}x {ms}", flush=True)
    value = _lookup_half(lookup)
    for t in targets:
        await _skew(t, value)
        _use(t.engine)
        halves[t.rows] = StoredHalves()  # read again, the skewed rows with them
        await halves[t.rows].refresh(now)
    try:
        ratio, ms = await _timed(targets, reuse)
    finally:
        for t in targets:
            await _skew(t, None)
    print(f"{engine_name}: reuse lookup, skewed halves, 1M/10k: {ratio:.2f}x {ms}", flush=True)


def _lookup_half(lookup: QueryHashes) -> int:
    """A half value the lookup really queries (one of its crop hashes' high half): the worst case."""
    return hash_halves(int(lookup.crops[0]) & _U64)[0]


async def _deep_cursor(target: Target) -> tuple[datetime, int, int]:
    """The sort key of the open case halfway down the queue."""
    _use(target.engine)
    from backend.review.tables import ReviewCase

    n_open = await ReviewCase.count().where(ReviewCase.state == "open")
    rows = await ReviewCase.raw(
        "SELECT due_at, risk, id FROM review_cases WHERE state = 'open' ORDER BY due_at, risk DESC, id "
        "LIMIT 1 OFFSET {}",
        n_open // 2,
    )
    row = rows[0]
    due = row["due_at"]
    if isinstance(due, str):
        due = datetime.fromisoformat(due)
    return due, row["risk"], row["id"]


async def _run_engine(engine_name: str, lookup: QueryHashes) -> None:
    data_dir = tempfile.mkdtemp(prefix="selfinstall-scale-")
    rng = random.Random(11)
    started = time.perf_counter()
    if engine_name == "postgresql":
        names = [f"bench_scale_{'1m' if n == 1_000_000 else f'{n // 1000}k'}" for n in SCALES]
        urls = [f"postgresql://postgres@127.0.0.1:5432/{name}" for name in names]
        await _create_databases(names, keep=bool(KEEP))
    else:
        names = []
        data_dir = KEEP or data_dir
        urls = [f"sqlite:///{data_dir}/scale_{n}.sqlite3" for n in SCALES]
    try:
        targets = []
        for n, url in zip(SCALES, urls, strict=True):
            _migrate(url, data_dir)
            if not KEEP or not await _filled(url):
                rows = _rows(n, rng)
                if engine_name == "postgresql":
                    await _fill_postgres(url, rows)
                else:
                    _fill_sqlite(Path(url.removeprefix("sqlite:///")), rows)
                del rows
            engine = engine_for(replace(get_settings(), database_url=url))
            if isinstance(engine, PostgresEngine):
                await engine.start_connection_pool(max_size=2)
            targets.append(Target(rows=n, url=url, engine=engine))
        targets = [replace(t, deep_cursor=await _deep_cursor(t)) for t in targets]
        print(f"{engine_name}: filled {' and '.join(f'{n:,}' for n in SCALES)} rows in "
              f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
        await _measure(engine_name, targets, lookup)
        for t in targets:
            if isinstance(t.engine, PostgresEngine):
                await t.engine.close_connection_pool()
    finally:
        if names and not KEEP:
            await _drop_databases(names)


def _lookup() -> QueryHashes:
    data = (PHONE_PHOTOS / LOOKUP_PHOTO).read_bytes()
    facts = inspect_photo(io.BytesIO(data), max_pixels=50_000_000, find_qr=False, qr_upscale_below_px=0)
    return facts.lookup


async def _main(engines: list[str]) -> None:
    lookup = _lookup()
    for name in engines:
        await _run_engine(name, lookup)


def _postgres_reachable() -> bool:
    async def probe() -> None:
        await (await asyncpg.connect(_PG_ADMIN, timeout=3)).close()

    try:
        asyncio.run(probe())
        return True
    except (OSError, asyncpg.PostgresError):
        return False


def run() -> None:
    engines = ["postgresql"] if _postgres_reachable() else []
    if not engines:
        print("scale: PostgreSQL unreachable at 127.0.0.1:5432, skipped", flush=True)
    if os.environ.get("SCALE_SQLITE", "1") != "0":
        engines.append("sqlite")
    asyncio.run(_main(engines))


if __name__ == "__main__":
    run()
