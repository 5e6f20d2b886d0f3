"""50 phones doing full install flows against the real service: the upload target on SQLite and on
PostgreSQL (issue 9), and the same load on PostgreSQL + S3 with 1, 2 and 4 workers (issue 10).

`python -m bench.load --clients 50 --seconds 60 --engine sqlite|postgres|both|none` (and `make bench`)
starts `selfinstall serve` (granian; 1 worker on SQLite, 2 on PostgreSQL) on a fresh data folder,
resets and seeds its database, and runs `--clients` concurrent clients for `--seconds`. Each client
repeats the flow of the mobile app without pauses (bench/load_client.py): create an install, scan the
label, share a fix, enter the reading, upload three 1600x1200 JPEGs of its own meter (distinct
pictures, made once and cached), submit and view the result. A 503 with Retry-After is retried after
that many seconds (plus jitter), as the app does; any other 5xx, an unexpected status, a transport
error or a request still refused after GIVE_UP_S is an error. One client alone runs the same flow
before the load and after each of its ROUNDS parts, for the p50 of a single unloaded upload; the
loaded upload p99 (answered uploads, each attempt timed on its own) is printed as a ratio of it.
Target: 0 errors, upload p99 <= 4x that p50. Printed beside it: every step's p50/p99, and the upload
as the phone waited for it (first attempt to the answer, 503 retries included).

`--workers 1,2,4 --rounds 5 --run-seconds 20` then runs the scale-out (bench/load_scaleout.py);
`--workers none` skips it.

PostgreSQL: LOAD_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench, created if
missing; its tables are dropped and re-created, so never point it at a database you need).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass

from bench import load_scaleout
from bench.load_client import Recorder, Tally, alone, client_for, ms, p, phone, steps_line
from bench.load_setup import (
    Customer,
    PhotoSet,
    Server,
    free_port,
    photo_sets,
    prepare,
    scratch_dir,
    server_env,
)

TARGET = 4.0  # loaded upload p99 over the unloaded single-upload p50
# The load runs in ROUNDS parts, each after BASELINE_FLOWS flows of one client alone, and once more
# at the end: baseline and load interleaved (A B A B A B A), so the shared machine's drift hits both.
ROUNDS = 3
BASELINE_FLOWS = 2
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench"
WORKERS = {"sqlite": 1, "postgres": 2}


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
        return p(self.load.upload_s, 99) / statistics.median(self.baseline.upload_s)

    @property
    def ok(self) -> bool:
        return not self.load.errors and not self.baseline.errors and self.ratio <= TARGET


def report(r: Result) -> str:
    """The engine's line (the figure and the target), and lines of context."""
    t, b = r.load, r.baseline
    busy = sum(t.busy.values())
    p50, p99, base = statistics.median(t.upload_s), p(t.upload_s, 99), statistics.median(b.upload_s)
    met = "met" if r.ratio <= TARGET else "NOT met"
    deferred = f"p99 {ms(p(t.deferred_s, 99))}, longest {ms(max(t.deferred_s))}" if t.deferred_s else "none"
    return (
        f"load {r.engine} {r.clients} clients {r.seconds} s: {len(t.errors)} errors "
        f"(5xx other than 503+Retry-After: {t.server_errors}), 503 busy {busy} (all retried), "
        f"upload p50 {ms(p50)} p99 {ms(p99)} = {r.ratio:.1f}x the p50 of a single unloaded upload "
        f"({ms(base)}, measured in the same run); target <= {TARGET:.0f}x {met}\n"
        f"  {len(t.flow_s)} flows (p50 {ms(statistics.median(t.flow_s))}, p99 {ms(p(t.flow_s, 99))}), "
        f"{sum(t.statuses.values())} requests {dict(sorted(t.statuses.items()))}, 503 by code {dict(t.busy_codes)}; "
        f"a refused request was admitted after {deferred}; outcomes {dict(t.outcomes)}; "
        f"unloaded uploads p90 {ms(p(b.upload_s, 90))}, longest {ms(max(b.upload_s))}; "
        f"baseline errors {len(b.errors)}; load clients used {r.client_cpu:.0%} of a core; "
        f"machine load average {r.load_average[0]:.1f} -> {r.load_average[1]:.1f}\n"
        f"  {steps_line(t)}"
    )


