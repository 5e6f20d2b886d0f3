"""Server memory under concurrent big uploads: 20 phones send a ~20 MB 48 MP JPEG into a label slot at once.

A real `selfinstall serve` (granian, SQLite, a fresh data folder; bench.load_setup) is warmed with one
upload, its peak RSS counter reset (`/proc/<pid>/clear_refs` 5), then 20 uploads of the same
label-less 48 MP photo (every QR try runs: the worst case) go in at once, each to its own install,
retried on 503 + Retry-After as the app does. Per server process (granian's main process and its
workers): baseline VmRSS before, VmHWM (the peak) during, VmRSS after. Printed:
`peak RSS growth, 20 x 20 MB uploads, 1 worker: NNN MB a worker (VmHWM - VmRSS before); after: +NN MB`.
"""

from __future__ import annotations

import asyncio
import io
import random
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from PIL import Image

from bench.common import PHONE_PHOTOS, cached
from bench.load_setup import ASSET_TYPE, Customer, Server, free_port, prepare, scratch_dir, server_env
from fixtures.photos import exif_bytes

UPLOADS = 20
SOURCE = "Issue_525.jpg"  # 4032x3024, twice as wide and high: 8064x6048 (48.8 MP)
GPS = (51.9837, 5.9056)
SETTLE_S = 2.0  # after the last answer, before "after" is read: the handlers' last frees
BASE = "/mobile/v1/installs"


def big_jpeg() -> bytes:
    """A 48 MP phone-like JPEG of ~20 MB (a real photo up-scaled, grain added so it compresses as a camera's)."""

    def make() -> bytes:
        with Image.open(PHONE_PHOTOS / SOURCE) as img:
            big = img.convert("RGB").resize((img.width * 2, img.height * 2), Image.Resampling.BICUBIC)
        grain = Image.effect_noise(big.size, 32).convert("RGB")
        big = Image.blend(big, grain, 0.1)
        out = io.BytesIO()
        big.save(out, format="JPEG", quality=98, exif=exif_bytes(datetime.now(UTC), GPS, None))
        return out.getvalue()

    return cached("memory-48mp-v2.jpg", make)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (granian's workers are child processes)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _call(client: httpx.AsyncClient, method: str, url: str, **kw: object) -> httpx.Response:
    """One request, sent again on 503 + Retry-After (admission and the CPU queue refuse a burst)."""
    deadline = time.monotonic() + 300
    while True:
        r = await client.request(method, url, **kw)  # type: ignore[arg-type]
        if r.status_code != 503 or not r.headers.get("retry-after", "").isdigit() or time.monotonic() > deadline:
            return r
        await asyncio.sleep(int(r.headers["retry-after"]) * random.uniform(1.0, 1.5))


async def _upload(client: httpx.AsyncClient, who: Customer, data: bytes) -> int:
    install_id = str(uuid.uuid4())
    started = datetime.now(UTC).isoformat()
    body = {"id": install_id, "connection_ean": who.ean, "asset_type": ASSET_TYPE, "started_at": started}
    headers = {"Authorization": f"Bearer {who.token}"}
    r = await _call(client, "POST", BASE, json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    url = f"{BASE}/{install_id}/photos/meter_label"
    r = await _call(client, "PUT", url, content=data, headers={**headers, "Content-Type": "image/jpeg"})
    return r.status_code


async def _burst(url: str, customers: list[Customer], data: bytes) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=300) as client:
        return await asyncio.gather(*(_upload(client, c, data) for c in customers))


def measure(workers: int) -> tuple[list[int], list[int], list[int], list[int]]:
    """Per server process: RSS before, peak during, RSS after (kB), and the uploads' statuses."""
    data = big_jpeg()
    data_dir = scratch_dir()
    env = server_env(data_dir, f"sqlite:///{data_dir / 'memory.sqlite3'}", workers, free_port())
    customers = prepare(env, UPLOADS)
    warm, *phones = customers
    try:
        with Server(env, data_dir / "server.log") as server:
            pid = server._proc.pid  # type: ignore[union-attr]
            asyncio.run(_burst(server.url, [warm], data))  # imports, pools, first-use caches
            time.sleep(SETTLE_S)
            procs = _tree(pid)
            for p in procs:
                Path(f"/proc/{p}/clear_refs").write_text("5")  # VmHWM := VmRSS
            before = [_status_kb(p, "VmRSS") for p in procs]
            statuses = asyncio.run(_burst(server.url, phones[:UPLOADS], data))
            peak = [_status_kb(p, "VmHWM") for p in procs]
            time.sleep(SETTLE_S)
            after = [_status_kb(p, "VmRSS") for p in procs]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return before, peak, after, statuses


def run(workers_list: tuple[int, ...] = (1, 2)) -> None:
    size_mb = len(big_jpeg()) / 1e6
    for workers in workers_list:
        before, peak, after, statuses = measure(workers)
        grown = [(p - b) / 1024 for b, p in zip(before, peak, strict=True)]
        kept = [(a - b) / 1024 for b, a in zip(before, after, strict=True)]
        ok = sum(s in (200, 201) for s in statuses)
        print(
            f"peak RSS growth, {UPLOADS} x {size_mb:.0f} MB uploads (48 MP JPEG, label slot, no label), "
            f"{workers} worker{'s' if workers > 1 else ''}: {max(grown):.0f} MB a process at most "
            f"({sum(grown):.0f} MB all {len(grown)} processes; VmHWM - VmRSS before); after: "
            f"{sum(kept):+.0f} MB; {ok}/{len(statuses)} uploads answered 201",
            flush=True,
        )


if __name__ == "__main__":
    run()
