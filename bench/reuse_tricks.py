"""The reuse trade-off: how many reused-photo tricks are caught, and how often distinct photos collide.

Pictures: the 26 real phone photos of the corpus, and generated cabinet, meter and display photos
(fixtures.photos, one seed per home: the same cabinet model photographed in different homes).
- stored: what an upload of the picture stores (inspect_photo's PhotoHashes; a phone photo's own
  file as taken, a generated one as rendered);
- tricks: each of fixtures.degrade.TRICKS applied to the picture (decoded once, upright, at most
  BASE_LONG_SIDE px: about what the pipeline keeps, so the copies stay quick), re-encoded as
  fixtures.degrade.degraded does (JPEG q82), and looked up with its QueryHashes;
- hashes are made as inspect_photo makes them, with its own steps (decode at working size, EXIF
  orientation, metric image, photo_hashes), without the quality metrics it also computes;
- the matching rule is the product's own: `verdict._match` on a row built with
  `verdict.hash_columns` (the stored photo as a reuse candidate of the lookup: whole frame against
  the lookup's frames, core against its crops), then `photo_checks.check_reuse` with the policy's
  thresholds: FAIL (same picture) or UNCERTAIN. The database prefilter (a shared 16-bit band) is
  exact for the max_hamming (<= 3) bits check_reuse allows, so it changes nothing here (its
  500-row cap is not modelled: see bench.reuse_lookup);
- distinct photos: every ordered pair of two different pictures (the lookup of one as uploaded
  against what the other stored), split into FAIL and UNCERTAIN per 10,000 pairs.
The pictures are prepared in worker processes (one per core); rendered photos, and
every picture's hashes with its tricks', are cached between runs, keyed by the source of the modules that
make them (a change to the hashing, the tricks or the generator makes them again).
"""

from __future__ import annotations

import io
import os
import pickle
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

import fixtures.degrade
import fixtures.photos
from backend.installs.context import load_policy
from backend.installs.verdict import _match, hash_columns
from backend.validation import photo, reuse_hash
from backend.validation.photo_checks import PhotoContext, PhotoEvidence, check_reuse
from backend.validation.results import Status
from backend.validation.reuse_hash import PhotoHashes, QueryHashes, photo_hashes
from bench.common import CACHE, PHONE_PHOTOS, cached, source_key
from fixtures.degrade import TRICKS, encode
from fixtures.photos import render_cabinet_photo, render_display_photo, render_meter_photo

# Generated homes per kind of photo (3 kinds); with the 26 phone photos >= 100 pictures.
HOMES = 26
BASE_LONG_SIDE = 1024  # about the metric size (photo.METRIC_LONG_SIDE)
GENERATED_SIZE = (1600, 1200)
_NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
_GPS = (51.9837, 5.9056)


@dataclass(frozen=True, slots=True)
class Picture:
    name: str
    source: str  # phone | generated
    stored: PhotoHashes
    lookup: QueryHashes  # the picture as uploaded
    informative: bool
    tricks: dict[str, tuple[QueryHashes, bool]]  # trick -> the copy's lookup, informative


def _inspect(data: bytes) -> tuple[PhotoHashes, QueryHashes]:
    """inspect_photo's steps to its hashes (its own functions; the quality metrics are left out)."""
    with Image.open(io.BytesIO(data), formats=list(photo.CONTENT_TYPES)) as img:
        _, _, orientation = photo._exif_facts(img, UTC)
        work, _ = photo._decode_working(img)
    small = photo._metric_image(work, orientation)
    density = photo.edge_density(np.asarray(small))
    return photo_hashes(small, informative=density >= photo.NEAR_UNIFORM_EDGE_DENSITY)


def _render(kind: str, seed: int) -> bytes:
    key = f"{kind}-{seed}-{GENERATED_SIZE[0]}x{GENERATED_SIZE[1]}-{source_key(fixtures.photos)}.jpg"
    return cached(key, lambda: _draw(kind, seed))


