"""`kill -9` of a real server (granian) in the middle of uploads, then `selfinstall sweep-files`.

The server runs on a data folder and SQLite file of its own. Before the kill: acknowledged uploads
(201), uploads whose body is still arriving (their `*.part` files), and uploads whose file is
durable while their row waits for the write lock this test holds (files without rows: the worst
case, each carries the photo's EXIF GPS). After the sweep: nothing partial, no file without a row,
and every acknowledged photo with both.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from backend.auth import issue_token
from backend.principal import Role
from backend.settings import Settings
from fixtures.demo_photos import photo_for_slot
from tests.factories import ARNHEM

SELFINSTALL = str(Path(sys.executable).parent / "selfinstall")
SLOTS = ("meter_label", "meter_display", "cabinet_overview")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Wait for a state of the server (not a timing assertion: only never reaching it fails)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


@dataclass
class Service:
    env: dict[str, str]
    url: str
    photos: Path
    database: Path
    token: str
    eans: list[str]

    def cli(self, *args: str) -> str:
        done = subprocess.run([SELFINSTALL, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def files(self, folder: str, pattern: str) -> list[Path]:
        return sorted((self.photos / folder).rglob(pattern))

    def originals(self) -> set[str]:
        return {p.name for p in self.files("originals", "*") if p.is_file()}

    def rows(self) -> set[str]:
        with sqlite3.connect(self.database) as db:
            return {sha for (sha,) in db.execute("SELECT sha256 FROM photos")}


@pytest.fixture
def service(tmp_path: Path, settings: Settings) -> Iterator[tuple[Service, subprocess.Popen[bytes]]]:
    port = _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'kill.sqlite3'}",
        # The folder store, whose files this test reads, also in the S3 run (S3's sweep: tests/storage).
        "PHOTO_STORE": "file://",
        "WORKERS": "1",
        # A row insert waits for the write lock this test holds until the kill (not 503 after 3 s).
        "DB_LOCK_TIMEOUT_S": "120",
    }
    svc = Service(env, f"http://127.0.0.1:{port}", tmp_path / "photos", tmp_path / "kill.sqlite3", "", [])
    svc.cli("migrate")
    svc.cli("seed")
    demo = json.loads((tmp_path / "demo.json").read_text())
    svc.eans = [c["ean"] for c in demo["connections"] if c["owner"] == "cust-anna"]
    svc.token = issue_token(settings, "cust-anna", Role.CUSTOMER, timedelta(hours=1))  # the same secrets
    # A session of its own, so the kill reaches granian's worker processes too.
    server = subprocess.Popen(
        [SELFINSTALL, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )

    def up() -> bool:
        assert server.poll() is None, "the server exited"
        try:
            return httpx.get(f"{svc.url}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    _until(up, "the server answers /health")
    yield svc, server
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _photo(slot: str, seed: int) -> bytes:
    return photo_for_slot(slot, payload=None, serial="MTR1-000001", gps=ARNHEM, seed=seed, size=(800, 600))


def _open_upload(svc: Service, install: str, slot: str, data: bytes, send: int) -> socket.socket:
    """An upload over a plain socket that has sent `send` of its bytes (and reads no answer)."""
    port = int(svc.url.rsplit(":", 1)[1])
    conn = socket.create_connection(("127.0.0.1", port))
    head = (
        f"PUT /mobile/v1/installs/{install}/photos/{slot} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {svc.token}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    conn.sendall(head.encode() + data[:send])
    return conn


class TestKillDuringUploads:
    def test_after_the_sweep_nothing_partial_or_rowless_is_left_and_every_acknowledged_photo_is_whole(
        self, service: tuple[Service, subprocess.Popen[bytes]]
    ) -> None:
        svc, server = service
        auth = {"Authorization": f"Bearer {svc.token}"}
        installs = []
        for ean in svc.eans:
            body = {"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "smart_meter_1p"}
            r = httpx.post(f"{svc.url}/mobile/v1/installs", json=body, headers=auth, timeout=30)
            assert r.status_code == 201, r.text
            installs.append(body["id"])
        photos = {
            (i, slot): _photo(slot, seed=n) for n, (i, slot) in enumerate((i, s) for i in installs for s in SLOTS)
        }
        acknowledged = set()
        for slot in SLOTS[:2]:
            r = httpx.put(
                f"{svc.url}/mobile/v1/installs/{installs[0]}/photos/{slot}",
                content=photos[installs[0], slot],
                headers={**auth, "Content-Type": "image/jpeg"},
                timeout=60,
            )
            assert r.status_code == 201, r.text
            acknowledged.add(r.json()["photo"]["sha256"])

        lock = sqlite3.connect(svc.database, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # rows now wait; reads (WAL) go on
        sockets = []
        try:
            waiting = [(installs[1], slot) for slot in SLOTS]  # whole bodies: checked, made durable, then stuck
            for key in waiting:
                sockets.append(_open_upload(svc, *key, photos[key], send=len(photos[key])))
            arriving = [(installs[0], SLOTS[2]), (installs[2], SLOTS[0]), (installs[2], SLOTS[1])]
            for key in arriving:  # half a body each
                sockets.append(_open_upload(svc, *key, photos[key], send=len(photos[key]) // 2))
            rowless = {hashlib.sha256(photos[key]).hexdigest() for key in waiting}
            _until(lambda: rowless <= svc.originals(), "the waiting uploads' files are durable")
            _until(lambda: len(svc.files("incoming", "*.part")) >= len(arriving), "the arriving uploads are staged")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        finally:
            lock.execute("ROLLBACK")
            lock.close()
            for conn in sockets:
                conn.close()

        assert len(svc.files("incoming", "*.part")) >= len(arriving)  # what the crash left behind
        assert rowless <= svc.originals() - svc.rows()
        out = svc.cli("sweep-files", "--grace-s", "0")  # no server runs: no grace needed
        assert f"and {len(rowless)} photos without a row removed" in out, out
        assert svc.files("incoming", "*") == [] and svc.files("renditions", "*.part") == []
        assert svc.originals() == svc.rows() == acknowledged
        for sha in acknowledged:
            assert hashlib.sha256((svc.photos / "originals" / sha[:2] / sha).read_bytes()).hexdigest() == sha
