"""Photo-reuse lookup with many stored photos: the indexed hash-half query against a full scan.

Loads ROWS synthetic photo rows into the real, migrated schema (random whole-frame and core hashes
with their halves and fingerprints, all informative), plus, at random places among them, two
near-duplicates per query photo: one whose whole-frame hash is 3 bits off one of the photo's 8
frame hashes (a mirrored or turned copy) and one whose core hash is 3 bits off one of its crop hashes
(a crop). Each lookup is that of a real phone photo (its QueryHashes from inspect_photo: the frame
and crop hashes with their probes). Then times `verdict.find_reuse` (what every upload runs: the
half query, its hits read in full, the prefilter on them) against the obvious
alternative, reading every stored hash and comparing them all at once with numpy, interleaved round
by round (CPU time of the process, SQLite's thread included). "found" counts the planted
near-duplicates among the matches; "half hits" is how many stored rows have a half the lookup asks for.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import random
import sqlite3
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from backend.installs import verdict
from backend.installs.stored_halves import StoredHalves
from backend.installs.tables import Connection, Install, Photo
from backend.installs.verdict import half_keys, hash_columns, hash_halves
from backend.migrate import migrate
from backend.settings import get_settings
from backend.validation.photo import inspect_photo
from backend.validation.reuse_hash import HashPair, PhotoHashes, QueryHashes
from bench.common import PHONE_PHOTOS

ROWS = 100_000
_BATCH = 5_000
# The query photos (their lookups are real); one interleaved round each.
QUERY_PHOTOS = (
    "Apple_iPhone_6.jpg",
    "HTC_One_M8.jpg",
    "Nexus_4.jpg",
    "Samsung_GT-I9505_Galaxy_S4.jpg",
    "Issue_525.jpg",
    "Sony_D5403_Xperia_Z2.jpg",
    "Nokia_Lumia_800.jpg",
    "Motorola_XT1068_Moto_G.jpg",
)
_U64 = (1 << 64) - 1


def _flip(value: int, bits: int, width: int, rng: random.Random) -> int:
    for bit in rng.sample(range(width), bits):
        value ^= 1 << bit
    return value


def _random_pair(rng: random.Random) -> HashPair:
    return HashPair(rng.getrandbits(64), rng.getrandbits(256))


def _near(pair: HashPair, rng: random.Random) -> HashPair:
    return HashPair(_flip(pair.short, 3, 64, rng), _flip(pair.long, 10, 256, rng))


def _lookups() -> list[QueryHashes]:
    out = []
    for name in QUERY_PHOTOS:
        data = (PHONE_PHOTOS / name).read_bytes()
        facts = inspect_photo(io.BytesIO(data), max_pixels=50_000_000, find_qr=False, qr_upscale_below_px=0)
        out.append(facts.lookup)
    return out


async def _load(rng: random.Random, lookups: list[QueryHashes]) -> dict[str, str]:
    """The rows; returns the sha256 keys of the planted near-duplicates, with their kind (frame, crop)."""
    with contextlib.redirect_stdout(io.StringIO()):  # its progress report
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
    stored = [PhotoHashes(frame=_random_pair(rng), core=_random_pair(rng), informative=True) for _ in range(ROWS)]
    planted: dict[str, str] = {}
    for q, lookup in enumerate(lookups):
        twins = (
            PhotoHashes(frame=_near(rng.choice(lookup.frames), rng), core=_random_pair(rng), informative=True),
            PhotoHashes(frame=_random_pair(rng), core=_near(_crop_pair(lookup, rng), rng), informative=True),
        )
        for kind, hashes in zip(("frame", "crop"), twins, strict=True):
            at = rng.randrange(len(stored))
            stored[at] = hashes
            planted[f"{at:064x}"] = kind
            assert len(planted) == 2 * q + (kind == "crop") + 1  # no two planted at one place
    template = Photo(
        install=install_id,
        slot="cabinet_overview",
        sha256="template",
        content_type="image/jpeg",
        size_bytes=1,
        width=1,
        height=1,
        uploaded_by="bench",
        created_at=now,
    )
    rows = [{"sha256": f"{i:064x}", **hash_columns(h)} for i, h in enumerate(stored)]
    settings = get_settings()
    if settings.is_sqlite:  # fast: the rows copy one row Piccolo wrote, with their own hash columns
        await Photo.insert(template)
        _copy_rows(settings.sqlite_path, rows)
    else:
        for start in range(0, ROWS, _BATCH):
            await Photo.insert(*[Photo(**{**template.to_dict(), **r}) for r in rows[start : start + _BATCH]])
    return planted


def _copy_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Insert `rows` (sha256 and the hash columns) as copies of the template row, in one transaction."""
    names = list(rows[0])
    keep = [c._meta.db_column_name for c in Photo._meta.columns if c._meta.name not in ("id", *names)]
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TEMP TABLE new_rows ({', '.join(names)})")
        db.executemany(
            f"INSERT INTO new_rows VALUES ({', '.join('?' * len(names))})",
            [tuple(r[n] for n in names) for r in rows],
        )
        db.execute(
            f"INSERT INTO photos ({', '.join(keep + names)}) "
            f"SELECT {', '.join([f't.{c}' for c in keep] + [f'n.{c}' for c in names])} "
            "FROM new_rows n, photos t WHERE t.sha256 = 'template' ORDER BY n.rowid"
        )
        db.execute("DELETE FROM photos WHERE sha256 = 'template'")


