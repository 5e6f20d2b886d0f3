"""The service a load run talks to: a granian subprocess on a fresh data folder, its database reset,
migrated and seeded with one connection, meter and token per client, and photos made once.

`python -m bench.load_setup prepare N` is the seeding step, run as a subprocess with the server's
environment (the project binds its database engine from the environment at import).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

from bench.common import cached, source_key

ASSET_TYPE = "smart_meter_1p"
SLOTS = ("meter_label", "meter_display", "cabinet_overview")
ARNHEM = (51.98370, 5.90560)  # inside the demo territory: the checks pass, as on a good day
# Photos are cached between runs, so their EXIF time is the start of a 3-day bucket; installs are
# started at that time (the phone's offline start may lie up to 7 days back), so the checks pass.
BUCKET_S = 3 * 86400
VENV_BIN = Path(sys.executable).parent


class Customer(msgspec.Struct, frozen=True):
    """One simulated phone: its user, token, connection and meter."""

    subject: str
    token: str
    ean: str
    serial: str
    payload: str


def photo_time(now: float | None = None) -> datetime:
    """When the cached photos were 'taken' (the start of the current bucket)."""
    now = time.time() if now is None else now
    return datetime.fromtimestamp(now - now % BUCKET_S, UTC)


def gps_fix(started: datetime) -> dict[str, object]:
    """The phone's GPS fix at the meter cabinet, a minute into the install started at `started`."""
    captured = (started + timedelta(minutes=1)).isoformat()
    return {"lat": ARNHEM[0], "lon": ARNHEM[1], "accuracy_m": 6.0, "captured_at": captured, "provider": "gps"}


