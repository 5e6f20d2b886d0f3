"""Photos per second through the API against the bare validation rate, in the same run (issue 11, item 5).

`python -m bench.http_photos [--engine sqlite|postgres|both] [--rounds 7] [--uploads 12]` (and `make bench`):
- bare validation: the function an upload runs (inspect_photo, then run_photo_checks, as
  bench/photo_validation.py calls them) over a round's photos in this process with 2 threads;
- HTTP: the real service (`selfinstall serve` at its defaults: 1 worker, 2 CPU threads; bench/load_setup.py:
  fresh data folder, database reset, migrated and seeded) receiving the same photos from 2 concurrent
  keep-alive clients, each upload into the label slot of a fresh install (created and scanned before the
  round, not timed);
- the floor: what any durable upload pays here (bench.http_photos:floor_app, plain Litestar on granian, 1
  worker: the body streamed to a file with its SHA-256, the same validation on 2 threads while the file is
  fsynced, renamed to its hash, its folder fsynced; no database, no middleware), the same photos, the same
  2 clients;
photos/s over the round's uploads; the three interleaved round by round (their order rotating), each
figure the median of the per-round ratios:

    http photos/s ÷ bare validation: 0.NNx (SQLite, 1 worker, 2 clients; ...)
      floor, same rounds: a bare durable upload (...): 0.NNx bare validation

Photos: real phone JPEGs of the corpus with the client's printed label pasted (fixtures.degrade.label_on_photo,
at 15 % of the width), each also rolled by half its width, height or both (so every upload of the run is a
distinct picture: a picture seen before would turn the reuse lookup into a different, costlier path), and
the generator's 12 MP label photo with a seed per upload. Every HTTP answer must be 201 with its label read
and its reuse check passed. The last line gives the server's CPU time a photo (all its processes) against
the validation's own in the bare run, and the floor's. Target >= 0.8x.
PostgreSQL: HTTP_PHOTOS_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_photos, created if
missing; its tables are dropped and re-created, so never point it at a database you need).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import shutil
import statistics
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import httpx
import numpy as np
from PIL import Image

from bench.common import PHONE_PHOTOS, cached, source_key
from bench.load import postgres_url
from bench.load_setup import (
    ARNHEM,
    ASSET_TYPE,
    Customer,
    Server,
    baseline,
    free_port,
    photo_time,
    prepare,
    scratch_dir,
    server_env,
)

TARGET = 0.8
FLOOR_PATH = "/floor"
CLIENTS = 2
THREADS = 2  # the bare rate: as many threads as the service's CPU pool has at its defaults (1 worker, 2 cores)
SLOT = "meter_label"
LABEL_SHARE = 0.15
ROLLS = ((0, 0), (1, 0), (0, 1), (1, 1))  # halves of the width / height
REAL_SHARE = 2 / 3  # of a round's uploads; the rest generated
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_photos"
ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True, slots=True)
class Photo:
    name: str
    data: bytes
    payload: str  # the label in the picture: its client's meter
    client: int


# --- photos ------------------------------------------------------------------------------------


def _real(name: str, roll: tuple[int, int], payload: str, taken: datetime) -> bytes:
    from fixtures.degrade import label_on_photo, open_upright

    img = open_upright(PHONE_PHOTOS / name)
    if roll != (0, 0):
        img = Image.fromarray(np.roll(np.asarray(img), (roll[1] * img.height // 2, roll[0] * img.width // 2), (0, 1)))
    return label_on_photo(img, payload, captured_at=taken, gps=ARNHEM, width_share=LABEL_SHARE)


def _generated(seed: int, payload: str, serial: str, taken: datetime) -> bytes:
    from fixtures.photos import render_meter_photo

    return render_meter_photo(payload, serial=serial, size=(4000, 3000), seed=seed, captured_at=taken, gps=ARNHEM)


def _make(job: tuple) -> bytes:
    key, kind, *args = job
    return cached(key, lambda: (_real if kind == "real" else _generated)(*args))


def make_photos(customers: list[Customer], count: int) -> list[Photo]:
    """`count` distinct pictures, real and generated in turn, each labelled for the client that sends it."""
    import fixtures.degrade
    import fixtures.photos

    taken = photo_time()
    code = source_key(fixtures.degrade, fixtures.photos)
    stamp = int(taken.timestamp())
    reals = [(name, roll) for roll in ROLLS for name in sorted(p.name for p in PHONE_PHOTOS.glob("*.jpg"))]
    jobs, names, owners = [], [], []
    real_i = gen_i = 0
    for n in range(count):
        client = n % CLIENTS
        c = customers[client]
        tag = c.payload.replace(":", "_")
        if (n * REAL_SHARE) % 1 < REAL_SHARE and real_i < len(reals):
            name, roll = reals[real_i]
            real_i += 1
            key = f"http-{code}-{stamp}-{tag}-{name}-{roll[0]}{roll[1]}.jpg"
            jobs.append((key, "real", name, roll, c.payload, taken))
            names.append(f"{name} rolled {roll}")
        else:
            gen_i += 1
            jobs.append((f"http-{code}-{stamp}-{tag}-gen-{gen_i}.jpg", "gen", 1000 + gen_i, c.payload, c.serial, taken))
            names.append(f"generated seed {1000 + gen_i}")
        owners.append(client)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        data = list(pool.map(_make, jobs, chunksize=4))
    return [
        Photo(name, d, customers[client].payload, client) for name, d, client in zip(names, data, owners, strict=True)
    ]


# --- the bare validation rate --------------------------------------------------------------------


def _validate(photo: Photo) -> None:
    """What the upload runs on the staged file: inspect, then the photo checks."""
    check_label(io.BytesIO(photo.data), photo.payload, photo.name)


def check_label(fp: BinaryIO, payload: str, name: str) -> None:
    """inspect_photo, then run_photo_checks, as bench/photo_validation.py calls them; the label must be read."""
    import msgspec

    from backend.validation.photo import inspect_photo
    from backend.validation.photo_checks import PhotoEvidence, run_photo_checks
    from bench.photo_validation import MAX_PIXELS, POLICY, _context

    facts = inspect_photo(
        fp,
        max_pixels=MAX_PIXELS,
        find_qr=True,
        qr_upscale_below_px=POLICY.photo.qr_retry_upscale_below_px,
        local_tz=ZoneInfo(POLICY.freshness.exif_timezone),
    )
    context = msgspec.structs.replace(_context(datetime.now(UTC)), expected_payload=payload)
    results = run_photo_checks(PhotoEvidence.from_facts(SLOT, facts), context, POLICY)
    label = next(r for r in results if r.check == "label_qr")
    assert label.status.value == "pass", (name, label)


def bare_rate(photos: list[Photo]) -> tuple[float, float]:
    """Photos/s with THREADS threads over `photos`, and this process's CPU seconds a photo."""
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(_validate, photos))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(photos) / wall, cpu / len(photos)