def _crop_pair(lookup: QueryHashes, rng: random.Random) -> HashPair:
    """One of the lookup's crop hashes with its box's fingerprint."""
    i = rng.randrange(len(lookup.crops))
    return HashPair(int(lookup.crops[i]), lookup.crop_fingerprints([int(lookup.crop_box_of[i])])[0])


def _frame_shorts(lookup: QueryHashes) -> np.ndarray:
    return np.array([p.short for p in lookup.frames], dtype=np.uint64)


def _keys(lookup: QueryHashes) -> list[set[int]]:
    """As verdict.find_reuse builds them: the 2 whole-frame halves' keys, then the 2 core halves' keys."""
    return [set(keys) for keys in half_keys(_frame_shorts(lookup)) + half_keys(lookup.crops)]


def _within(stored: np.ndarray, probe: np.ndarray, max_bits: int = 3) -> np.ndarray:
    """Which stored 64-bit hashes lie within `max_bits` of any probe."""
    return (np.bitwise_count(stored[:, None] ^ probe[None, :]).min(axis=1) <= max_bits) if len(probe) else stored < 0


async def _full_scan(other: uuid.UUID, lookup: QueryHashes) -> set[str]:
    rows = await Photo.select(Photo.id, Photo.sha256, Photo.phash, Photo.core_hash).where(
        (Photo.install != other) & Photo.hash_informative.eq(True)
    )
    frame = np.array([r["phash"] for r in rows], dtype=np.int64).view(np.uint64)
    core = np.array([r["core_hash"] for r in rows], dtype=np.int64).view(np.uint64)
    hit = _within(frame, _frame_shorts(lookup)) | _within(core, lookup.crops)
    return {rows[i]["sha256"] for i in np.flatnonzero(hit)}


def _half_hits(rows: list[dict[str, object]], keys: list[set[int]]) -> int:
    names = ("phash", "core_hash")
    hits = 0
    for r in rows:
        values = [hash_halves(int(r[n]) & _U64) for n in names]  # type: ignore[call-overload]
        hits += any(v in keys[2 * k + i] for k, vs in enumerate(values) for i, v in enumerate(vs))
    return hits


async def _measure() -> None:
    rng = random.Random(42)
    started = time.perf_counter()
    lookups = _lookups()
    planted = await _load(rng, lookups)
    load_s = time.perf_counter() - started
    other = uuid.uuid4()
    everything = await Photo.select(Photo.phash, Photo.core_hash)
    now = datetime.now(UTC)
    halves = StoredHalves()  # a worker's bitmap of the stored halves: read once, then only new rows
    start = time.process_time()
    await halves.refresh(now)
    first_read_ms = (time.process_time() - start) * 1000
    ratios, banded_ms, scan_ms, hits, returned = [], [], [], [], []
    found: Counter[str] = Counter()
    for r, lookup in enumerate(lookups):
        keys = _keys(lookup)
        times = [0.0, 0.0]
        for k in (0, 1) if r % 2 == 0 else (1, 0):
            start = time.process_time()
            if k == 0:
                matches = await verdict.find_reuse(halves, now, other, "f" * 64, lookup)
            else:
                scanned = await _full_scan(other, lookup)
            times[k] = time.process_time() - start
        ratios.append(times[0] / times[1])
        banded_ms.append(times[0] * 1000)
        scan_ms.append(times[1] * 1000)
        mine = planted.keys() & scanned  # the scan finds exactly the near rows: this lookup's twins
        assert len(mine) == 2, mine
        rows = await Photo.select(Photo.sha256).where(Photo.id.is_in([m.photo_id for m in matches or [0]]))
        found.update(planted[sha] for sha in mine & {str(row["sha256"]) for row in rows})
        hits.append(_half_hits(everything, keys))
        returned.append(len(matches))
    frames = statistics.median(len(q.frames) for q in lookups)
    crops = statistics.median(len(q.crops) for q in lookups)
    print(
        f"reuse lookup, {ROWS // 1000}k photos, real lookups ({frames:.0f} frame + {crops:.0f} crop hashes): "
        f"half index {statistics.median(ratios):.3f}x full scan ({statistics.median(banded_ms):.0f} ms vs "
        f"{statistics.median(scan_ms):.0f} ms, CPU time, median of {len(lookups)} interleaved rounds); "
        f"found {found.total()}/{2 * len(lookups)} planted near-duplicates, 3 bits off (frame {found['frame']}/"
        f"{len(lookups)}, crop {found['crop']}/{len(lookups)}); "
        f"half hits a lookup {statistics.median(hits):.0f} rows, {statistics.median(returned):.0f} within the "
        f"prefilter; loaded in {load_s:.0f} s; the worker's bitmap of stored halves read in {first_read_ms:.0f} ms "
        "(CPU, once a worker)",
        flush=True,
    )


def run() -> None:
    asyncio.run(_measure())
