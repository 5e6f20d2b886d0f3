"""Bridges stored evidence to the pure checks in `backend.validation`."""

from __future__ import annotations

import uuid
from datetime import datetime

from backend.installs import repository as repo
from backend.installs.context import InstallContext
from backend.installs.records import FixRec, InstallRec, PhotoRec
from backend.installs.snapshot import InstallSnapshot
from backend.validation.checks import (
    Fix,
    check_asset,
    check_location,
    check_reading,
    check_slots_complete,
)
from backend.validation.photo_checks import PhotoContext, PhotoEvidence, ReuseMatch, check_label_qr, run_photo_checks
from backend.validation.results import CheckResult

_U64 = 1 << 64


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
        sharpness=photo.sharpness or 0.0,
        brightness=photo.brightness or 0.0,
        dark_fraction=photo.dark_fraction or 0.0,
        bright_fraction=photo.bright_fraction or 0.0,
        taken_at=photo.exif_taken_at,
        exif_gps=(photo.exif_lat, photo.exif_lon)
        if photo.exif_lat is not None and photo.exif_lon is not None
        else None,
    )


async def find_reuse(install_id: uuid.UUID, sha256: str, phash: int, fingerprint: int) -> tuple[ReuseMatch, ...]:
    """Candidates for the same picture in other installs, with both hash distances measured."""
    matches: dict[int, ReuseMatch] = {}
    for row in await repo.reuse_candidates(install_id, sha256, hash_bands(phash)):
        other_fp = int(row["fingerprint"], 16) if row["fingerprint"] else 0
        matches[row["id"]] = ReuseMatch(
            install_id=str(row["install"]),
            photo_id=row["id"],
            exact=row["sha256"] == sha256,
            distance=(((row["phash"] or 0) % _U64) ^ phash).bit_count(),
            fingerprint_distance=(other_fp ^ fingerprint).bit_count() if row["fingerprint"] else 256,
        )
    ranked = sorted(matches.values(), key=lambda m: (not m.exact, m.fingerprint_distance, m.distance))
    return tuple(ranked[:10])


def fingerprint_to_db(fingerprint: int) -> str:
    return f"{fingerprint:064x}"


def photo_context(
    install: InstallRec, fix: FixRec | None, uploaded_at: datetime, reuse: tuple[ReuseMatch, ...]
) -> PhotoContext:
    return PhotoContext(
        expected_payload=install.scanned_payload,
        install_started=install.created_at,
        uploaded_at=uploaded_at,
        fix=(fix.lat, fix.lon, fix.accuracy_m) if fix else None,
        reuse=reuse,
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
            reuse = await find_reuse(
                install.id,
                photo.sha256,
                (photo.phash or 0) % _U64,
                int(photo.fingerprint, 16) if photo.fingerprint else 0,
            )
            context = photo_context(install, snap.fix, photo.created_at, reuse)
            results.extend(run_photo_checks(evidence_from_record(photo), context, ctx.policy))
    history = [
        Fix(lat=f.lat, lon=f.lon, accuracy_m=f.accuracy_m, mocked=f.mocked, captured_at=f.captured_at)
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
