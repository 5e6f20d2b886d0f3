"""Bridges stored evidence to the pure checks in `backend.validation`."""

from __future__ import annotations

import uuid
from datetime import datetime
from itertools import combinations
from typing import Any

import msgspec
import numpy as np

from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.records import CheckRec, FixRec, InstallRec, PhotoRec
from backend.installs.snapshot import InstallSnapshot
from backend.installs.stored_halves import StoredHalves
from backend.validation.checks import (
    Fix,
    check_asset,
    check_fix_time,
    check_location,
    check_reading,
    check_slots_complete,
)
from backend.validation.photo_checks import PhotoContext, PhotoEvidence, ReuseMatch, check_label_qr, run_photo_checks
from backend.validation.results import CheckResult
from backend.validation.reuse_hash import HashPair, PhotoHashes, QueryHashes

_U64 = 1 << 64
# The lookup finds 64-bit hashes at most this many bits apart (ReusePolicy.max_hamming is capped at it).
_PREFILTER_BITS = 3
# Two hashes within _PREFILTER_BITS differ in at most _PREFILTER_BITS // 2 bits in one of their two
# 32-bit halves (pigeonhole), so looking up each half with all its neighbours within that radius misses
# nothing the prefilter admits.
_HALF_RADIUS = _PREFILTER_BITS // 2
_HALF_MASK = np.uint64(0xFFFFFFFF)
_HALF_FLIPS = np.array(
    [sum(1 << b for b in bits) for r in range(_HALF_RADIUS + 1) for bits in combinations(range(32), r)],
    dtype=np.uint64,
)
# How many crop positions that pass the prefilter are aligned finely (each costs about 0.1 ms).
_REFINED_CANDIDATES = 3


def hash_to_db(phash: int) -> int:
    """An unsigned 64-bit hash as PostgreSQL's signed BIGINT."""
    return phash - _U64 if phash >= 1 << 63 else phash


