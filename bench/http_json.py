"""The install view against a bare Litestar hello-world, on the same granian settings and workers.

`python -m bench.http_json [--engine sqlite|postgres|both] [--workers 2] [--rounds 7] [--seconds 3]`
(and `make bench`) starts the real service (`selfinstall serve`, bench/load_setup.py: fresh data
folder, database reset, migrated and seeded) with one install carrying its full evidence (asset
scanned, a fix, a reading, three photos), and beside it a hello-world Litestar app served by granian
the way `selfinstall serve` serves the service (ASGI, the same worker count). A keep-alive HTTP/1.1
client with CONNECTIONS connections drives each in turn for `--seconds`, rounds interleaved
(the order rotating round by round); the figure is the median of the per-round ratios of answered
requests per second:

    install view ÷ hello-world: 0.NNx (PostgreSQL, 2 workers; ...)
      floor: the service's own stack answering the view's bytes without reading them ...: 0.NNx hello-world

The floor is a third app in the same rounds: the service's own app (bench.http_json:stack_app, every
middleware, the bearer token checked, the role guard) with one more route answering the view's bytes
as they are. It says what part of the gap is the stack every request pays, and what part the view.

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
import sys
import time
import uuid
from pathlib import Path

import httpx
from litestar import MediaType, Response, get

from bench.load import postgres_url
from bench.load_setup import (
    ASSET_TYPE,
    SLOTS,
    Customer,
    PhotoSet,
    Server,
    baseline,
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
FLOOR_PATH = "/mobile/v1/bench-floor"
FLOOR_QUERY_PATH = "/mobile/v1/bench-floor-query"  # the same, after one trivial query
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_json"
ENGINE_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def hello_app():  # noqa: ANN201 - a granian factory
    """The baseline: what a capable user's first Litestar app answers, JSON included."""
    from litestar import Litestar

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar(route_handlers=[hello])


def stack_app():  # noqa: ANN201 - a granian factory
    """The floors: the service's own app (every middleware, the bearer token, the role guard) with a route
    answering the view's bytes as they are, read from FLOOR_BODY (what a view costs that does no work of
    its own), and one answering them after one trivial query (what any view that reads the database
    pays before it reads anything)."""
    from backend.app import create_app
    from backend.auth import requires_role
    from backend.installs.tables import Install
    from backend.principal import Role

    body = Path(os.environ["FLOOR_BODY"]).read_bytes()

    guards = [requires_role(Role.CUSTOMER, Role.INSTALLER)]

    @get(FLOOR_PATH, sync_to_thread=False, guards=guards)
    def constant() -> Response[bytes]:
        return Response(body, media_type=MediaType.JSON)

    @get(FLOOR_QUERY_PATH, guards=guards)
    async def one_query() -> Response[bytes]:
        await Install.raw("SELECT 1")  # through the service's own engine and pool, as every query goes
        return Response(body, media_type=MediaType.JSON)

    app = create_app()
    app.register(constant)
    app.register(one_query)
    return app


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
    headers = {"Authorization": f"Bearer {customer.token}", "Accept-Language": "en"}
    with Server(env, data_dir / "server.log") as service:
        install_id = _install_with_evidence(service.url, customer, photos)
        view_path = f"/mobile/v1/installs/{install_id}"
        (data_dir / "view.json").write_bytes(httpx.get(service.url + view_path, headers=headers).content)
        floor_env = {**env, "FLOOR_BODY": str(data_dir / "view.json")}
        if workers > 1:  # as `serve` shares the metrics of its workers (backend/cli.py), in a folder of its own
            floor_env["PROMETHEUS_MULTIPROC_DIR"] = str(data_dir / "prometheus-floor")
            Path(floor_env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
        with (
            baseline("bench.http_json:hello_app", env, data_dir / "hello.log", "/hello") as hello,
            baseline("bench.http_json:stack_app", floor_env, data_dir / "floor.log", "/health") as floor,
        ):
            drives = {
                "hello": (int(hello.env["PORT"]), _get("/hello", {})),
                "floor": (int(floor.env["PORT"]), _get(FLOOR_PATH, headers)),
                "one query": (int(floor.env["PORT"]), _get(FLOOR_QUERY_PATH, headers)),
                "view": (int(service.env["PORT"]), _get(view_path, headers)),
            }
            rates, seen = asyncio.run(_rounds(drives, rounds, seconds))
    hello = rates["hello"]
    view, floor_ratio, query_ratio = (
        statistics.median(x / h for x, h in zip(rates[name], hello, strict=True))
        for name in ("view", "floor", "one query")
    )
    name = ENGINE_NAMES[engine]
    verdict = "met" if view >= TARGET else "NOT met"
    print(f"install view ÷ hello-world: {view:.2f}x ({name}, {workers} workers; target >= {TARGET}x: {verdict})")
    print(
        f"  floors, same rounds: the service's stack (auth, every middleware) answering the view's bytes: "
        f"{floor_ratio:.2f}x hello-world; the same after one trivial query ({name}): {query_ratio:.2f}x",
        flush=True,
    )
    print(f"  {seen}", flush=True)
    return view


async def _rounds(
    drives: dict[str, tuple[int, bytes]], rounds: int, seconds: float
) -> tuple[dict[str, list[float]], str]:
    """Each app in turn, round after round (the order rotating); answered requests per second of each."""
    rates: dict[str, list[float]] = {name: [] for name in drives}
    statuses: dict[str, dict[int, int]] = {name: {} for name in drives}
    names = list(drives)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            rps, counts = await _drive(*drives[name], seconds)
            rates[name].append(rps)
            for status, n in counts.items():
                statuses[name][status] = statuses[name].get(status, 0) + n
    medians = ", ".join(f"{name} {statistics.median(rates[name]):.0f}/s" for name in names)
    answers = "; ".join(f"{name} {dict(sorted(statuses[name].items()))}" for name in names)
    return rates, f"medians {medians}; {CONNECTIONS} connections; answers by status: {answers}"


def main(argv: list[str] | None = None) -> int:
    """Both engines by default; exit status 1 when PostgreSQL misses the target."""
    p = argparse.ArgumentParser(prog="python -m bench.http_json", description=__doc__.split("\n")[0])
    p.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args(argv)
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
