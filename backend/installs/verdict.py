"""Bridges stored evidence to the pure checks in `backend.validation`."""

from __future__ import annotations

from backend.installs.context import InstallContext
from backend.installs.records import PhotoRec
from backend.installs.snapshot import InstallSnapshot
from backend.validation.checks import (
    Fix,
    PhotoEvidence,
    check_asset,
    check_label_qr,
    check_location,
    check_resolution,
    check_slots_complete,
)
from backend.validation.results import CheckResult


def _evidence(photo: PhotoRec) -> PhotoEvidence:
    qr_texts = tuple(photo.qr_texts) if photo.qr_texts is not None else None
    return PhotoEvidence(slot=photo.slot, width=photo.width, height=photo.height, qr_texts=qr_texts)


def photo_checks(ctx: InstallContext, evidence: PhotoEvidence, expected_payload: str | None) -> list[CheckResult]:
    """The checks run on one photo at upload, answered in the same response."""
    results = [check_resolution(evidence, ctx.policy)]
    if evidence.qr_texts is not None:
        results.append(check_label_qr(evidence, expected_payload))
    return results


def label_checks(photos: list[PhotoRec], expected_payload: str) -> list[CheckResult]:
    """Re-run the label check on stored QR texts (no decoding), e.g. after a scan."""
    return [check_label_qr(_evidence(p), expected_payload) for p in photos if p.qr_texts is not None]


def submit_checks(ctx: InstallContext, snap: InstallSnapshot) -> list[CheckResult]:
    """All evidence checked together at submit."""
    required = ctx.catalog.types[snap.install.asset_type].slots
    results = check_slots_complete(required, {p.slot for p in snap.photos})
    for photo in snap.photos:
        if photo.slot in required:
            results.extend(photo_checks(ctx, _evidence(photo), snap.install.scanned_payload))
    fix = None
    if snap.fix is not None:
        fix = Fix(lat=snap.fix.lat, lon=snap.fix.lon, accuracy_m=snap.fix.accuracy_m, mocked=snap.fix.mocked,
                  captured_at=snap.fix.captured_at)
    results.append(check_location(fix, snap.connection.lat, snap.connection.lon, ctx.territory, ctx.policy))
    asset = snap.asset
    results.append(check_asset(
        asset.serial if asset else None,
        asset.status if asset else None,
        asset is not None and asset.connection == snap.install.connection,
    ))
    return results
