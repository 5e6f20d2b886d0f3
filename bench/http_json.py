"""The install view against a bare Litestar hello-world, on the same granian settings and workers.

`python -m bench.http_json [--engine sqlite|postgres|both] [--workers 2] [--rounds 7] [--seconds 3]`
(and `make bench`) starts the real service (`selfinstall serve`, bench/load_setup.py: fresh data
folder, database reset, migrated and seeded) with one install carrying its full evidence (asset
scanned, a fix, a reading, three photos), and beside it a hello-world Litestar app served by granian
the way `selfinstall serve` serves the service (ASGI, the same worker count). A keep-alive HTTP/1.1
client with CONNECTIONS connections drives each in turn for `--seconds`, rounds interleaved
(A B A B ...); the figure is the median of the per-round ratios of answered requests per second:

    install view ÷ hello-world: 0.NNx (PostgreSQL, 2 workers)

The service runs with its bound on requests in flight off (MAX_REQUESTS_IN_FLIGHT=0) and its rate
limit off: the figure is what a view costs, not how many a worker admits at once. Target >= 0.25x
on PostgreSQL. PostgreSQL: HTTP_JSON_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/bench_json,
created if missing; its tables are dropped and re-created, so never point it at a database you need).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid

import httpx

from bench.load import postgres_url
from bench.load_setup import (
    ASSET_TYPE,
    SLOTS,
    VENV_BIN,
    Customer,
    PhotoSet,
    Server,
    free_port,
    gps_fix,
    photo_sets,
    photo_time,
    prepare,
    scratch_dir,
    server_env,
)

TARGET = 0.25
CONNECTIONS = 16
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_json"
ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def hello_app():  # noqa: ANN201 - a granian factory
    """The baseline: what a capable user's first Litestar app answers, JSON included."""
    from litestar import Litestar, get

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar(route_handlers=[hello])


def _serve_hello(port: int, workers: int) -> None:
    """granian as `selfinstall serve` starts it (backend/cli.py), on the hello-world app."""
    from granian import Granian
    from granian.constants import Interfaces

    from backend.logs import granian_log_config

    Granian(
        "bench.http_json:hello_app",
        factory=True,
        interface=Interfaces.ASGI,
        address="127.0.0.1",
        port=port,
        workers=workers,
        log_dictconfig=granian_log_config("json"),
    ).serve()


class HelloServer(Server):
    """The hello-world app in its own granian process; liveness is its one route."""

    def __enter__(self) -> HelloServer:
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [str(VENV_BIN / "python"), "-m", "bench.http_json", "--serve-hello", self.env["PORT"], self.env["WORKERS"]],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/hello", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__()
                raise RuntimeError(f"the hello-world app did not start; see {self.log_path}")
            time.sleep(0.2)


# --- the load generator: keep-alive HTTP/1.1, one request at a time per connection -------------------


class _Connection(asyncio.Protocol):
    """Sends `request` again as soon as the previous answer is complete; counts answers by status."""

    def __init__(self, request: bytes, counts: dict[int, int]) -> None:
        self.request = request
        self.counts = counts
        self.buffer = b""
        self.running = True
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].lower()
            at = head.find(b"content-length:")
            length = (
                int(head[at + 15 : head.find(b"\r\n", at) if head.find(b"\r\n", at) > 0 else None]) if at >= 0 else 0
            )
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            status = int(self.buffer[9:12])
            self.counts[status] = self.counts.get(status, 0) + 1
            self.buffer = self.buffer[end:]
            if self.running:
                self.transport.write(self.request)
            else:
                self.transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


def _content_length(head: bytes) -> int:
    at = head.find(b"content-length:")
    if at < 0:
        return 0
    end = head.find(b"\r\n", at)
    return int(head[at + 15 : end if end > 0 else None])


async def _drive(port: int, request: bytes, seconds: float) -> tuple[float, dict[int, int]]:
    """Answered requests per second with CONNECTIONS connections for `seconds` (after a short warm-up)."""
    loop = asyncio.get_running_loop()
    counts: dict[int, int] = {}
    connections = []
    for _ in range(CONNECTIONS):
        _, protocol = await loop.create_connection(lambda: _Connection(request, counts), "127.0.0.1", port)
        connections.append(protocol)
    await asyncio.sleep(0.3)  # every connection and worker busy
    counts.clear()
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    answered, elapsed = dict(counts), time.perf_counter() - started
    for protocol in connections:
        protocol.running = False
    await asyncio.wait([p.closed for p in connections], timeout=10)
    return answered.get(200, 0) / elapsed, answered


