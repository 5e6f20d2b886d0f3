"""The reuse lookup by 32-bit hash halves misses nothing the prefilter admits (issue 11).

The prefilter admits stored 64-bit hashes within 3 bits of a query hash (verdict._PREFILTER_BITS, the
cap of policy.toml's max_hamming). Such a hash differs in at most 1 bit in one of its two halves, so
the lookup asks for each half and its 32 one-bit neighbours. Here near-duplicates are planted at exactly
3 bits from real query hashes, with the 3 bits split across the halves every way (3+0, 2+1, 1+2, 0+3),
among random rows and decoys that share a looked-up half but are 4+ bits from every query hash; the
lookup must return exactly what a full scan of every row within 3 bits returns.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import msgspec
import numpy as np
import pytest
from PIL import Image

from backend.installs import stored_halves as stored_halves_module
from backend.installs import verdict
from backend.installs.repository import HalfRows
from backend.installs.stored_halves import MAX_GAPS, SETTLE_S, StoredHalves
from backend.installs.tables import Install, Photo
from backend.validation.policy import DEFAULT_POLICY_PATH, parse_policy
from backend.validation.reuse_hash import QueryHashes, photo_hashes

_U64 = (1 << 64) - 1
RANDOM_ROWS = 3_000
NOW = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)  # a minute after the stored photos were made
SPLITS = ((3, 0), (2, 1), (1, 2), (0, 3))  # bits flipped in the (high, low) half


def _picture(seed: int) -> Image.Image:
    """A smooth random greyscale picture (a difference hash with many certain bits)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (12, 16), dtype=np.uint8), "L")
    return small.resize((640, 480), Image.Resampling.BICUBIC)


def _flip(value: int, high: int, low: int, rng: random.Random) -> int:
    for bit in rng.sample(range(32, 64), high) + rng.sample(range(32), low):
        value ^= 1 << bit
    return value


def _distance(stored: int, query: np.ndarray) -> int:
    return int(np.bitwise_count(query ^ np.uint64(stored)).min()) if len(query) else 64


class TestHalfKeys:
    def test_the_prefilter_is_what_the_policy_allows(self) -> None:
        # The pigeonhole radius is derived from this: a policy admitting more would need more keys.
        text = DEFAULT_POLICY_PATH.read_text()
        assert parse_policy(text.encode()).reuse.max_hamming <= verdict._PREFILTER_BITS == 3
        assert verdict._HALF_RADIUS == 1
        with pytest.raises(msgspec.ValidationError):
            parse_policy(text.replace("max_hamming = 3", "max_hamming = 4").encode())

    def test_every_hash_within_3_bits_has_a_looked_up_half(self) -> None:
        rng = random.Random(5)
        queries = np.array([rng.getrandbits(64) for _ in range(50)], dtype=np.uint64)
        high, low = (set(keys) for keys in verdict.half_keys(queries))
        assert len(high) <= 33 * 50 and len(low) <= 33 * 50
        for q in queries.tolist():
            for split in SPLITS:
                for _ in range(20):
                    stored = _flip(q, *split, rng)
                    hi, lo = verdict.hash_halves(stored)
                    assert hi in high or lo in low, (hex(q), hex(stored), split)

    def test_two_bits_off_in_both_halves_is_not_looked_up(self) -> None:
        # 4 bits: beyond the prefilter, and beyond the keys (their bound is tight, not loose).
        q = 0x0123_4567_89AB_CDEF
        stored = q ^ 0b11 ^ (0b11 << 32)
        high, low = verdict.half_keys(np.array([q], dtype=np.uint64))
        hi, lo = verdict.hash_halves(stored)
        assert hi not in high and lo not in low


