"""Install-level checks, run together at submit; each a plain function returning a CheckResult.

Every result carries the measured values and the threshold used, so a specialist can read why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from backend.validation.geo import Territory, distance_m
from backend.validation.policy import Policy
from backend.validation.results import N_, CheckResult, Reason, Status


class Fix(msgspec.Struct, frozen=True, kw_only=True):
    lat: float
    lon: float
    accuracy_m: float
    mocked: bool
    captured_at: datetime
    provider: str = "gps"  # gps | fused | network | manual


# A typed-in or network (cell/Wi-Fi) position says where someone claims to be, not where a
# satellite fix put the phone: at best uncertain.
UNPROVEN_PROVIDERS = frozenset({"manual", "network"})


def check_slots_complete(required: tuple[str, ...], present: set[str]) -> list[CheckResult]:
    """Every slot the catalog requires holds a photo."""
    return [
        CheckResult(
            check="slot_present",
            subject=slot,
            status=Status.PASS if slot in present else Status.FAIL,
            confidence=1.0,
            evidence={"present": slot in present},
            user_fixable=slot not in present,
            fix="" if slot in present else N_("This photo is still missing."),
        )
        for slot in required
    ]


def _repeated(fixes: list[Fix]) -> bool:
    """Real GPS never reports exactly the same position and accuracy twice at different times."""
    seen = {(f.lat, f.lon, f.accuracy_m) for f in fixes}
    return len(seen) < len(fixes)


def check_location(
    fix: Fix | None,
    target_lat: float,
    target_lon: float,
    territory: Territory | None,
    policy: Policy,
    history: list[Fix] | None = None,
) -> CheckResult:
    """The latest GPS fix lies at the connection's address, judged with the fix's own accuracy.

    A mocked provider, an accuracy of exactly 0, identical fixes repeated, or a fix outside the
    service territory are fraud signals.
    """
    limits = policy.location
    if fix is None:
        return CheckResult(
            check="location",
            subject="location",
            status=Status.FAIL,
            confidence=1.0,
            evidence={},
            user_fixable=True,
            fix=N_("Share your location at the meter cabinet."),
        )
    distance = distance_m(fix.lat, fix.lon, target_lat, target_lon)
    evidence = {
        "distance_m": round(distance, 1),
        "accuracy_m": fix.accuracy_m,
        "max_distance_m": limits.max_distance_m,
        "max_accuracy_m": limits.max_accuracy_m,
        "mocked": fix.mocked,
        "in_territory": territory.contains(fix.lat, fix.lon) if territory else None,
        "repeated_fixes": _repeated(history or [fix]),
        "provider": fix.provider,
    }
    base = {"check": "location", "subject": "location", "evidence": evidence}
    if fix.mocked or fix.accuracy_m == 0 or evidence["in_territory"] is False or evidence["repeated_fixes"]:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.95,
            user_fixable=False,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_(
                "The location is not trustworthy (simulated, repeated or outside our area). A specialist will look."
            ),
        )
    if distance - fix.accuracy_m > limits.max_distance_m:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.9,
            user_fixable=False,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_("The location is {distance} m from the connection's address."),
            fix_params={"distance": round(distance)},
        )
    if fix.provider in UNPROVEN_PROVIDERS:
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.4,
            user_fixable=True,
            fix=N_(
                "Share your location with GPS on, at the meter cabinet: "
                "a typed or network location is not precise enough."
            ),
        )
    if fix.accuracy_m > limits.max_accuracy_m or distance + fix.accuracy_m > limits.max_distance_m:
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.5,
            user_fixable=True,
            fix=N_("Share your location again at the meter cabinet, with GPS on and near a window if possible."),
        )
    return CheckResult(**base, status=Status.PASS, confidence=0.95, user_fixable=False)


def check_fix_time(
    fix: Fix | None, install_started: datetime, now: datetime, photo_times: list[datetime], policy: Policy
) -> CheckResult | None:
    """The fix was taken during this install, and near the time the photos were taken."""
    if fix is None:
        return None
    f = policy.freshness
    earliest = install_started - timedelta(minutes=f.max_clock_skew_min)
    latest = now + timedelta(minutes=f.max_clock_skew_min)
    gap = min((abs((fix.captured_at - t).total_seconds()) / 60 for t in photo_times), default=None)
    evidence = {
        "captured_at": fix.captured_at.isoformat(),
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
        "minutes_from_nearest_photo": round(gap, 1) if gap is not None else None,
        "max_minutes_from_photos": f.max_fix_photo_gap_min,
    }
    base = {"check": "location_time", "subject": "location", "evidence": evidence}
    if fix.captured_at > latest:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.9,
            user_fixable=False,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_("The shared location's time lies in the future. A specialist will look."),
        )
    if fix.captured_at < earliest:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.9,
            user_fixable=True,
            fix=N_("The shared location predates this install. Share your location again now, at the meter cabinet."),
        )
    if gap is not None and gap > f.max_fix_photo_gap_min:
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.5,
            user_fixable=True,
            fix=N_(
                "The location was shared at another time than the photos were taken. "
                "Share it again at the meter cabinet."
            ),
        )
    return CheckResult(**base, status=Status.PASS, confidence=0.9, user_fixable=False)


def check_asset(
    scanned_serial: str | None,
    status: str | None,
    installed_on_this_connection: bool,
    fits_connection: bool = True,
    others_of_its_kind: tuple[str, ...] = (),
) -> CheckResult:
    """An asset was scanned, is free to be installed here, its type fits the connection's capacity, and
    the connection has no other asset of its kind installed where it holds one (`others_of_its_kind`: their
    serials; a second meter is a swap, or stranger)."""
    evidence: dict[str, object] = {"serial": scanned_serial, "status": status, "fits_connection": fits_connection}
    if others_of_its_kind:
        evidence["others_of_its_kind_here"] = list(others_of_its_kind)
    base = {"check": "asset", "subject": "asset", "evidence": evidence}
    if scanned_serial is None:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=1.0,
            user_fixable=True,
            fix=N_("Scan the asset's QR label."),
        )
    free_here = status == "in_stock" or (status == "installed" and installed_on_this_connection)
    if free_here and not fits_connection:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=1.0,
            user_fixable=False,
            escalate_as=Reason.SPECIALIST_KNOWLEDGE,
            fix=N_("This asset does not fit the connection's capacity. A specialist will look."),
        )
    if free_here and others_of_its_kind:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=1.0,
            user_fixable=False,
            escalate_as=Reason.SPECIALIST_KNOWLEDGE,
            fix=N_("This connection already has a device of this kind installed. A specialist will look."),
        )
    if free_here:
        return CheckResult(**base, status=Status.PASS, confidence=1.0, user_fixable=False)
    return CheckResult(
        **base,
        status=Status.FAIL,
        confidence=1.0,
        user_fixable=False,
        escalate_as=Reason.SUSPECTED_FRAUD,
        fix=N_("This asset is installed elsewhere or retired. A specialist will look."),
    )


def check_reading(value: float | None, last_known: float | None) -> CheckResult:
    """The typed meter reading is plausible: present, not negative, not below the last known one."""
    evidence = {"reading": value, "last_known_reading": last_known}
    ok = value is not None and value >= 0 and (last_known is None or value >= last_known)
    if value is None:
        fix = N_("Enter the reading shown on the display.")
    else:
        fix = N_("Check the reading: it is negative or lower than the previous reading.")
    return CheckResult(
        check="reading",
        subject="reading",
        status=Status.PASS if ok else Status.FAIL,
        confidence=0.95,
        evidence=evidence,
        user_fixable=not ok,
        fix="" if ok else fix,
    )