def server_env(data_dir: Path, database_url: str, workers: int, port: int) -> dict[str, str]:
    """The environment of the service and of its seeding step."""
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        WORKERS=str(workers),
        HOST="127.0.0.1",
        PORT=str(port),
        # The limiter is per client address; every simulated phone here shares 127.0.0.1.
        RATE_LIMIT_PER_MINUTE="0",
    )
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(env: dict[str, str], clients: int) -> list[Customer]:
    """Reset and migrate the database, seed `clients` customers (plus one for the baseline)."""
    out = Path(env["DATA_DIR"]) / "customers.json"
    subprocess.run(
        [sys.executable, "-m", "bench.load_setup", "prepare", str(clients), str(out)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,  # the migration runner prints its progress
    )
    return msgspec.json.decode(out.read_bytes(), type=list[Customer])


class Server:
    """`selfinstall serve --workers N` as a subprocess; its output goes to `log_path` (tracebacks of any 500).

    Ready once every worker has started, not just the first that answers /health: a run must not
    measure fewer workers than it names. The server runs in a process group of its own, so a worker
    left behind by a stuck shutdown is stopped with it."""

    START_WITHIN_S = 120  # four workers importing on a busy 2-core machine took 20-40 s

    def __init__(
        self, env: dict[str, str], log_path: Path, argv: list[str] | None = None, ready_path: str = "/health"
    ) -> None:
        """`argv` another granian app to serve the same way (a bench's baseline), `ready_path` its liveness route."""
        self.env = env
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{env['PORT']}"
        self.workers = int(env["WORKERS"])
        self.argv = argv or [str(VENV_BIN / "selfinstall"), "serve", "--workers", str(self.workers)]
        self.ready_path = ready_path
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.START_WITHIN_S
        while not self._ready():  # readiness, not a measurement
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__()
                raise RuntimeError(f"{' '.join(self.argv)} did not start; see {self.log_path}")
            time.sleep(0.2)
        return self

    def _ready(self) -> bool:
        if self.log_path.read_bytes().count(b"Started worker-") < self.workers:
            return False
        try:
            return httpx.get(f"{self.url}{self.ready_path}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def __exit__(self, *_: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            try:  # any worker the server did not stop (granian can miss one that started late)
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass(frozen=True, slots=True)
class PhotoSet:
    """The three photos of one flow, each a distinct picture (so no flow looks like reuse)."""

    meter_label: bytes
    meter_display: bytes
    cabinet_overview: bytes

    def of(self, slot: str) -> bytes:
        return getattr(self, slot)


def _render(slot: str, payload: str, serial: str, seed: int, taken: datetime) -> bytes:
    from fixtures.demo_photos import photo_for_slot  # what the tests and the walk-through upload

    return photo_for_slot(slot, payload=payload, serial=serial, gps=ARNHEM, captured_at=taken, seed=seed)


def _cached_photo(key: str, slot: str, payload: str, serial: str, seed: int, taken: datetime) -> bytes:
    return cached(key, lambda: _render(slot, payload, serial, seed, taken))


def photo_sets(customers: list[Customer], per_customer: int) -> dict[str, list[PhotoSet]]:
    """1600x1200 JPEGs of each customer's own meter, made once (two processes) and cached."""
    import fixtures.demo_photos
    import fixtures.photos

    taken = photo_time()
    code = source_key(fixtures.photos, fixtures.demo_photos)
    jobs = []
    for c in customers:
        for k in range(per_customer):
            seed = int.from_bytes(f"{c.serial}/{k}".encode()[-8:], "big") % (1 << 30)
            for slot in SLOTS:
                key = f"load-{code}-{int(taken.timestamp())}-{c.payload.replace(':', '_')}-{slot}-{k}.jpg"
                jobs.append((key, slot, c.payload, c.serial, seed, taken))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        photos = list(pool.map(_cached_photo, *zip(*jobs, strict=True), chunksize=8))
    sets: dict[str, list[PhotoSet]] = {}
    it = iter(photos)
    for c in customers:
        sets[c.subject] = [PhotoSet(next(it), next(it), next(it)) for _ in range(per_customer)]
    return sets


async def _prepare(clients: int) -> list[Customer]:
    from piccolo.engine.postgres import PostgresEngine

    from backend.auth import issue_token
    from backend.installs import qr
    from backend.installs import repository as repo
    from backend.installs.ean import check_digit
    from backend.installs.tables import Install
    from backend.migrate import migrate
    from backend.piccolo_conf import APP_REGISTRY
    from backend.principal import Role
    from backend.settings import get_settings

    settings = get_settings()
    engine = Install._meta.db
    if isinstance(engine, PostgresEngine):  # a scratch database: every run starts from empty tables
        tables = [t._meta.tablename for app in APP_REGISTRY.app_configs.values() for t in app.table_classes]
        for table in (*tables, "migration"):
            await engine.run_ddl(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    await migrate()
    now = datetime.now(UTC)
    customers = []
    for n in range(clients + 1):  # the last one measures the unloaded baseline
        subject = f"load-{n:03d}"
        serial = f"MTR1-L{n:06d}"
        body = f"87168799{n:09d}"  # a range of its own, away from the demo seed's connections
        ean = body + str(check_digit(body))
        customers.append(
            Customer(
                subject=subject,
                token=issue_token(settings, subject, Role.CUSTOMER, timedelta(hours=1)),
                ean=ean,
                serial=serial,
                payload=qr.sign(serial, settings.qr_keys, settings.qr_active_key),
            )
        )
    await repo.insert_connections(
        [
            {
                "ean": c.ean,
                "street": "Jansbinnensingel",
                "house_number": 1 + n,
                "house_number_suffix": "",
                "postcode": "6811AL",
                "city": "Arnhem",
                "lat": ARNHEM[0],
                "lon": ARNHEM[1],
                "capacity": "1x35A",
                "owner_subject": c.subject,
                "created_at": now,
            }
            for n, c in enumerate(customers)
        ]
    )
    await repo.insert_assets(
        [{"serial": c.serial, "asset_type": ASSET_TYPE, "status": "in_stock", "created_at": now} for c in customers]
    )
    return customers


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="selfinstall-load-"))


def baseline(target: str, env: dict[str, str], log_path: Path, ready_path: str) -> Server:
    """A bench's baseline app (`module:factory`) served the way `selfinstall serve` serves the service
    (granian, ASGI, the same worker count and log settings), in its own process on a port of its own."""
    env = {**env, "PORT": str(free_port())}
    argv = [str(VENV_BIN / "python"), "-m", "bench.load_setup", "serve", target, env["PORT"], env["WORKERS"]]
    return Server(env, log_path, argv, ready_path)


def _serve(target: str, port: int, workers: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    from backend.logs import granian_log_config

    Granian(
        target,
        factory=True,
        interface=Interfaces.ASGI,
        address="127.0.0.1",
        port=port,
        workers=workers,
        log_dictconfig=granian_log_config("json"),
    ).serve()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 5:
        _serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1:2] == ["prepare"] and len(sys.argv) == 4:
        Path(sys.argv[3]).write_bytes(msgspec.json.encode(asyncio.run(_prepare(int(sys.argv[2])))))
    else:
        raise SystemExit(
            "usage: python -m bench.load_setup prepare CLIENTS OUTPUT.json | serve MODULE:FACTORY PORT WORKERS"
        )