# --- the floor: a bare durable upload ----------------------------------------------------------


def floor_app():  # noqa: ANN201 - a granian factory
    """What any durable upload pays on this machine, as a capable user writes it in plain Litestar: the body
    streamed to a file in DATA_DIR with its SHA-256 taken on the way, the same validation on THREADS threads
    while the file is fsynced, then renamed to its hash and its folder fsynced; no database (no install, no
    reuse lookup, no rows), no audit, no middleware."""
    from litestar import Litestar, Request, get, put

    folder = Path(os.environ["DATA_DIR"]) / "floor"
    folder.mkdir(exist_ok=True)
    pool = ThreadPoolExecutor(THREADS)

    def validate(fp: BinaryIO, payload: str) -> None:
        with fp:
            check_label(fp, payload, payload)

    def durable(fd: int, part: Path, sha256: str) -> None:
        os.fsync(fd)
        os.close(fd)
        part.rename(folder / sha256)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @put(f"{FLOOR_PATH}/{{payload:str}}", status_code=201)
    async def upload(request: Request, payload: str) -> dict[str, str]:
        part = folder / f"{uuid.uuid4()}.part"
        digest = hashlib.sha256()
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        async for chunk in request.stream():
            digest.update(chunk)
            os.write(fd, chunk)
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            loop.run_in_executor(pool, validate, part.open("rb"), payload),  # opened before the rename
            loop.run_in_executor(None, durable, fd, part, digest.hexdigest()),
        )
        return {"sha256": digest.hexdigest()}

    @get("/health", sync_to_thread=False)
    def health() -> str:
        return "ok"

    return Litestar(route_handlers=[upload, health], request_max_body_size=64 * 1024 * 1024)


