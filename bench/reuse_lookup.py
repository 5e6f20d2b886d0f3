"""Photo-reuse lookup with many stored photos: the indexed hash-band query against a full scan.

Loads N synthetic photo rows into the real, migrated schema, then times
`repository.reuse_candidates` (the query every upload runs) against the obvious alternative,
reading every stored hash and comparing in Python.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, datetime

from backend.installs import repository as repo
from backend.installs.tables import Connection, Install, Photo
from backend.installs.verdict import hash_bands, hash_to_db
from backend.migrate import migrate

ROWS = 100_000
QUERIES = 50
_BATCH = 5_000


async def _load(rng: random.Random) -> tuple[uuid.UUID, list[int]]:
    await migrate()
    now = datetime.now(UTC)
    await Connection.insert(
        Connection(
            ean="871687999999999993",
            street="Bench",
            house_number=1,
            postcode="6811AL",
            city="Arnhem",
            lat=51.98,
            lon=5.9,
            capacity="1x35A",
            created_at=now,
        )
    )
    connection = (await Connection.select(Connection.id).first())["id"]
    install_id = uuid.uuid4()
    await Install.insert(
        Install(
            id=install_id,
            connection=connection,
            asset_type="smart_meter_1p",
            state="draft",
            created_by="bench",
            created_by_role="customer",
            request_hash="x",
            created_at=now,
            updated_at=now,
        )
    )
    hashes = [rng.getrandbits(64) for _ in range(ROWS)]
    for start in range(0, ROWS, _BATCH):
        await Photo.insert(
            *[
                Photo(
                    install=install_id,
                    slot="cabinet_overview",
                    sha256=f"{i:064x}",
                    content_type="image/jpeg",
                    size_bytes=1,
                    width=1,
                    height=1,
                    uploaded_by="bench",
                    created_at=now,
                    phash=hash_to_db(h),
                    **dict(zip(("phash_b0", "phash_b1", "phash_b2", "phash_b3"), hash_bands(h), strict=True)),
                )
                for i, h in enumerate(hashes[start : start + _BATCH], start=start)
            ]
        )
    return install_id, hashes


def _near(h: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), 3):
        h ^= 1 << bit
    return h


async def _full_scan(probe: int) -> int:
    rows = await Photo.select(Photo.id, Photo.phash)
    return sum(((r["phash"] or 0) % (1 << 64) ^ probe).bit_count() <= 3 for r in rows)


async def _measure() -> None:
    rng = random.Random(42)
    started = time.perf_counter()
    _, hashes = await _load(rng)
    load_s = time.perf_counter() - started
    other_install = uuid.uuid4()
    probes = [_near(rng.choice(hashes), rng) for _ in range(QUERIES)]
    banded, found = [], 0
    for probe in probes:
        start = time.perf_counter()
        rows = await repo.reuse_candidates(other_install, "f" * 64, hash_bands(probe))
        banded.append(time.perf_counter() - start)
        found += any(((r["phash"] or 0) % (1 << 64) ^ probe).bit_count() <= 3 for r in rows)
    scans = []
    for probe in probes[:3]:
        start = time.perf_counter()
        assert await _full_scan(probe) >= 1
        scans.append(time.perf_counter() - start)
    band_ms, scan_ms = statistics.median(banded) * 1000, statistics.median(scans) * 1000
    print(
        f"reuse lookup, {ROWS // 1000}k photos: band index {band_ms / scan_ms:.4f}x full scan "
        f"({band_ms:.2f} ms vs {scan_ms:.0f} ms); found {found}/{QUERIES} near-duplicates (3 bits off); "
        f"loaded in {load_s:.0f} s",
        flush=True,
    )


def run() -> None:
    asyncio.run(_measure())
