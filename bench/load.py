"""50 phones doing full install flows against the real service, on SQLite and on PostgreSQL.

`python -m bench.load --clients 50 --seconds 60 --engine sqlite|postgres|both` (and `make bench`)
starts `selfinstall serve` (granian; 1 worker on SQLite, 2 on PostgreSQL) on a fresh data folder,
resets and seeds its database, and runs `--clients` concurrent clients for `--seconds`. Each client
repeats the flow of the mobile app without pauses: create an install, scan the label, share a fix,
enter the reading, upload three 1600x1200 JPEGs of its own meter (distinct pictures, made once and
cached), submit and view the result. A 503 with Retry-After is retried after that many seconds
(plus jitter), as the app does; any other 5xx, an unexpected status, a transport error or a request
still refused after GIVE_UP_S is an error. One client alone runs the same flow before the load and
after each of its ROUNDS parts, for the p50 of a single unloaded upload; the loaded upload p99
(answered uploads, each attempt timed on its own) is printed as a ratio of it. Target: 0 errors,
upload p99 <= 4x that p50.

PostgreSQL: LOAD_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench, created if
missing; its tables are dropped and re-created, so never point it at a database you need).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import shutil
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from bench.load_setup import (
    ARNHEM,
    ASSET_TYPE,
    SLOTS,
    Customer,
    PhotoSet,
    Server,
    free_port,
    photo_sets,
    photo_time,
    prepare,
    scratch_dir,
    server_env,
)

TARGET = 4.0  # loaded upload p99 over the unloaded single-upload p50
# The load runs in ROUNDS parts, each after BASELINE_FLOWS flows of one client alone, and once more
# at the end: baseline and load interleaved (A B A B A B A), so the shared machine's drift hits both.
ROUNDS = 3
BASELINE_FLOWS = 2
GIVE_UP_S = 120.0  # a request still refused after this long counts an error (the app would tell its user)
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench"
WORKERS = {"sqlite": 1, "postgres": 2}
BASE = "/mobile/v1/installs"
_jpeg = {"Content-Type": "image/jpeg"}


@dataclass
class Tally:
    """What the clients saw."""

    upload_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)  # 503 problem codes, retried
    errors: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    deferred_s: list[float] = field(default_factory=list)  # per request refused at least once: time until admitted
    flow_s: list[float] = field(default_factory=list)  # whole flows, retries included

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) - sum(self.retried.values())


async def _call(
    client: httpx.AsyncClient, tally: Tally, method: str, url: str, expect: tuple[int, ...], **kw: Any
) -> httpx.Response | None:
    """One request of the app, retried on 503 + Retry-After; None (an error) on anything unexpected."""
    upload = method == "PUT"
    first, refused = time.perf_counter(), False
    while time.perf_counter() - first < GIVE_UP_S:
        started = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            tally.errors.append(f"{method} {url}: {exc!r}")
            return None
        elapsed = time.perf_counter() - started
        tally.statuses[r.status_code] += 1
        if r.status_code == 503 and r.headers.get("retry-after", "").isdigit():
            tally.retried[_code(r)] += 1
            refused = True
            await asyncio.sleep(int(r.headers["retry-after"]) * random.uniform(1.0, 1.5))
            continue
        if r.status_code not in expect:
            tally.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
            return None
        if upload:
            tally.upload_s.append(elapsed)
        if refused:
            tally.deferred_s.append(started - first)
        return r
    tally.errors.append(f"{method} {url}: still refused after {GIVE_UP_S:.0f} s")
    return None


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code", "?"))
    except ValueError:
        return "?"


async def flow(client: httpx.AsyncClient, tally: Tally, who: Customer, photos: PhotoSet) -> bool:
    """The mobile app's happy path, start to end; False once a step failed."""
    begun, started = time.perf_counter(), photo_time()
    install_id = str(uuid.uuid4())
    url = f"{BASE}/{install_id}"
    fix = {
        "lat": ARNHEM[0],
        "lon": ARNHEM[1],
        "accuracy_m": 6.0,
        "captured_at": (started + timedelta(minutes=1)).isoformat(),
        "provider": "gps",
    }
    body = {"id": install_id, "connection_ean": who.ean, "asset_type": ASSET_TYPE, "started_at": started.isoformat()}
    steps: list[tuple[str, str, tuple[int, ...], dict[str, Any]]] = [
        ("POST", BASE, (200, 201), {"json": body}),
        ("POST", f"{url}/scan", (200,), {"json": {"payload": who.payload}}),
        ("POST", f"{url}/location", (200,), {"json": fix}),
        ("POST", f"{url}/reading", (200,), {"json": {"value": 4512.7}}),
        *(
            ("PUT", f"{url}/photos/{slot}", (200, 201), {"content": photos.of(slot), "headers": _jpeg})
            for slot in SLOTS
        ),
        ("POST", f"{url}/submit", (200,), {}),
    ]
    for method, path, expect, kw in steps:
        if await _call(client, tally, method, path, expect, **kw) is None:
            return False
    view = await _call(client, tally, "GET", url, (200,))
    if view is None:
        return False
    tally.outcomes[view.json()["state"]] += 1
    tally.flow_s.append(time.perf_counter() - begun)
    return True


def _client(url: str, who: Customer) -> httpx.AsyncClient:
    # One connection per phone; a request that hangs for minutes is an error, not a slow answer.
    return httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {who.token}", "Accept-Language": "en"},
        timeout=120,
        limits=httpx.Limits(max_connections=1),
    )


async def _phone(url: str, tally: Tally, who: Customer, sets: Iterator[PhotoSet], until: float) -> None:
    async with _client(url, who) as client:
        while time.monotonic() < until:
            await flow(client, tally, who, next(sets))