async def _measure(
    engine: str, url: str, customers: list[Customer], sets: dict[str, list[PhotoSet]], seconds: int
) -> Result:
    *phones, single = customers
    single_sets = iter(sets[single.subject])
    # Each phone's photos in turn over all rounds; past its last set it starts again (reuse, flagged).
    phone_sets = {c.subject: itertools.cycle(sets[c.subject]) for c in phones}
    baseline, load = Tally(), Recorder(Tally())
    load_before, cpu, busy_s = os.getloadavg()[0], 0.0, 0.0
    # Each phone's client is made before the rounds (not as its round starts, while the requests of
    # the phones already going are being timed) and kept, as a phone keeps its connection.
    clients = {c.subject: client_for(url, c) for c in phones}
    try:
        for n in range(ROUNDS + 1):
            await alone(url, single, [next(single_sets) for _ in range(BASELINE_FLOWS)], baseline)
            if n == ROUNDS:
                break
            cpu_start, wall_start = time.process_time(), time.perf_counter()
            until = time.monotonic() + seconds / ROUNDS
            await asyncio.gather(
                *(phone(url, load, c, phone_sets[c.subject], until, clients[c.subject]) for c in phones)
            )
            cpu, busy_s = cpu + time.process_time() - cpu_start, busy_s + time.perf_counter() - wall_start
    finally:
        await asyncio.gather(*(client.aclose() for client in clients.values()))
    return Result(engine, len(phones), seconds, load.tally, baseline, cpu / busy_s, (load_before, os.getloadavg()[0]))


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


def _counts(text: str) -> list[int]:
    if text == "none":
        return []
    counts = [int(n) for n in text.split(",")]
    if len(counts) < 2 or min(counts) < 1 or len(set(counts)) != len(counts):
        raise argparse.ArgumentTypeError("two or more distinct worker counts, e.g. 1,2,4 (or none)")
    return counts


def main(argv: list[str] | None = None) -> int:
    """The upload target on the chosen engines, then the scale-out; exit status 1 on errors or a missed target."""
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=int, default=60, help="the upload target's load per engine")
    ap.add_argument("--engine", choices=["sqlite", "postgres", "both", "none"], default="both", help="upload target")
    ap.add_argument("--flows-per-client", type=int, default=10, help="distinct photo sets per client (cached)")
    ap.add_argument(
        "--workers",
        type=_counts,
        default=[1, 2, 4],
        help="scale-out worker counts, compared with the first; none: skip",
    )
    ap.add_argument("--rounds", type=int, default=5, help="scale-out rounds: every worker count once a round")
    ap.add_argument("--run-seconds", type=int, default=20, help="scale-out: measured seconds of each run")
    ap.add_argument("--warmup-seconds", type=int, default=5, help="scale-out: load before each run's window")
    args = ap.parse_args(argv)
    ok = True
    for engine in {"both": ("sqlite", "postgres"), "none": ()}.get(args.engine, (args.engine,)):
        url = "" if engine == "sqlite" else postgres_url(os.environ.get("LOAD_DATABASE_URL"))
        if url is None:
            continue
        result = run_engine(engine, url, args.clients, args.seconds, args.flows_per_client)
        print(report(result), flush=True)
        ok = ok and result.ok
    if args.workers:
        url = postgres_url(os.environ.get("LOAD_DATABASE_URL"))
        if url is not None:
            ok = ok and load_scaleout.run(
                url,
                args.workers,
                args.clients,
                args.rounds,
                args.run_seconds,
                args.warmup_seconds,
                args.flows_per_client,
            )
    return 0 if ok else 1


def run() -> None:
    """`make bench`: the upload target on both engines and the scale-out, at the defaults."""
    main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
