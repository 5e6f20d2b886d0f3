"""Bridges stored evidence to the pure checks in `backend.validation`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
import numpy as np

from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.records import CheckRec, FixRec, InstallRec, PhotoRec
from backend.installs.snapshot import InstallSnapshot
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
# The band index finds 64-bit hashes at most 3 bits apart (ReusePolicy.max_hamming is capped at it).
_PREFILTER_BITS = 3
# How many crop positions that pass the prefilter are aligned finely (each costs about 0.1 ms).
_REFINED_CANDIDATES = 3


def hash_to_db(phash: int) -> int:
    """An unsigned 64-bit hash as PostgreSQL's signed BIGINT."""
    return phash - _U64 if phash >= 1 << 63 else phash


def hash_bands(phash: int) -> tuple[int, int, int, int]:
    """The four 16-bit bands of an unsigned 64-bit hash, most significant first."""
    return (phash >> 48) & 0xFFFF, (phash >> 32) & 0xFFFF, (phash >> 16) & 0xFFFF, phash & 0xFFFF


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
        **dict(zip(("phash_b0", "phash_b1", "phash_b2", "phash_b3"), hash_bands(frame.short), strict=True)),
        "core_hash": hash_to_db(core.short),
        "core_fingerprint": fingerprint_to_db(core.long),
        **dict(zip(("core_b0", "core_b1", "core_b2", "core_b3"), hash_bands(core.short), strict=True)),
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


def _band_index(shorts: Iterable[int]) -> list[dict[int, list[int]]]:
    """Per band position, the query's 64-bit hashes by their value in that band."""
    index: list[dict[int, list[int]]] = [{}, {}, {}, {}]
    for short in shorts:
        for position, band in enumerate(hash_bands(short)):
            index[position].setdefault(band, []).append(short)
    return index


def _within_prefilter(stored: int | None, index: list[dict[int, list[int]]]) -> bool:
    """A stored 64-bit hash is within the prefilter of a query hash that shares one of its bands."""
    if stored is None:
        return False
    stored %= _U64
    return any(
        (query ^ stored).bit_count() <= _PREFILTER_BITS
        for position, band in enumerate(hash_bands(stored))
        for query in index[position].get(band, ())
    )


async def find_reuse(install_id: uuid.UUID, sha256: str, lookup: QueryHashes) -> tuple[ReuseMatch, ...]:
    """Candidates for the same picture in OTHER installs, with both hash distances measured.

    Every band hit is read (three integers a row) and kept only if its hash is really within the
    prefilter of a query hash sharing that band; only those rows are read in full. Capping the band
    hits instead would lose true matches: the crop probes share a band with ~1.4 % of all rows.
    """
    frames = _band_index(dict.fromkeys(p.short for p in lookup.frames))
    crops = _band_index(np.unique(lookup.crops).tolist())
    bands = [set(index) for index in frames + crops]
    close = [
        row["id"]
        for row in await repo.band_hits(install_id, bands)
        if _within_prefilter(row["phash"], frames) or _within_prefilter(row["core_hash"], crops)
    ]
    matches: dict[int, ReuseMatch] = {}
    for row in await repo.same_bytes(install_id, sha256) + await repo.reuse_rows(close):
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
            found = {m.photo_id: m for m in await find_reuse(install.id, photo.sha256, lookup)}
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
    results.append(
        check_asset(
            asset.serial if asset else None,
            asset.status if asset else None,
            asset is not None and asset.connection == install.connection,
            fits_connection=asset is None or snap.connection.capacity in ctx.catalog.types[asset.asset_type].capacities,
        )
    )
    if any(ctx.catalog.slots[s].requires_reading for s in spec.slots):
        results.append(check_reading(install.reading, asset.last_reading if asset else None))
    return results