async def _alone(url: str, who: Customer, sets: list[PhotoSet], tally: Tally) -> None:
    async with _client(url, who) as client:
        for photos in sets:
            await flow(client, tally, who, photos)


@dataclass
class Result:
    engine: str
    clients: int
    seconds: int
    load: Tally
    baseline: Tally
    client_cpu: float  # share of one core the load clients themselves used (they run on this machine)
    load_average: tuple[float, float]  # the machine's 1-minute load before and after (it is shared)

    @property
    def ratio(self) -> float:
        return _p(self.load.upload_s, 99) / statistics.median(self.baseline.upload_s)

    @property
    def ok(self) -> bool:
        return not self.load.errors and not self.baseline.errors and self.ratio <= TARGET


def _p(values: list[float], pct: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def report(r: Result) -> str:
    """The engine's line (the figure and the target), and a line of context."""
    t, b = r.load, r.baseline
    busy = sum(t.retried.values())
    p50, p99, base = statistics.median(t.upload_s), _p(t.upload_s, 99), statistics.median(b.upload_s)
    met = "met" if r.ratio <= TARGET else "NOT met"
    deferred = f"p99 {_ms(_p(t.deferred_s, 99))}, longest {_ms(max(t.deferred_s))}" if t.deferred_s else "none"
    return (
        f"load {r.engine} {r.clients} clients {r.seconds} s: {len(t.errors)} errors "
        f"(5xx other than 503+Retry-After: {t.server_errors}), 503 busy {busy} (all retried), "
        f"upload p50 {_ms(p50)} p99 {_ms(p99)} = {r.ratio:.1f}x the p50 of a single unloaded upload "
        f"({_ms(base)}, measured in the same run); target <= {TARGET:.0f}x {met}\n"
        f"  {len(t.flow_s)} flows (p50 {_ms(statistics.median(t.flow_s))}, p99 {_ms(_p(t.flow_s, 99))}), "
        f"{sum(t.statuses.values())} requests {dict(sorted(t.statuses.items()))}, 503 by code {dict(t.retried)}; "
        f"a refused request was admitted after {deferred}; outcomes {dict(t.outcomes)}; "
        f"unloaded uploads p90 {_ms(_p(b.upload_s, 90))}, longest {_ms(max(b.upload_s))}; "
        f"baseline errors {len(b.errors)}; load clients used {r.client_cpu:.0%} of a core; "
        f"machine load average {r.load_average[0]:.1f} -> {r.load_average[1]:.1f}"
    )


async def _measure(
    engine: str, url: str, customers: list[Customer], sets: dict[str, list[PhotoSet]], seconds: int
) -> Result:
    *phones, alone = customers
    alone_sets = iter(sets[alone.subject])
    # Each phone's photos in turn over all rounds; past its last set it starts again (reuse, flagged).
    phone_sets = {c.subject: itertools.cycle(sets[c.subject]) for c in phones}
    baseline, load = Tally(), Tally()
    load_before, cpu, busy_s = os.getloadavg()[0], 0.0, 0.0
    for n in range(ROUNDS + 1):
        await _alone(url, alone, [next(alone_sets) for _ in range(BASELINE_FLOWS)], baseline)
        if n == ROUNDS:
            break
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        until = time.monotonic() + seconds / ROUNDS
        await asyncio.gather(*(_phone(url, load, c, phone_sets[c.subject], until) for c in phones))
        cpu, busy_s = cpu + time.process_time() - cpu_start, busy_s + time.perf_counter() - wall_start
    return Result(engine, len(phones), seconds, load, baseline, cpu / busy_s, (load_before, os.getloadavg()[0]))


def run_engine(engine: str, database_url: str, clients: int, seconds: int, flows_per_client: int) -> Result:
    """One engine, start to end: service up, seeded, baseline, load, baseline, service down."""
    data_dir = scratch_dir()
    env = server_env(data_dir, database_url or f"sqlite:///{data_dir / 'load.sqlite3'}", WORKERS[engine], free_port())
    customers = prepare(env, clients)
    sets = photo_sets(customers[:-1], flows_per_client)
    sets |= photo_sets(customers[-1:], (ROUNDS + 1) * BASELINE_FLOWS)
    log = data_dir / "server.log"
    with Server(env, log) as server:
        result = asyncio.run(_measure(engine, server.url, customers, sets, seconds))
    if result.load.errors or result.baseline.errors:
        print(f"  first errors: {(result.load.errors + result.baseline.errors)[:5]}; server log: {log}", flush=True)
    else:  # the uploaded photos of a clean run are of no further use
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def postgres_url(url: str | None) -> str | None:
    """The load database (created if missing), or None when no PostgreSQL server answers."""
    import asyncpg

    url = url or DEFAULT_PG_URL
    base, _, name = url.rpartition("/")

    async def ensure() -> None:
        conn = await asyncpg.connect(f"{base}/postgres", timeout=5)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        asyncio.run(ensure())
    except OSError as exc:  # refused, unreachable: anything else (a wrong password) is worth its traceback
        print(f"load postgres: skipped, no PostgreSQL server at {base} ({exc})", flush=True)
        return None
    return url


def main(argv: list[str] | None = None) -> int:
    """Run the load on the chosen engines; exit status 1 when an engine had errors or missed the target."""
    p = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--flows-per-client", type=int, default=10, help="distinct photo sets per client (cached)")
    args = p.parse_args(argv)
    results = []
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        url = "" if engine == "sqlite" else postgres_url(os.environ.get("LOAD_DATABASE_URL"))
        if url is None:
            continue
        result = run_engine(engine, url, args.clients, args.seconds, args.flows_per_client)
        print(report(result), flush=True)
        results.append(result)
    return 0 if all(r.ok for r in results) else 1


def run() -> None:
    """`make bench`: both engines at the defaults."""
    main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
