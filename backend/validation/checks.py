"""The checks, each a plain function over evidence returning a CheckResult.

Every result carries the measured values and the threshold used, so a specialist can read why.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from backend.validation.geo import Territory, distance_m
from backend.validation.policy import Policy
from backend.validation.results import CheckResult, Reason, Status

LABEL_PREFIX = "SI1:"


class Fix(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    accuracy_m: float
    mocked: bool
    captured_at: datetime


class PhotoEvidence(msgspec.Struct, frozen=True, kw_only=True):
    slot: str
    width: int
    height: int
    qr_texts: tuple[str, ...] | None


def check_label_qr(photo: PhotoEvidence, expected_payload: str | None) -> CheckResult:
    """The QR code in the photo must be the label of the scanned asset."""
    texts = photo.qr_texts or ()
    evidence = {"decoded": list(texts), "expected": expected_payload}
    base = {"check": "label_qr", "subject": photo.slot, "evidence": evidence}
    if expected_payload is not None and expected_payload in texts:
        return CheckResult(**base, status=Status.PASS, confidence=1.0, user_fixable=False)
    other_labels = [t for t in texts if t.startswith(LABEL_PREFIX) and t != expected_payload]
    if other_labels and expected_payload is not None:
        return CheckResult(
            **base, status=Status.FAIL, confidence=0.99, user_fixable=False, escalate_as=Reason.SUSPECTED_FRAUD,
            fix_nl="Het label op de foto hoort bij een ander apparaat dan het gescande. Een specialist kijkt ernaar.",
            fix_en="The label in the photo belongs to another asset than the one scanned. A specialist will look.",
        )
    if expected_payload is None:
        return CheckResult(
            **base, status=Status.UNCERTAIN, confidence=0.5, user_fixable=True,
            fix_nl="Scan eerst het QR-label van het apparaat; daarna vergelijken we de foto ermee.",
            fix_en="Scan the asset's QR label first; the photo is then compared with it.",
        )
    return CheckResult(
        **base, status=Status.UNCERTAIN, confidence=0.6, user_fixable=True,
        fix_nl="Maak de foto opnieuw: het QR-label is niet leesbaar. Kom dichterbij en vermijd schittering.",
        fix_en="Retake the photo: the QR label is not readable. Move closer and avoid glare.",
    )


def check_resolution(photo: PhotoEvidence, policy: Policy) -> CheckResult:
    """The photo must have enough pixels to show the details a specialist needs."""
    short_side = min(photo.width, photo.height)
    threshold = policy.photo.min_short_side_px
    ok = short_side >= threshold
    return CheckResult(
        check="resolution", subject=photo.slot, status=Status.PASS if ok else Status.FAIL, confidence=1.0,
        evidence={"short_side_px": short_side, "min_short_side_px": threshold}, user_fixable=not ok,
        fix_nl="" if ok else f"Maak de foto opnieuw met de camera op volle resolutie (minimaal {threshold} pixels).",
        fix_en="" if ok else f"Retake the photo with the camera at full resolution (at least {threshold} pixels).",
    )


def check_slots_complete(required: tuple[str, ...], present: set[str]) -> list[CheckResult]:
    """Every slot the catalog requires holds a photo."""
    return [
        CheckResult(
            check="slot_present", subject=slot, status=Status.PASS if slot in present else Status.FAIL,
            confidence=1.0, evidence={"present": slot in present}, user_fixable=slot not in present,
            fix_nl="" if slot in present else "Deze foto ontbreekt nog.",
            fix_en="" if slot in present else "This photo is still missing.",
        )
        for slot in required
    ]


def check_location(fix: Fix | None, target_lat: float, target_lon: float, territory: Territory | None,
                   policy: Policy) -> CheckResult:
    """The GPS fix lies at the connection's address, judged with the fix's own accuracy."""
    limits = policy.location
    if fix is None:
        return CheckResult(
            check="location", subject="location", status=Status.FAIL, confidence=1.0, evidence={},
            user_fixable=True, fix_nl="Deel uw locatie bij de meterkast.", fix_en="Share your location at the meter cabinet.",
        )
    distance = distance_m(fix.lat, fix.lon, target_lat, target_lon)
    evidence = {
        "distance_m": round(distance, 1), "accuracy_m": fix.accuracy_m, "max_distance_m": limits.max_distance_m,
        "max_accuracy_m": limits.max_accuracy_m, "mocked": fix.mocked,
        "in_territory": territory.contains(fix.lat, fix.lon) if territory else None,
    }
    base = {"check": "location", "subject": "location", "evidence": evidence}
    if fix.mocked or evidence["in_territory"] is False:
        return CheckResult(
            **base, status=Status.FAIL, confidence=0.95, user_fixable=False, escalate_as=Reason.SUSPECTED_FRAUD,
            fix_nl="De locatie is niet betrouwbaar (gesimuleerd of buiten ons gebied). Een specialist kijkt ernaar.",
            fix_en="The location is not trustworthy (simulated or outside our area). A specialist will look.",
        )
    if distance - fix.accuracy_m > limits.max_distance_m:
        return CheckResult(
            **base, status=Status.FAIL, confidence=0.9, user_fixable=False, escalate_as=Reason.SUSPECTED_FRAUD,
            fix_nl=f"De locatie ligt {distance:.0f} m van het adres van de aansluiting.",
            fix_en=f"The location is {distance:.0f} m from the connection's address.",
        )
    if fix.accuracy_m > limits.max_accuracy_m or distance + fix.accuracy_m > limits.max_distance_m:
        return CheckResult(
            **base, status=Status.UNCERTAIN, confidence=0.5, user_fixable=True,
            fix_nl="Deel uw locatie opnieuw bij de meterkast, met GPS aan en zo mogelijk bij een raam.",
            fix_en="Share your location again at the meter cabinet, with GPS on and near a window if possible.",
        )
    return CheckResult(**base, status=Status.PASS, confidence=0.95, user_fixable=False)


def check_asset(scanned_serial: str | None, status: str | None, installed_on_this_connection: bool) -> CheckResult:
    """An asset was scanned and is free to be installed here."""
    evidence = {"serial": scanned_serial, "status": status}
    base = {"check": "asset", "subject": "asset", "evidence": evidence}
    if scanned_serial is None:
        return CheckResult(
            **base, status=Status.FAIL, confidence=1.0, user_fixable=True,
            fix_nl="Scan het QR-label van het apparaat.", fix_en="Scan the asset's QR label.",
        )
    if status == "in_stock" or (status == "installed" and installed_on_this_connection):
        return CheckResult(**base, status=Status.PASS, confidence=1.0, user_fixable=False)
    return CheckResult(
        **base, status=Status.FAIL, confidence=1.0, user_fixable=False, escalate_as=Reason.SUSPECTED_FRAUD,
        fix_nl="Dit apparaat is al elders geïnstalleerd of buiten gebruik. Een specialist kijkt ernaar.",
        fix_en="This asset is installed elsewhere or retired. A specialist will look.",
    )