@pytest.fixture
async def rolled_back(client: httpx.AsyncClient) -> AsyncIterator[uuid.UUID]:
    """A transaction rolled back after the test; the id of an install holding the stored photos."""
    engine = Install._meta.db
    owner = uuid.uuid4()
    async with engine.transaction() as transaction:
        await Install.raw(
            "INSERT INTO connections (id, ean, owner_subject, created_at) VALUES (987654, 'reuse-plan', 'x', {})",
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        await Install.raw(
            "INSERT INTO installs (id, connection, state, created_at, updated_at) VALUES ({}, 987654, 'draft', {}, {})",
            owner,
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(2026, 1, 1, tzinfo=UTC),
        )
        yield owner
        await transaction.rollback()


async def _store(owner: uuid.UUID, frame: int, core: int, name: str, photo_id: int | None = None) -> int:
    row = Photo(
        install=owner,
        slot="meter_label",
        sha256=name,
        content_type="image/jpeg",
        size_bytes=1,
        width=1,
        height=1,
        uploaded_by="test",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        phash=verdict.hash_to_db(frame),
        phash_h0=verdict.hash_halves(frame)[0],
        phash_h1=verdict.hash_halves(frame)[1],
        fingerprint="0" * 64,
        core_hash=verdict.hash_to_db(core),
        core_h0=verdict.hash_halves(core)[0],
        core_h1=verdict.hash_halves(core)[1],
        core_fingerprint="0" * 64,
        hash_informative=True,
    )
    if photo_id is not None:
        row.id = photo_id
    inserted = await Photo.insert(row).returning(Photo.id)
    return int(inserted[0]["id"])


def _decoy(query: np.ndarray, rng: random.Random) -> int:
    """A hash whose high half is 1 bit off a query hash's (a half hit) but 4+ bits from every query hash."""
    while True:
        candidate = _flip(int(rng.choice(query.tolist())), 1, 3, rng)
        if _distance(candidate, query) >= 4:
            return candidate


class TestFindReuse:
    async def test_finds_exactly_what_a_full_scan_within_3_bits_finds(self, rolled_back: uuid.UUID) -> None:
        rng = random.Random(11)
        _, lookup = photo_hashes(_picture(3), informative=True)
        assert isinstance(lookup, QueryHashes) and len(lookup.crops) > 1000
        frames = np.unique(np.array([p.short for p in lookup.frames], dtype=np.uint64))
        crops = np.unique(lookup.crops)
        planted: dict[int, str] = {}
        for split in SPLITS:
            for _ in range(3):
                frame = _flip(int(rng.choice(frames.tolist())), *split, rng)
                planted[await _store(rolled_back, frame, rng.getrandbits(64), f"frame{split}{_}")] = "frame"
                crop = _flip(int(rng.choice(crops.tolist())), *split, rng)
                planted[await _store(rolled_back, rng.getrandbits(64), crop, f"crop{split}{_}")] = "crop"
        decoys = set()
        for i in range(20):
            decoys.add(await _store(rolled_back, _decoy(frames, rng), rng.getrandbits(64), f"decoy-f{i}"))
            decoys.add(await _store(rolled_back, rng.getrandbits(64), _decoy(crops, rng), f"decoy-c{i}"))
        for i in range(RANDOM_ROWS):
            await _store(rolled_back, rng.getrandbits(64), rng.getrandbits(64), f"random{i}")

        rows = await Photo.select(Photo.id, Photo.phash, Photo.core_hash).where(Photo.install == rolled_back)
        within = {
            r["id"]
            for r in rows
            if _distance(r["phash"] & _U64, frames) <= 3 or _distance(r["core_hash"] & _U64, crops) <= 3
        }
        assert set(planted) <= within and not decoys & within

        found = await verdict.find_reuse(StoredHalves(), NOW, uuid.uuid4(), "f" * 64, lookup)
        # find_reuse keeps the ten closest by fingerprint; all stored fingerprints are alike here.
        assert len(within) > 10
        assert {m.photo_id for m in found} <= within
        assert len(found) == 10
        hits = await verdict.repo.half_hits(uuid.uuid4(), verdict.half_keys(frames) + verdict.half_keys(crops))
        hit_ids = {r["id"] for r in hits}
        assert within <= hit_ids, sorted(within - hit_ids)
        assert decoys <= hit_ids  # they share a looked-up half: the hash comparison drops them
        kept = verdict._near(frames, [r["phash"] for r in hits]) | verdict._near(crops, [r["core_hash"] for r in hits])
        assert {r["id"] for r, k in zip(hits, kept.tolist(), strict=True) if k} == within

    async def test_an_install_does_not_find_its_own_photos(self, rolled_back: uuid.UUID) -> None:
        _, lookup = photo_hashes(_picture(4), informative=True)
        await _store(rolled_back, lookup.frames[0].short, 0, "own")
        assert await verdict.find_reuse(StoredHalves(), NOW, rolled_back, "f" * 64, lookup) == ()
        assert [m.how for m in await verdict.find_reuse(StoredHalves(), NOW, uuid.uuid4(), "f" * 64, lookup)] == [
            "frame"
        ]


def _halves_of(frame: int, core: int) -> list[np.ndarray]:
    """The four keys one stored photo answers to, in half_keys' order."""
    return [np.array([h], dtype=np.uint64) for h in (*verdict.hash_halves(frame), *verdict.hash_halves(core))]


class TestStoredHalves:
    """The in-memory bitmap in front of the lookup (backend/installs/stored_halves.py) never hides a
    stored photo: not one stored after it was built, not one whose id was skipped and committed late."""

    async def test_keys_no_photo_has_are_dropped_and_stored_ones_kept(self, rolled_back: uuid.UUID) -> None:
        rng = np.random.default_rng(5)
        frame, core = (int(v) for v in rng.integers(0, 2**63, 2, dtype=np.int64))
        await _store(rolled_back, frame, core, "kept")
        halves = StoredHalves()
        await halves.refresh(NOW)  # the first read (in the test's transaction, which holds the photo)
        kept = await halves.present(_halves_of(frame, core), NOW)
        assert [k.tolist() for k in kept] == [k.tolist() for k in _halves_of(frame, core)]
        absent = [rng.integers(0, 2**32, 20_000, dtype=np.int64).astype(np.uint64) for _ in range(4)]
        passed = sum(len(k) for k in await halves.present(absent, NOW))
        assert passed < 80_000 * 0.01  # a few thousand stored photos set ~0.01 % of the bits

    async def test_every_key_goes_to_the_database_until_the_first_read_has_ended(self) -> None:
        # The first read takes every photo row (seconds at a million): in the background, never in an upload.
        halves = StoredHalves()
        keys = [np.random.default_rng(7).integers(0, 2**32, 1000, dtype=np.int64).astype(np.uint64) for _ in range(4)]
        assert [len(k) for k in await halves.present(keys, NOW)] == [1000] * 4
        assert halves._first_read is not None
        await halves._first_read
        assert sum(len(k) for k in await halves.present(keys, NOW)) < 4000 * 0.01

    async def test_a_first_read_still_running_is_cancelled_when_the_worker_stops(self) -> None:
        halves = StoredHalves()
        await halves.present(_halves_of(1, 2), NOW)
        assert halves._first_read is not None
        halves.stop()
        with pytest.raises(asyncio.CancelledError):
            await halves._first_read
        assert not halves._complete

    async def test_a_failed_first_read_is_logged_and_started_again(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        halves, keys = StoredHalves(), _halves_of(1, 2)
        real = stored_halves_module.repo.photo_halves_unseen

        def away(*_: object) -> object:
            raise ConnectionError("the database went away")

        monkeypatch.setattr(stored_halves_module.repo, "photo_halves_unseen", away)
        assert [len(k) for k in await halves.present(keys, NOW)] == [1] * 4
        assert halves._first_read is not None
        await halves._first_read  # failed, and said so
        assert "reading the stored photos' hash halves failed" in caplog.text
        monkeypatch.setattr(stored_halves_module.repo, "photo_halves_unseen", real)
        assert [len(k) for k in await halves.present(keys, NOW)] == [1] * 4  # still every key; read again
        await halves._first_read
        assert halves._complete

    async def test_keys_asked_for_more_than_once_come_back_once(self, rolled_back: uuid.UUID) -> None:
        # verdict.half_neighbours repeats a key for every half it is near; the database gets it once.
        rng = np.random.default_rng(7)
        frame, core = (int(v) for v in rng.integers(0, 2**63, 2, dtype=np.int64))
        await _store(rolled_back, frame, core, "repeated")
        stored = _halves_of(frame, core)
        halves, repeated = StoredHalves(), [np.concatenate([k, k, k]) for k in stored]
        kept = await halves.present(repeated, NOW)  # every key, while the first read runs
        assert [k.tolist() for k in kept] == [k.tolist() for k in stored]
        assert halves._first_read is not None
        await halves._first_read
        kept = await halves.present(repeated, NOW)  # through the bitmap
        assert [k.tolist() for k in kept] == [k.tolist() for k in stored]
        shorts = np.array([frame, frame ^ 1], dtype=np.uint64)
        neighbours = verdict.half_neighbours(shorts)
        assert len(neighbours[0]) == 33 and len(neighbours[1]) == 66  # one high half, two low ones
        assert [set(k.tolist()) for k in neighbours] == [set(k.tolist()) for k in verdict.half_keys(shorts)]

    async def test_a_photo_stored_after_the_bitmap_was_built_is_found(self, rolled_back: uuid.UUID) -> None:
        halves = StoredHalves()
        await halves.refresh(NOW)
        _, lookup = photo_hashes(_picture(8), informative=True)
        frame = lookup.frames[0].short
        assert await verdict.find_reuse(halves, NOW, uuid.uuid4(), "f" * 64, lookup) == ()
        await _store(rolled_back, frame, 0, "later")
        found = await verdict.find_reuse(halves, NOW, uuid.uuid4(), "f" * 64, lookup)
        assert [m.how for m in found] == ["frame"]

    async def test_an_id_skipped_and_committed_later_is_found(self, rolled_back: uuid.UUID) -> None:
        # Concurrent writers: id n+1 is handed out first but committed after n+2 was read.
        top = await Photo.select(Photo.id).order_by(Photo.id, ascending=False).first()
        n = (top["id"] if top else 0) + 1000
        rng = np.random.default_rng(6)
        early, late, later = ((int(a), int(b)) for a, b in rng.integers(0, 2**63, (3, 2), dtype=np.int64))
        halves = StoredHalves()
        await _store(rolled_back, *early, "early", photo_id=n)
        await _store(rolled_back, *later, "later", photo_id=n + 2)
        await halves.refresh(NOW)
        assert [len(k) for k in await halves.present(_halves_of(*late), NOW)] == [0, 0, 0, 0]
        await _store(rolled_back, *late, "late", photo_id=n + 1)
        assert [len(k) for k in await halves.present(_halves_of(*late), NOW)] == [1, 1, 1, 1]

    async def test_a_skipped_id_is_asked_for_until_it_settles(self, rolled_back: uuid.UUID) -> None:
        top = await Photo.select(Photo.id).order_by(Photo.id, ascending=False).first()
        n = (top["id"] if top else 0) + 1000
        halves = StoredHalves()
        await _store(rolled_back, 1, 2, "before", photo_id=n)
        await _store(rolled_back, 3, 4, "after", photo_id=n + 5)  # n+1..n+4: rolled back, or not yet committed
        await halves.refresh(NOW)
        assert [(g.lo, g.hi) for g in halves._gaps][-1] == (n + 1, n + 4)
        made = datetime(2026, 1, 1, tzinfo=UTC).timestamp()  # the rows' created_at
        await halves.refresh(datetime.fromtimestamp(made + SETTLE_S - 1, UTC))
        assert (n + 1, n + 4) in [(g.lo, g.hi) for g in halves._gaps]
        # A write transaction lasts milliseconds: SETTLE_S after a later row was made, the ids are gone.
        await halves.refresh(datetime.fromtimestamp(made + SETTLE_S, UTC))
        assert (n + 1, n + 4) not in [(g.lo, g.hi) for g in halves._gaps]

    def test_merged_gaps_settle_when_their_newest_does(self) -> None:
        # Past MAX_GAPS the skipped ranges merge into one; it must be asked for until the newest settles.
        halves = StoredHalves()
        ids = np.arange(1, 2 * (MAX_GAPS + 10), 2, dtype=np.int64)  # every other id skipped
        created = np.where(ids < MAX_GAPS, 1000.0, 1200.0)
        rows = HalfRows(
            ids=ids, informative=np.ones(len(ids), bool), halves=np.zeros((len(ids), 4), np.uint64), created=created
        )
        halves._track_gaps(rows, now=1200.0)
        [merged] = halves._gaps
        assert (merged.lo, merged.hi, merged.since) == (2, int(ids[-1]) - 1, 1200.0)