def hash_halves(phash: int) -> tuple[int, int]:
    """The two 32-bit halves of an unsigned 64-bit hash, most significant first."""
    return (phash >> 32) & 0xFFFFFFFF, phash & 0xFFFFFFFF


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (sort-based: numpy's hashing unique is ~30x slower here)."""
    ordered = np.sort(values, axis=None)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def half_neighbours(shorts: np.ndarray) -> list[np.ndarray]:
    """The values to look up in the high and the low half column so that every stored 64-bit hash
    within _PREFILTER_BITS of one of `shorts` is found: each distinct half with each of its
    neighbours within _HALF_RADIUS bits (33 a half), not deduplicated (up to 80k a column for an
    upload's crop probes). The stored-halves bitmap takes them as they are and deduplicates the few it
    keeps: sorting them all first cost more than the rest of the lookup."""
    shorts = np.asarray(shorts, dtype=np.uint64)
    return [
        (_distinct((shorts >> shift) & _HALF_MASK)[:, None] ^ _HALF_FLIPS[None, :]).ravel()
        for shift in (np.uint64(32), np.uint64(0))
    ]


def half_keys(shorts: np.ndarray) -> list[np.ndarray]:
    """half_neighbours, each column's values distinct and ascending (15k-37k a column for an upload's crop probes)."""
    return [_distinct(keys) for keys in half_neighbours(shorts)]


def evidence_from_record(photo: PhotoRec) -> PhotoEvidence:
    """The stored facts of a photo: checks can be re-run without decoding it again."""
    return PhotoEvidence(
        slot=photo.slot,
        width=photo.width,
        height=photo.height,
        qr_texts=tuple(photo.qr_texts) if photo.qr_texts is not None else None,
        qr_symbol_seen=photo.qr_symbol_seen,
        sharpness=photo.sharpness or 0.0,
        edge_density=photo.edge_density or 0.0,
        contrast=photo.contrast or 0.0,
        brightness=photo.brightness or 0.0,
        dark_fraction=photo.dark_fraction or 0.0,
        bright_fraction=photo.bright_fraction or 0.0,
        taken_at=photo.exif_taken_at,
        exif_gps=(photo.exif_lat, photo.exif_lon)
        if photo.exif_lat is not None and photo.exif_lon is not None
        else None,
        hash_informative=photo.hash_informative,
    )


def fingerprint_to_db(fingerprint: int) -> str:
    return f"{fingerprint:064x}"


def hash_columns(hashes: PhotoHashes) -> dict[str, object]:
    """The photo row's reuse columns."""
    frame, core = hashes.frame, hashes.core
    return {
        "phash": hash_to_db(frame.short),
        "fingerprint": fingerprint_to_db(frame.long),
        **dict(zip(("phash_h0", "phash_h1"), hash_halves(frame.short), strict=True)),
        "core_hash": hash_to_db(core.short),
        "core_fingerprint": fingerprint_to_db(core.long),
        **dict(zip(("core_h0", "core_h1"), hash_halves(core.short), strict=True)),
        "hash_informative": hashes.informative,
    }


def stored_lookup(photo: PhotoRec) -> QueryHashes:
    """A stored photo is looked up again (at submit) by its own whole-frame hash only."""
    if not photo.hash_informative or photo.phash is None or not photo.fingerprint:
        return QueryHashes(frames=())
    return QueryHashes(frames=(HashPair(photo.phash % _U64, int(photo.fingerprint, 16)),))


def _closest_frame(pairs: tuple[HashPair, ...], short: int | None, long_hex: str | None) -> tuple[int, int, int] | None:
    """(64-bit, 256-bit distance, index) of the query frame hash with the closest fingerprint among
    those within the prefilter of a stored frame, or None when none is within."""
    if short is None or not long_hex:
        return None
    short, long = short % _U64, int(long_hex, 16)
    near = [
        (d, (p.long ^ long).bit_count(), i)
        for i, p in enumerate(pairs)
        if (d := (p.short ^ short).bit_count()) <= _PREFILTER_BITS
    ]
    return min(near, key=lambda m: (m[1], m[0]), default=None)


def _closest_crop(lookup: QueryHashes, short: int | None, long_hex: str | None) -> tuple[int, int, int] | None:
    """(64-bit, 256-bit distance, box) of the crop box that best matches a stored core, or None when
    no crop hash is within the prefilter. The few closest boxes are aligned finely first."""
    if short is None or not long_hex or not len(lookup.crops):
        return None
    distances = np.bitwise_count(lookup.crops ^ np.uint64(short % _U64))
    nearest: dict[int, int] = {}  # box -> its nearest probe's 64-bit distance
    for i in np.flatnonzero(distances <= _PREFILTER_BITS).tolist():
        box, distance = int(lookup.crop_box_of[i]), int(distances[i])
        nearest[box] = min(distance, nearest.get(box, distance))
    if not nearest:
        return None
    long = int(long_hex, 16)
    boxes = list(nearest)
    ranked = sorted(
        ((fp ^ long).bit_count(), nearest[box], box)
        for box, fp in zip(boxes, lookup.crop_fingerprints(boxes), strict=True)
    )
    best, distance = min((lookup.refined_crop_distance(box, long), d) for _, d, box in ranked[:_REFINED_CANDIDATES])
    return distance, best, 0


def _match(row: dict[str, Any], sha256: str, lookup: QueryHashes) -> ReuseMatch | None:
    frame = _closest_frame(lookup.frames, row["phash"], row["fingerprint"])
    core = _closest_crop(lookup, row.get("core_hash"), row.get("core_fingerprint"))
    exact = row["sha256"] == sha256
    if exact:
        how, distance, fp_distance = "exact", 0, 0
    elif frame is not None and (core is None or frame[1] <= core[1]):
        how, (distance, fp_distance, _) = "frame", frame
    elif core is not None:
        how, (distance, fp_distance, _) = "crop", core
    else:  # a band matched by chance: the hash as a whole is not close
        return None
    return ReuseMatch(
        install_id=str(row["install"]),
        photo_id=int(row["id"]),
        slot=str(row.get("slot", "")),
        exact=exact,
        how=how,
        distance=distance,
        fingerprint_distance=fp_distance,
    )


def _closeness(m: ReuseMatch) -> tuple[bool, int, int]:
    return (not m.exact, m.fingerprint_distance, m.distance)


def _ranked(matches: dict[int, ReuseMatch]) -> tuple[ReuseMatch, ...]:
    ranked = sorted(matches.values(), key=_closeness)
    return tuple(ranked[:10])


_NEAR_CHUNK = 512  # stored hashes compared with all query hashes at once (512 x 2,500 x 8 bytes)


def _near(query: np.ndarray, stored: list[int | None]) -> np.ndarray:
    """Which stored 64-bit hashes are within _PREFILTER_BITS of one of the query hashes."""
    out = np.zeros(len(stored), dtype=bool)
    present = [i for i, s in enumerate(stored) if s is not None]
    if not present or not len(query):
        return out
    rows = np.array([stored[i] % _U64 for i in present], dtype=np.uint64)
    hit = np.zeros(len(rows), dtype=bool)
    for start in range(0, len(rows), _NEAR_CHUNK):
        chunk = rows[start : start + _NEAR_CHUNK]
        hit[start : start + len(chunk)] = (np.bitwise_count(chunk[:, None] ^ query[None, :]) <= _PREFILTER_BITS).any(1)
    out[present] = hit
    return out


async def find_reuse(
    halves: StoredHalves, now: datetime, install_id: uuid.UUID, sha256: str, lookup: QueryHashes
) -> tuple[ReuseMatch, ...]:
    """Candidates for the same picture in OTHER installs, with both hash distances measured.

    One query of indexed equalities on the 32-bit halves (half_neighbours: nothing within the prefilter is
    missed), asked only for the keys the worker's bitmap of stored halves holds (stored_halves: the
    others name no photo); a chance hit (~33 / 2^32 a key and row: a few at a million photos) is dropped unless its
    hash is really within the prefilter of a query hash, before any fingerprint is compared.
    """
    frames = _distinct(np.array([p.short for p in lookup.frames], dtype=np.uint64))
    crops = _distinct(lookup.crops.astype(np.uint64))
    keys = await halves.present(half_neighbours(frames) + half_neighbours(crops), now)
    hits = await repo.half_hits(install_id, keys)
    near = _near(frames, [r["phash"] for r in hits]) | _near(crops, [r["core_hash"] for r in hits])
    close = [row for row, is_near in zip(hits, near.tolist(), strict=True) if is_near]
    matches: dict[int, ReuseMatch] = {}
    for row in await repo.same_bytes(install_id, sha256) + close:
        match = _match(row, sha256, lookup)
        if match is not None:
            matches[match.photo_id] = match
    return _ranked(matches)


def same_install_matches(slot: str, sha256: str, lookup: QueryHashes, photos: list[PhotoRec]) -> tuple[ReuseMatch, ...]:
    """The install's current photos in OTHER slots that may be this same picture."""
    matches: dict[int, ReuseMatch] = {}
    for other in photos:
        if other.slot == slot or not (other.hash_informative or other.sha256 == sha256):
            continue
        row = {"id": other.id, "install": other.install, "slot": other.slot, "sha256": other.sha256}
        match = _match({**row, "phash": other.phash, "fingerprint": other.fingerprint}, sha256, lookup)
        if match is not None:
            matches[match.photo_id] = match
    return _ranked(matches)


def _earlier_matches(checks: list[CheckRec], photo: PhotoRec) -> dict[int, ReuseMatch]:
    """Matches the upload found (mirrored, turned, cropped copies): a submit keeps them."""
    out: dict[int, ReuseMatch] = {}
    for check in checks:
        if check.photo == photo.id and check.check_name == "reuse":
            for m in check.evidence.get("matches", []):
                match = msgspec.convert(m, ReuseMatch)
                out[match.photo_id] = match
    return out


def install_start(install: InstallRec) -> datetime:
    """When the install began: the phone's own start time where it sent one (already bounded)."""
    return install.started_at or install.created_at


def photo_context(
    install: InstallRec,
    fix: FixRec | None,
    uploaded_at: datetime,
    reuse: tuple[ReuseMatch, ...],
    same_install: tuple[ReuseMatch, ...],
) -> PhotoContext:
    return PhotoContext(
        expected_payload=install.scanned_payload,
        install_started=install_start(install),
        uploaded_at=uploaded_at,
        fix=(fix.lat, fix.lon, fix.accuracy_m) if fix else None,
        reuse=reuse,
        same_install=same_install,
    )


def label_checks(photos: list[PhotoRec], expected_payload: str) -> list[CheckResult]:
    """Re-run the label check on stored QR texts (no decoding), e.g. after a scan."""
    return [check_label_qr(evidence_from_record(p), expected_payload) for p in photos if p.qr_texts is not None]


async def submit_checks(ctx: InstallContext, snap: InstallSnapshot) -> list[CheckResult]:
    """All evidence checked together at submit."""
    install = snap.install
    spec = ctx.catalog.types[install.asset_type]
    results = check_slots_complete(spec.slots, {p.slot for p in snap.photos})
    for photo in snap.photos:
        if photo.slot in spec.slots:
            lookup = stored_lookup(photo)
            found = {m.photo_id: m for m in await find_reuse(ctx.halves, ctx.clock(), install.id, photo.sha256, lookup)}
            for photo_id, match in _earlier_matches(snap.checks, photo).items():  # the closer finding counts
                if photo_id not in found or _closeness(match) < _closeness(found[photo_id]):
                    found[photo_id] = match
            reuse = _ranked(found)
            twins = same_install_matches(photo.slot, photo.sha256, lookup, snap.photos)
            context = photo_context(install, snap.fix, photo.created_at, reuse, twins)
            results.extend(run_photo_checks(evidence_from_record(photo), context, ctx.policy))
    history = [
        Fix(
            lat=f.lat,
            lon=f.lon,
            accuracy_m=f.accuracy_m,
            mocked=f.mocked,
            captured_at=f.captured_at,
            provider=f.provider,
        )
        for f in snap.fixes
    ]
    results.append(
        check_location(
            history[-1] if history else None,
            snap.connection.lat,
            snap.connection.lon,
            ctx.territory,
            ctx.policy,
            history,
        )
    )
    fix_time = check_fix_time(
        history[-1] if history else None,
        install_start(install),
        ctx.clock(),
        [p.exif_taken_at for p in snap.photos if p.exif_taken_at is not None and p.slot in spec.slots],
        ctx.policy,
    )
    if fix_time is not None:
        results.append(fix_time)
    asset = snap.asset
    rivals = ctx.catalog.rivals(install.asset_type) if asset else frozenset()
    others = await repo.rivals_installed(install.connection, rivals, asset.id if asset else None)
    results.append(
        check_asset(
            asset.serial if asset else None,
            asset.status if asset else None,
            asset is not None and asset.connection == install.connection,
            fits_connection=asset is None or snap.connection.capacity in ctx.catalog.types[asset.asset_type].capacities,
            others_of_its_kind=tuple(o.serial for o in others),
        )
    )
    if any(ctx.catalog.slots[s].requires_reading for s in spec.slots):
        results.append(check_reading(install.reading, asset.last_reading if asset else None))
    return results
