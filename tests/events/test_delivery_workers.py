"""Webhook delivery by several real worker processes on one database: every delivery sent exactly once.

`selfinstall serve` with two granian workers (two processes, each with its own delivery loop and its
own database connections, as two hosts would have) on the run's database, WEBHOOK_URLS naming two
paths of a real HTTP receiver in this test. Installs escalated over HTTP enqueue their events, one
delivery per URL. The receiver holds its first answer until a second request is in flight: a worker's
loop sends one delivery at a time, so that request can only come from the other process, and the two
loops are seen racing for the same rows rather than taking turns.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from backend.events.tables import OutboxDelivery
from tests.factories import Factory
from tests.helpers.review import helped
from tests.helpers.server import serving
from tests.helpers.webhooks import Received, events_of
from tests.mobile_api.helpers import new_install

SECRET = "multi-worker-webhook-secret-0123456789"
INSTALLS = 12
PATHS = ("/hook/a", "/hook/b")
HOLD_S = 8.0  # below the sender's 10 s timeout; only reached when no second process ever sends
WITHIN_S = 60.0  # a bound on a state being reached, not a timing assertion


class Hub:
    """What the receiver got, and how many requests it held at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.overlapped = threading.Event()
        self.held_first = False


class Hook(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the senders' httpx clients use it
    server: ReceiverServer

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        hub = self.server.hub
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with hub.lock:
            hub.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            hub.in_flight += 1
            hub.most_in_flight = max(hub.most_in_flight, hub.in_flight)
            if hub.in_flight >= 2:
                hub.overlapped.set()
            hold, hub.held_first = not hub.held_first, True
        if hold:
            hub.overlapped.wait(HOLD_S)
        with hub.lock:
            hub.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Hook)
        self.hub = Hub()


@contextmanager
def receiving() -> Iterator[ReceiverServer]:
    """A webhook receiver on a free loopback port, answering in threads of its own."""
    server = ReceiverServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def _until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WITHIN_S
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"never happened: {what}"
        await asyncio.sleep(0.05)


async def _both_workers_started(log: Path) -> None:
    """Readiness: /health answers once the first worker is up; the second may still be importing."""
    deadline = asyncio.get_running_loop().time() + WITHIN_S
    while log.read_text().count("Started worker-") < 2:
        assert asyncio.get_running_loop().time() < deadline, log.read_text()
        await asyncio.sleep(0.05)


class TestTwoWorkerProcesses:
    async def test_every_delivery_exactly_once_and_signed(self, make: Factory, tmp_path: Path) -> None:
        with receiving() as receiver:
            base = f"http://127.0.0.1:{receiver.server_address[1]}"
            urls = [base + p for p in PATHS]
            env = {
                "WORKERS": "2",
                "DATA_DIR": str(tmp_path),  # the run's DATABASE_URL and photo store are inherited
                "WEBHOOK_URLS": ",".join(urls),
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_INTERVAL_S": "0.05",
            }
            log = tmp_path / "server.log"
            try:
                async with serving(env, log) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
                    await _both_workers_started(log)
                    drafts = await asyncio.gather(*(new_install(http, make) for _ in range(INSTALLS)))
                    await asyncio.gather(*(helped(http, d) for d in drafts))

                    async def all_delivered() -> bool:
                        rows = await OutboxDelivery.select().where(OutboxDelivery.url.is_in(urls))
                        return len(rows) == INSTALLS * len(urls) and all(r["delivered_at"] for r in rows)

                    await _until(all_delivered, f"{INSTALLS * len(urls)} deliveries marked delivered")
                # The servers are stopped: nothing more can arrive, so what the receiver holds is final.
                rows = await OutboxDelivery.select().where(OutboxDelivery.url.is_in(urls))
            finally:
                await OutboxDelivery.delete().where(OutboxDelivery.url.is_in(urls))
            hub = receiver.hub

        events = [e for d in drafts for e in await events_of(d.id)]
        assert [e["event_type"] for e in events] == ["install.escalated"] * INSTALLS
        expected = {(str(e["id"]), path) for e in events for path in PATHS}
        got = Counter((r.event_id, r.path) for r in hub.received)
        assert set(got) == expected  # none lost, none invented
        assert [k for k, n in got.items() if n > 1] == []  # none twice
        assert all(r.signature_ok(SECRET.encode()) for r in hub.received)  # the standardwebhooks verifier
        by_id = {str(e["id"]): e for e in events}
        for r in hub.received:
            assert r.json["id"] == r.event_id and r.json["type"] == "install.escalated"
            assert r.json["data"] == by_id[r.event_id]["payload"]
        assert sorted(r["attempts"] for r in rows) == [1] * len(expected)
        assert hub.most_in_flight >= 2, "the deliveries never overlapped: only one process delivered"