# --- the HTTP rate -----------------------------------------------------------------------------


def _group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every process in the group: the server and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state ppid pgrp ...
            total += int(fields[11]) + int(fields[12])
    return total / tick


async def _installs(url: str, customers: list[Customer], photos: list[Photo]) -> list[str]:
    """A fresh install per photo, created and scanned by its client (not timed)."""
    started = photo_time().isoformat()
    ids = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for photo in photos:
            c = customers[photo.client]
            headers = {"Authorization": f"Bearer {c.token}"}
            install_id = str(uuid.uuid4())
            body = {"id": install_id, "connection_ean": c.ean, "asset_type": ASSET_TYPE, "started_at": started}
            for path, json in (("", body), (f"/{install_id}/scan", {"payload": c.payload})):
                r = await client.post(f"/mobile/v1/installs{path}", json=json, headers=headers)
                if r.status_code not in (200, 201):
                    raise RuntimeError(f"setting up an install: {r.request.url} -> {r.status_code} {r.text}")
            ids.append(install_id)
    return ids


async def _upload_all(url: str, customers: list[Customer], photos: list[Photo], paths: list[str]) -> list[str]:
    """Every photo PUT to its path by its client (CLIENTS at once, keep-alive); problems found in the answers
    (the service's: label read and reuse check passed; the floor asserts the label itself)."""
    problems: list[str] = []

    async def client(n: int) -> None:
        headers = {"Authorization": f"Bearer {customers[n].token}", "Content-Type": "image/jpeg"}
        async with httpx.AsyncClient(base_url=url, timeout=120, headers=headers) as http:
            for photo, path in zip(photos, paths, strict=True):
                if photo.client != n:
                    continue
                r = await http.put(path, content=photo.data)
                if r.status_code != 201:
                    problems.append(f"{photo.name}: {r.status_code} {r.text[:200]}")
                    continue
                if path.startswith(FLOOR_PATH):
                    continue
                checks = {c["check"]: c for c in r.json()["photo"]["checks"]}
                if checks["reuse"]["status"] != "pass" or checks["label_qr"]["status"] != "pass":
                    problems.append(f"{photo.name}: reuse {checks['reuse']['status']}, label {checks['label_qr']}")

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    return problems


def http_rate(
    server: Server, customers: list[Customer], photos: list[Photo], floor: bool = False
) -> tuple[float, float]:
    """Photos/s through the served app (the floor app with `floor`), and the server's CPU seconds a photo."""
    if floor:
        paths = [f"{FLOOR_PATH}/{photo.payload}" for photo in photos]
    else:
        ids = asyncio.run(_installs(server.url, customers, photos))
        paths = [f"/mobile/v1/installs/{install_id}/photos/{SLOT}" for install_id in ids]
    pgid = server._proc.pid  # noqa: SLF001 - the server runs in a process group of its own
    cpu, wall = _group_cpu_s(pgid), time.perf_counter()
    problems = asyncio.run(_upload_all(server.url, customers, photos, paths))
    wall, cpu = time.perf_counter() - wall, _group_cpu_s(pgid) - cpu
    if problems:
        raise RuntimeError("uploads went wrong:\n" + "\n".join(problems))
    return len(photos) / wall, cpu / len(photos)