def _draw(kind: str, seed: int) -> bytes:
    common = {"captured_at": _NOW, "gps": _GPS, "size": GENERATED_SIZE, "seed": seed}
    if kind == "cabinet":
        return render_cabinet_photo(**common)
    if kind == "meter":
        return render_meter_photo(f"SI1:K1:MTR1-{seed:06d}:JVHVHWKTJMJN7N365FDI", serial=f"E{seed:07d}", **common)
    return render_display_photo(f"{seed * 37 % 100000:06d}.{seed % 10}", serial=f"E{seed:07d}", **common)


def _base(data: bytes) -> Image.Image:
    """Decoded once, upright, RGB, at most BASE_LONG_SIDE on the long side (JPEG via DCT scaling)."""
    with Image.open(io.BytesIO(data)) as img:
        if img.format == "JPEG":  # the smallest DCT scale that keeps BASE_LONG_SIDE
            share = BASE_LONG_SIDE / max(img.size)
            img.draft("RGB", (int(img.width * share), int(img.height * share)))
        upright = ImageOps.exif_transpose(img).convert("RGB")
    factor = max(1, max(upright.size) // BASE_LONG_SIDE)
    return upright.reduce(factor) if factor > 1 else upright


def _cache_path(spec: tuple[str, str, int], code: str) -> Path:
    return CACHE / f"tricks-{code}-{spec[0]}-{spec[2]}-{spec[1].replace(' ', '_')}.pickle"


def _prepare(job: tuple[tuple[str, str, int], str]) -> None:
    """Make the picture's hashes and its tricks', into the cache (keyed by the code that makes them)."""
    spec, code = job
    picture = _make(spec)
    cached(_cache_path(spec, code).name, lambda: pickle.dumps(picture))


def _make(spec: tuple[str, str, int]) -> Picture:
    source, name, seed = spec
    data = (PHONE_PHOTOS / name).read_bytes() if source == "phone" else _render(name.split()[0], seed)
    stored, lookup = _inspect(data)
    base = _base(data)
    tricks = {}
    for trick, fn in TRICKS.items():
        copy = encode(fn(base, random.Random(seed * 31 + len(trick))), _NOW, _GPS, quality=82)
        hashes, copy_lookup = _inspect(copy)
        tricks[trick] = (copy_lookup, hashes.informative)
    return Picture(name, source, stored, lookup, stored.informative, tricks)


def _specs() -> list[tuple[str, str, int]]:
    phones = sorted(p.name for p in PHONE_PHOTOS.iterdir() if p.is_file())
    specs = [("phone", name, i) for i, name in enumerate(phones)]
    for k, kind in enumerate(("cabinet", "meter", "display")):
        specs += [("generated", f"{kind} home {h}", 1000 * (k + 1) + 7 * h) for h in range(HOMES)]
    return specs


def _judge(stored: PhotoHashes, lookup: QueryHashes, informative: bool) -> Status:
    """The product's rule: the stored photo as a reuse candidate of the lookup, through check_reuse."""
    if not stored.informative:  # the lookup query skips uniform stored pictures
        return Status.PASS
    row = {"id": 1, "install": "other", "slot": "cabinet_overview", "sha256": "stored", **hash_columns(stored)}
    match = _match(row, "upload", lookup)
    evidence = PhotoEvidence(
        slot="cabinet_overview",
        width=1,
        height=1,
        qr_texts=None,
        qr_symbol_seen=False,
        sharpness=1.0,
        edge_density=0.1,
        contrast=100.0,
        brightness=120.0,
        dark_fraction=0.0,
        bright_fraction=0.0,
        taken_at=None,
        exif_gps=None,
        hash_informative=informative,
    )
    ctx = PhotoContext(
        expected_payload=None,
        install_started=_NOW,
        uploaded_at=_NOW,
        fix=None,
        reuse=(match,) if match is not None else (),
    )
    return check_reuse(evidence, ctx, load_policy()).status


def _distinct(pictures: list[Picture]) -> Counter[Status]:
    """check_reuse over every ordered pair of different pictures. A pair whose 64-bit hashes all lie
    more than max_hamming bits apart passes whatever the fingerprints say (check_reuse needs both
    within their limits), so only the rest go through `_judge`: numpy rules the others out at once."""
    max_hamming = load_policy().reuse.max_hamming
    rng = random.Random(5)
    frames = np.array([p.stored.frame.short for p in pictures], dtype=np.uint64)
    cores = np.array([p.stored.core.short for p in pictures], dtype=np.uint64)
    out: Counter[Status] = Counter()
    for i, a in enumerate(pictures):
        near = np.zeros(len(pictures), dtype=bool)
        frame_probes = np.array([p.short for p in a.lookup.frames], dtype=np.uint64)
        for q, stored in ((frame_probes, frames), (a.lookup.crops, cores)):
            if len(q):
                near |= np.bitwise_count(q[:, None] ^ stored[None, :]).min(axis=0) <= max_hamming
        near[i] = False
        ruled_out = [j for j in np.flatnonzero(~near) if j != i]
        for j in rng.sample(ruled_out, min(3, len(ruled_out))):  # the shortcut must agree with the rule
            assert _judge(pictures[j].stored, a.lookup, a.informative) == Status.PASS, (a.name, pictures[j].name)
        for j in np.flatnonzero(near):
            out[_judge(pictures[j].stored, a.lookup, a.informative)] += 1
        out[Status.PASS] += len(pictures) - 1 - int(near.sum())
    return out


def run() -> None:
    started = time.perf_counter()
    code = source_key(photo, reuse_hash, fixtures.degrade, fixtures.photos, sys.modules[__name__])
    specs = _specs()
    missing = [(spec, code) for spec in specs if not _cache_path(spec, code).exists()]
    if missing:  # the workers write the cache; the pictures are read from it here
        with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
            list(pool.map(_prepare, missing, chunksize=4))
    pictures = [pickle.loads(_cache_path(spec, code).read_bytes()) for spec in specs]
    from_cache = len(specs) - len(missing)
    prepared_s = time.perf_counter() - started
    caught = Counter()  # (trick, status)
    by_source = Counter()  # (trick, source) caught
    for p in pictures:
        for trick, (lookup, informative) in p.tricks.items():
            status = _judge(p.stored, lookup, informative)
            caught[trick, status] += 1
            by_source[trick, p.source] += status != Status.PASS
    sources = Counter(p.source for p in pictures)
    n = len(pictures)
    for trick in TRICKS:
        fail, uncertain = caught[trick, Status.FAIL], caught[trick, Status.UNCERTAIN]
        split = ", ".join(f"{s} {by_source[trick, s]}/{sources[s]}" for s in ("phone", "generated"))
        print(
            f"reuse trick {trick}: caught {fail + uncertain}/{n} (fail {fail}, uncertain {uncertain}; {split})",
            flush=True,
        )
    distinct = _distinct(pictures)
    pairs = sum(distinct.values())
    tricks_total = n * len(TRICKS)
    fail = sum(caught[t, Status.FAIL] for t in TRICKS)
    uncertain = sum(caught[t, Status.UNCERTAIN] for t in TRICKS)
    per = 10_000 / pairs
    print(
        f"reuse trade-off: tricks caught {fail + uncertain}/{tricks_total} (fail {fail}, uncertain {uncertain}); "
        f"distinct photos: {distinct[Status.FAIL] * per:.1f} false fails and {distinct[Status.UNCERTAIN] * per:.1f} "
        f"uncertain per 10,000 pairs ({pairs:,} pairs of {n} pictures: {sources['phone']} phone, "
        f"{sources['generated']} generated); {time.perf_counter() - started:.0f} s "
        f"({prepared_s:.0f} s preparing on 2 processes, {from_cache} of {n} pictures from the cache)",
        flush=True,
    )