def _get(path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --- one engine ---------------------------------------------------------------------------------


def _install_with_evidence(url: str, customer: Customer, photos: PhotoSet) -> str:
    """One install as a phone leaves it before submitting: scanned, located, read, photographed."""
    started = photo_time()
    install_id = str(uuid.uuid4())
    base = f"{url}/mobile/v1/installs/{install_id}"
    fix = gps_fix(started)
    create = {
        "id": install_id,
        "connection_ean": customer.ean,
        "asset_type": ASSET_TYPE,
        "started_at": started.isoformat(),
    }
    with httpx.Client(headers={"Authorization": f"Bearer {customer.token}"}, timeout=120) as client:
        answers = [
            client.post(f"{url}/mobile/v1/installs", json=create),
            client.post(f"{base}/scan", json={"payload": customer.payload}),
            client.post(f"{base}/location", json=fix),
            client.post(f"{base}/reading", json={"value": 4512.7}),
            *(
                client.put(f"{base}/photos/{slot}", content=photos.of(slot), headers={"Content-Type": "image/jpeg"})
                for slot in SLOTS
            ),
        ]
    for r in answers:
        if r.status_code not in (200, 201):
            raise RuntimeError(
                f"setting up the install: {r.request.method} {r.request.url} -> {r.status_code} {r.text}"
            )
    return install_id


def run_engine(engine: str, database_url: str, workers: int, rounds: int, seconds: float) -> float:
    data_dir = scratch_dir()
    env = server_env(data_dir, database_url or f"sqlite:///{data_dir / 'view.sqlite3'}", workers, free_port())
    env["MAX_REQUESTS_IN_FLIGHT"] = "0"
    (customer,) = prepare(env, 0)
    (photos,) = photo_sets([customer], 1)[customer.subject]
    hello_env = {**env, "PORT": str(free_port())}
    with Server(env, data_dir / "server.log") as service, HelloServer(hello_env, data_dir / "hello.log") as hello:
        install_id = _install_with_evidence(service.url, customer, photos)
        headers = {"Authorization": f"Bearer {customer.token}", "Accept-Language": "en"}
        view = _get(f"/mobile/v1/installs/{install_id}", headers)
        ports = int(service.env["PORT"]), int(hello.env["PORT"])
        ratios, seen = asyncio.run(_rounds(ports, view, _get("/hello", {}), rounds, seconds))
    ratio = statistics.median(ratios)
    name = ENGINE_NAMES[engine]
    print(f"install view ÷ hello-world: {ratio:.2f}x ({name}, {workers} workers)", flush=True)
    print(f"  per round {', '.join(f'{r:.3f}' for r in ratios)}; {seen}; target >= {TARGET}x on PostgreSQL", flush=True)
    return ratio


async def _rounds(
    ports: tuple[int, int], view: bytes, hello: bytes, rounds: int, seconds: float
) -> tuple[list[float], str]:
    """Hello-world then the view, round after round; the ratio of each round."""
    view_port, hello_port = ports
    ratios = []
    views, hellos = [], []
    statuses: dict[int, int] = {}
    for _ in range(rounds):
        hello_rps, _ = await _drive(hello_port, hello, seconds)
        view_rps, counts = await _drive(view_port, view, seconds)
        for status, n in counts.items():
            statuses[status] = statuses.get(status, 0) + n
        ratios.append(view_rps / hello_rps)
        views.append(view_rps)
        hellos.append(hello_rps)
    seen = (
        f"view {statistics.median(views):.0f}/s, hello-world {statistics.median(hellos):.0f}/s (medians), "
        f"{CONNECTIONS} connections; view answers by status {dict(sorted(statuses.items()))}"
    )
    return ratios, seen


def main(argv: list[str] | None = None) -> int:
    """Both engines by default; exit status 1 when PostgreSQL misses the target."""
    p = argparse.ArgumentParser(prog="python -m bench.http_json", description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--serve-hello", nargs=2, metavar=("PORT", "WORKERS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_hello:
        _serve_hello(int(args.serve_hello[0]), int(args.serve_hello[1]))
        return 0
    ok = True
    for engine in ("sqlite", "postgres") if args.engine == "both" else (args.engine,):
        url = "" if engine == "sqlite" else postgres_url(os.environ.get("HTTP_JSON_DATABASE_URL") or DEFAULT_PG_URL)
        if url is None:
            continue
        ratio = run_engine(engine, url, args.workers, args.rounds, args.seconds)
        ok = ok and (engine != "postgres" or ratio >= TARGET)
    return 0 if ok else 1


def run() -> None:
    """`make bench`: both engines at the defaults."""
    main([])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
