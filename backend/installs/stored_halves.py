"""Which 32-bit hash halves no stored photo has: a per-worker bitmap in front of the reuse lookup.

An upload's reuse lookup asks the four half columns for every key within reach of its hashes
(verdict.half_neighbours: 44,000-66,000 distinct keys for a real phone photo). Nearly all of them name no stored
photo, and probing an index once a key cost as much CPU as validating the photo itself (issue 11).
The bitmap answers "no stored photo has this half" in memory, so only the keys some photo may have
go to the database.

No false negatives, which is what makes it safe in front of a fraud check: a bit is set for every half
of every photo row the worker has read, and before each lookup the worker reads the rows it has not
seen: those with a higher id than any it saw, and the ids it skipped (a row whose transaction had not
committed when a higher id was read). A skipped id is asked for again until SETTLE has passed (a write
transaction lasts milliseconds; an id still missing then was rolled back). Photo rows are never
deleted, and a false positive (another half hashing to the same bit) only costs a database key.
Each worker keeps its own bitmap, so this holds across workers and hosts alike.

A worker's first read takes every photo row (at a million photos 10-45 s, bench.scale "first read"):
it runs in the background, started by the first lookup, and until it has finished every key goes to
the database (the lookup as it was before the bitmap: slower, never wrong), so no upload waits on it.
A failed first read (the database away) is logged and started again by the next lookup.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from backend.installs import repository as repo

log = logging.getLogger("selfinstall")

BITS = 25  # 2^25 bits a column, 4 MiB: at a million photos ~3 % of the absent keys still reach the database
COLUMNS = 4  # phash_h0, phash_h1, core_h0, core_h1: the order of verdict.half_neighbours' lists
SETTLE_S = 300.0  # how long a skipped id is asked for again
MAX_GAPS = 64  # skipped ranges tracked one by one; beyond, they merge into one (more rows read, none missed)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: the bit of a half, spread over the bitmap
_SHIFT = np.uint64(64 - BITS)


def _bit_index(halves: np.ndarray) -> np.ndarray:
    return (halves.astype(np.uint64) * _GOLDEN) >> _SHIFT  # wraps modulo 2^64, as intended


@dataclass
class _Gap:
    """Ids lo..hi (inclusive) not read yet, though a row with a higher id, created at `since`, was."""

    lo: int
    hi: int
    since: float  # epoch seconds: the ids were handed out before it; asked for until SETTLE_S after


@dataclass
class StoredHalves:
    """One worker's bitmap of the stored photos' hash halves (see the module text)."""

    _bits: np.ndarray | None = None  # allocated at the first lookup: (COLUMNS, 2^BITS / 8) bytes
    _seen_max: int = 0
    _gaps: list[_Gap] = field(default_factory=list)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _complete: bool = False  # every row up to _seen_max read once: the bitmap may answer
    _first_read: asyncio.Task[None] | None = None

    async def present(self, keys: list[np.ndarray], now: datetime) -> list[np.ndarray]:
        """Of each column's keys, those some stored photo may have, distinct and ascending (after reading
        the unseen rows); all of them while the first read runs in the background. `now` by the clock photo
        rows take their created_at from: a skipped id settles by it."""
        if not self._complete:
            if self._first_read is None or self._first_read.done():
                # A context of its own: not the request's (its open transaction, if any, is not this read's).
                self._first_read = asyncio.get_running_loop().create_task(
                    self._read_first(now), context=contextvars.Context()
                )
            return [np.unique(np.asarray(values, dtype=np.uint64)) for values in keys]
        await self.refresh(now)
        assert self._bits is not None
        out = []
        for column, values in enumerate(keys):
            values = np.asarray(values, dtype=np.uint64)
            index = _bit_index(values)
            byte = self._bits[column][index >> np.uint64(3)]
            # Deduplicated here, where few are left (verdict.half_neighbours repeats many).
            out.append(np.unique(values[(byte >> (index & np.uint64(7)).astype(np.uint8)) & 1 == 1]))
        return out

    def stop(self) -> None:
        """The worker stops: a first read still running is cancelled (it would outlive the engine)."""
        if self._first_read is not None:
            self._first_read.cancel()

    async def refresh(self, now: datetime) -> None:
        """Read the rows not seen yet (all of them the first time) into the bitmap."""
        async with self._lock:
            await self._read_unseen(now.timestamp())
            self._complete = True

    async def _read_first(self, now: datetime) -> None:
        try:
            await self.refresh(now)
        except Exception:  # the lookups go on without the bitmap; the next one starts the read again
            log.warning(
                "reading the stored photos' hash halves failed; the reuse lookup asks the database", exc_info=True
            )

    async def _read_unseen(self, now: float) -> None:
        if self._bits is None:
            self._bits = np.zeros((COLUMNS, 1 << (BITS - 3)), dtype=np.uint8)
        self._gaps = [g for g in self._gaps if now - g.since < SETTLE_S]
        async for rows in repo.photo_halves_unseen(self._seen_max, [(g.lo, g.hi) for g in self._gaps]):
            self._set(rows.halves[rows.informative])
            self._track_gaps(rows, now)

    def _set(self, halves: np.ndarray) -> None:
        assert self._bits is not None
        for column in range(COLUMNS):
            index = _bit_index(halves[:, column])
            flags = np.left_shift(np.uint8(1), (index & np.uint64(7)).astype(np.uint8))
            np.bitwise_or.at(self._bits[column], index >> np.uint64(3), flags)

    def _track_gaps(self, rows: repo.HalfRows, now: float) -> None:
        """Forget the skipped ids just read; note those newly skipped below the highest id read."""
        read = set(rows.ids.tolist())
        kept: list[_Gap] = []
        for gap in self._gaps:
            if gap.hi - gap.lo >= 4096:  # a wide (merged) gap stays whole until it settles: re-read, never missed
                kept.append(gap)
                continue
            start = gap.lo
            for i in range(gap.lo, gap.hi + 1):
                if i in read:
                    if start < i:
                        kept.append(_Gap(start, i - 1, gap.since))
                    start = i + 1
            if start <= gap.hi:
                kept.append(_Gap(start, gap.hi, gap.since))
        newer = rows.ids > self._seen_max
        expected = self._seen_max + 1
        for i, created in zip(rows.ids[newer].tolist(), rows.created[newer].tolist(), strict=True):  # ascending
            if i > expected and now - created < SETTLE_S:  # older ones have settled: rolled back long ago
                kept.append(_Gap(expected, i - 1, created))
            expected = i + 1
        if newer.any():
            self._seen_max = int(rows.ids[newer][-1])
        if len(kept) > MAX_GAPS:
            # The merged gap holds the newest gap's ids too: it settles when the last of them does.
            kept = [_Gap(min(g.lo for g in kept), max(g.hi for g in kept), max(g.since for g in kept))]
        self._gaps = kept
