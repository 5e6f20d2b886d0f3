"""`kill -9` of a real server in the middle of 200 resumable uploads whose clients retry as the app does
(on a dropped connection or a 5xx: ask the offset, append from there), then a restart: no acknowledged
photo lost, none twice, and after the sweep no partial file left. On the run's database and photo store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from backend.installs import repository as installs
from backend.installs.context import build_context
from backend.principal import Role
from backend.settings import Settings
from backend.uploads import repository as uploads
from backend.uploads.sweep import sweep_uploads
from backend.uploads.tables import Upload
from tests.factories import Factory
from tests.helpers.photo_store import run_store
from tests.helpers.server import free_port, run_cli
from tests.mobile_api.helpers import new_install, slots_of
from tests.uploads.helpers import PARTIAL, create_ietf, flag

UPLOADS = 200
CLIENTS = 12
KILL_AFTER = 70  # acknowledged photos; the rest are in flight or still to come when the server dies
START_WITHIN_S = 60.0  # a loaded machine starts slowly; this only fails a server that never starts
RETRY_S = 0.2


class Server:
    """`selfinstall serve` on a fixed port, so the clients find it again after a restart."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "selfinstall"), "serve", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the kill reaches granian's workers
            )
        deadline = asyncio.get_running_loop().time() + START_WITHIN_S
        async with httpx.AsyncClient(timeout=1) as c:
            while True:
                try:
                    if (await c.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert self.proc.poll() is None and asyncio.get_running_loop().time() < deadline, self.log.read_text()
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
async def server(tmp_path: Path, database: None) -> AsyncIterator[Server]:
    s = Server(tmp_path / "server.log")
    await s.start()
    yield s
    s.stop()


async def resumable_upload(http: httpx.AsyncClient, d: object, slot: str, data: bytes, retries: list[str]) -> str:
    """Upload `data` resumably until the server acknowledges the photo; its SHA-256 as acknowledged.
    Creation is careful (no bytes: a creation whose answer is lost is made again, the lost one expires)."""
    who = d.who.headers  # type: ignore[attr-defined]
    url = None
    while True:
        try:
            if url is None:
                r = await create_ietf(http, d, slot, **{"Upload-Length": str(len(data))})  # type: ignore[arg-type]
                if r.status_code >= 500:
                    raise RuntimeError(r.status_code)
                assert r.status_code == 201, r.text
                url = r.headers["Location"]
            head = await http.head(url, headers=who)
            if head.status_code >= 500:
                raise RuntimeError(head.status_code)
            assert head.status_code == 204, head.status_code
            if head.headers["Upload-Complete"] == "?1":  # made before the answer was lost: acknowledged now
                view = (await http.get(f"{d.url}", headers=who)).json()  # type: ignore[attr-defined]
                return next(p["sha256"] for p in view["photos"] if p["slot"] == slot)
            offset = int(head.headers["Upload-Offset"])
            middle = max(offset, len(data) // 2)
            parts = [(offset, middle)] if offset < middle else []
            for start, end in [*parts, (middle, len(data))]:  # the last one (maybe empty) completes it
                headers = {**who, **PARTIAL, "Upload-Offset": str(start), "Upload-Complete": flag(end == len(data))}
                r = await http.patch(url, content=data[start:end], headers=headers)
                if r.status_code == 409 or r.status_code >= 500:
                    raise RuntimeError(r.status_code)  # another try: ask the offset again
                assert r.status_code in (200, 201, 204), r.text
            return str(r.json()["photo"]["sha256"])
        except (httpx.TransportError, RuntimeError) as exc:
            retries.append(type(exc).__name__)
            await asyncio.sleep(RETRY_S)


class TestKillDuringResumableUploads:
    async def test_no_acknowledged_photo_is_lost_or_doubled_and_no_partial_file_is_left(
        self, server: Server, make: Factory, settings: Settings
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            jobs = []
            while len(jobs) < UPLOADS:
                d = await new_install(http, make, who=customer)
                jobs += [(d, slot, make.photo(slot, size=(400, 300))) for slot in slots_of(d.asset_type)]
            jobs = jobs[:UPLOADS]
            acknowledged: dict[tuple[str, str], str] = {}
            retries: list[str] = []
            queue: asyncio.Queue[tuple[object, str, bytes]] = asyncio.Queue()
            for job in jobs:
                queue.put_nowait(job)

            async def client() -> None:
                while not queue.empty():
                    d, slot, data = queue.get_nowait()
                    acknowledged[d.id, slot] = await resumable_upload(http, d, slot, data, retries)  # type: ignore[attr-defined]

            clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
            while len(acknowledged) < KILL_AFTER:
                await asyncio.sleep(0.02)
            server.kill()
            killed_at = len(acknowledged)
            await server.start()
            await asyncio.gather(*clients)
        server.stop()
        assert killed_at < UPLOADS and len(acknowledged) == UPLOADS
        assert retries  # the kill cut uploads in flight, and their clients went on after the restart

        sent = {(d.id, slot): hashlib.sha256(data).hexdigest() for d, slot, data in jobs}  # type: ignore[attr-defined]
        assert acknowledged == sent  # every photo acknowledged with the bytes its client sent
        stored = {p.sha256 async for p in run_store().originals()}
        lost = twice = 0
        for install_id in {d.id for d, _, _ in jobs}:  # type: ignore[attr-defined]
            rows = await installs.photos_of(uuid.UUID(install_id), current_only=False)
            by_slot = {(install_id, p.slot): p for p in rows if p.is_current}
            for key, sha in acknowledged.items():
                if key[0] == install_id and not (key in by_slot and by_slot[key].sha256 == sha and sha in stored):
                    lost += 1
            twice += len(rows) - len({p.sha256 for p in rows})
        assert (lost, twice) == (0, 0)

        await run_cli({}, "sweep-files", "--grace-s", "0")  # no server runs: no grace needed
        assert list((settings.photo_dir / "incoming").glob("*.part")) == []
        left = [u for u in await Upload.select().where(Upload.owner_subject == customer.subject)]
        assert all(u["complete"] or u["received"] == 0 for u in left)  # finished, or a creation retried
        print(
            f"\nkill -9 amid {UPLOADS} resumable uploads: killed after {killed_at} acknowledged, {len(retries)} client"
            f" retries, {len(acknowledged)} acknowledged in all; lost {lost}, stored twice {twice}, .part files after"
            " the sweep 0"
        )
        names = [p.name async for p in run_store().parts()]
        assert names == [] or await uploads.part_names_kept(names) == set(names)  # no part without a row
        assert not [n for n in names if any(n.startswith(str(u["id"])) for u in left)]  # none of these uploads'

        ctx = build_context(settings)
        later = replace(
            ctx, store=run_store(), clock=lambda: ctx.clock() + timedelta(seconds=settings.upload_expiry_s + 1)
        )
        try:
            await sweep_uploads(later, 0)  # past their expiry: the uploads themselves go too
        finally:
            ctx.cpu.shutdown()
        assert await Upload.select().where(Upload.owner_subject == customer.subject) == []