# --- one engine --------------------------------------------------------------------------------


def run_engine(engine: str, database_url: str, rounds: int, uploads: int) -> float:
    data_dir = scratch_dir()
    env = server_env(data_dir, database_url or f"sqlite:///{data_dir / 'photos.sqlite3'}", 1, free_port())
    customers = prepare(env, CLIENTS - 1)
    warm = 2 * CLIENTS
    photos = make_photos(customers, warm + rounds * uploads)
    rates: dict[str, list[float]] = {"bare": [], "floor": [], "http": []}
    cpus: dict[str, list[float]] = {"bare": [], "floor": [], "http": []}
    with (
        Server(env, data_dir / "server.log") as server,
        baseline("bench.http_photos:floor_app", env, data_dir / "floor.log", "/health") as floor,
    ):
        runs = {
            "bare": bare_rate,
            "floor": lambda batch: http_rate(floor, customers, batch, floor=True),
            "http": lambda batch: http_rate(server, customers, batch),
        }
        for run in runs.values():  # imports, zxing, connections: once
            run(photos[:warm])
        names = list(runs)
        for r in range(rounds):
            batch = photos[warm + r * uploads : warm + (r + 1) * uploads]
            for name in names[r % len(names) :] + names[: r % len(names)]:
                rate, cpu = runs[name](batch)
                rates[name].append(rate)
                cpus[name].append(cpu)
    shutil.rmtree(data_dir, ignore_errors=True)  # a clean run's ~100 MB of photos (a failed one keeps its log)

    def median_ratio(of: dict[str, list[float]], a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(of[a], of[b], strict=True))

    ratio, floor_ratio = median_ratio(rates, "http", "bare"), median_ratio(rates, "floor", "bare")
    verdict = "met" if ratio >= TARGET else "NOT met"
    print(
        f"http photos/s ÷ bare validation: {ratio:.2f}x ({ENGINE_NAMES[engine]}, 1 worker, {CLIENTS} clients; "
        f"median of {rounds} interleaved rounds of {uploads} uploads; target >= {TARGET}x: {verdict})",
        flush=True,
    )
    print(
        f"  floor, same rounds: a bare durable upload (plain Litestar: streamed to a file with its SHA-256, "
        f"the same validation, fsync, rename; no database): {floor_ratio:.2f}x bare validation",
        flush=True,
    )
    medians = {name: statistics.median(rates[name]) for name in rates}
    per_round = ", ".join(f"{x / y:.2f}" for x, y in zip(rates["http"], rates["bare"], strict=True))
    print(
        f"  per round {per_round}; photos/s (medians) http {medians['http']:.1f}, floor {medians['floor']:.1f}, "
        f"bare {medians['bare']:.1f} ({THREADS} threads); server CPU a photo {median_ratio(cpus, 'http', 'bare'):.2f}x "
        f"the validation's own, the floor's {median_ratio(cpus, 'floor', 'bare'):.2f}x",
        flush=True,
    )
    return ratio


def main(argv: list[str] | None = None) -> int:
    """Both engines by default; exit status 1 when an engine misses the target."""
    p = argparse.ArgumentParser(prog="python -m bench.http_photos", description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--uploads", type=int, default=12, help="uploads a round (distinct pictures)")
    args = p.parse_args(argv)
    ok = True
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        url = "" if engine == "sqlite" else postgres_url(os.environ.get("HTTP_PHOTOS_DATABASE_URL") or DEFAULT_PG_URL)
        if url is None:
            continue
        ok = run_engine(engine, url, args.rounds, args.uploads) >= TARGET and ok
    return 0 if ok else 1


def run() -> None:
    """`make bench`: both engines at the defaults."""
    main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
