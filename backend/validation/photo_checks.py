"""Checks on one photo, run at upload (the answer comes back in the same response) and at submit."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from backend.validation.geo import distance_m
from backend.validation.photo import PhotoFacts
from backend.validation.policy import Policy, ReusePolicy
from backend.validation.results import N_, CheckResult, Reason, Status

LABEL_PREFIX = "SI1:"


class PhotoEvidence(msgspec.Struct, frozen=True, kw_only=True):
    slot: str
    width: int
    height: int
    qr_texts: tuple[str, ...] | None  # None: the slot does not look for a QR code
    qr_symbol_seen: bool
    sharpness: float
    edge_density: float
    contrast: float
    brightness: float
    dark_fraction: float
    bright_fraction: float
    taken_at: datetime | None
    exif_gps: tuple[float, float] | None
    hash_informative: bool = True  # False: a uniform picture, left out of reuse matching

    @classmethod
    def from_facts(cls, slot: str, facts: PhotoFacts) -> PhotoEvidence:
        """What the checks need of a freshly decoded photo."""
        return cls(
            slot=slot,
            width=facts.width,
            height=facts.height,
            qr_texts=facts.qr_texts,
            qr_symbol_seen=facts.qr_symbol_seen,
            sharpness=facts.sharpness,
            edge_density=facts.edge_density,
            contrast=facts.contrast,
            brightness=facts.brightness,
            dark_fraction=facts.dark_fraction,
            bright_fraction=facts.bright_fraction,
            taken_at=facts.taken_at,
            exif_gps=facts.gps,
            hash_informative=facts.hashes.informative,
        )


class ReuseMatch(msgspec.Struct, frozen=True, kw_only=True):
    """A stored photo of ANOTHER install (or another slot of this one) that may be the same picture."""

    install_id: str
    photo_id: int
    distance: int  # Hamming distance of the 64-bit difference hashes (the indexed prefilter)
    fingerprint_distance: int  # ... and of the 256-bit fingerprints of the same regions
    exact: bool  # identical bytes (same SHA-256)
    how: str = "frame"  # exact | frame (whole picture, maybe mirrored or turned) | crop
    slot: str = ""  # the other photo's slot


class PhotoContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a photo is judged against."""

    expected_payload: str | None  # the scanned label; None before the scan
    install_started: datetime  # the phone's own start time where it sent one (offline work)
    uploaded_at: datetime
    fix: tuple[float, float, float] | None  # (lat, lon, accuracy_m) of the latest reported fix
    reuse: tuple[ReuseMatch, ...]  # candidates in OTHER installs
    same_install: tuple[ReuseMatch, ...] = ()  # candidates among this install's other slots


def _retake(
    check: str,
    slot: str,
    evidence: dict[str, object],
    ok: bool,
    fix: str,
    confidence: float = 0.9,
    fix_params: dict[str, object] | None = None,
) -> CheckResult:
    """A check whose failure the user fixes by taking the photo again."""
    return CheckResult(
        check=check,
        subject=slot,
        status=Status.PASS if ok else Status.FAIL,
        confidence=confidence,
        evidence=evidence,
        user_fixable=not ok,
        fix="" if ok else fix,
        fix_params={} if ok or fix_params is None else fix_params,
    )


def check_label_qr(photo: PhotoEvidence, expected_payload: str | None) -> CheckResult:
    """The QR code in the photo must be the label of the scanned asset."""
    texts = photo.qr_texts or ()
    base = {
        "check": "label_qr",
        "subject": photo.slot,
        "evidence": {"decoded": list(texts), "expected": expected_payload},
    }
    if expected_payload is not None and expected_payload in texts:
        return CheckResult(**base, status=Status.PASS, confidence=1.0, user_fixable=False)
    if expected_payload is not None and any(t.startswith(LABEL_PREFIX) for t in texts):
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.99,
            user_fixable=False,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_("The label in the photo belongs to another asset than the one scanned. A specialist will look."),
        )
    if expected_payload is None:
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.5,
            user_fixable=True,
            fix=N_("Scan the asset's QR label first; the photo is then compared with it."),
        )
    if photo.qr_symbol_seen:  # a code is there but does not read: a better photo may well read it
        return CheckResult(
            **{**base, "evidence": {**base["evidence"], "symbol_seen": True}},
            status=Status.UNCERTAIN,
            confidence=0.6,
            user_fixable=True,
            fix=N_("Retake the photo: the QR label is not readable. Move closer and avoid glare."),
        )
    return CheckResult(
        **{**base, "evidence": {**base["evidence"], "symbol_seen": False}},
        status=Status.FAIL,
        confidence=0.8,
        user_fixable=True,
        fix=N_("Retake the photo: the QR label cannot be found. Make sure the whole label is in the frame and sharp."),
    )


def check_resolution(photo: PhotoEvidence, policy: Policy) -> CheckResult:
    """Enough pixels to show the details a specialist needs."""
    short_side, threshold = min(photo.width, photo.height), policy.photo.min_short_side_px
    return _retake(
        "resolution",
        photo.slot,
        {"short_side_px": short_side, "min_short_side_px": threshold},
        short_side >= threshold,
        N_("Retake the photo with the camera at full resolution (at least {threshold} pixels)."),
        1.0,
        {"threshold": threshold},
    )


def check_sharpness(photo: PhotoEvidence, policy: Policy) -> CheckResult:
    """Not blurred or shaken: fine detail in every direction (see photo.directional_sharpness)."""
    threshold = policy.photo.min_sharpness
    return _retake(
        "sharpness",
        photo.slot,
        {"sharpness": round(photo.sharpness, 3), "min_sharpness": threshold},
        photo.sharpness >= threshold,
        N_("Retake the photo: it is blurred or shaken. Hold the phone still and tap to focus."),
    )


def check_content(photo: PhotoEvidence, policy: Policy) -> CheckResult:
    """Something is in the picture: a blank wall, a lens cap or a pocket has no edges and no contrast."""
    p = policy.photo
    ok = photo.edge_density >= p.min_edge_density and photo.contrast >= p.min_contrast
    return _retake(
        "content",
        photo.slot,
        {
            "edge_density": round(photo.edge_density, 4),
            "min_edge_density": p.min_edge_density,
            "contrast": round(photo.contrast, 1),
            "min_contrast": p.min_contrast,
        },
        ok,
        N_("Retake the photo: nothing can be seen in it. Uncover the lens and point the camera at the meter cabinet."),
        0.95,
    )


def check_exposure(photo: PhotoEvidence, policy: Policy) -> CheckResult:
    """Neither too dark nor blown out."""
    p = policy.photo
    evidence = {
        "mean_luminance": round(photo.brightness, 1),
        "min_luminance": p.min_brightness,
        "max_luminance": p.max_brightness,
        "dark_fraction": round(photo.dark_fraction, 3),
        "bright_fraction": round(photo.bright_fraction, 3),
        "max_clipped_fraction": p.max_clipped_fraction,
    }
    if photo.brightness < p.min_brightness or photo.dark_fraction > p.max_clipped_fraction:
        return _retake(
            "exposure",
            photo.slot,
            evidence,
            False,
            N_("Retake the photo: it is too dark. Turn on a light or use the flash."),
        )
    if photo.brightness > p.max_brightness or photo.bright_fraction > p.max_clipped_fraction:
        return _retake(
            "exposure",
            photo.slot,
            evidence,
            False,
            N_("Retake the photo: it is overexposed. Avoid direct light or a close-up flash."),
        )
    return _retake("exposure", photo.slot, evidence, True, "")


def check_capture_time(photo: PhotoEvidence, ctx: PhotoContext, policy: Policy) -> CheckResult:
    """Taken during this install: not an old photo, not from the future. Missing EXIF is uncertain."""
    f = policy.freshness
    earliest = ctx.install_started - timedelta(hours=f.max_age_before_install_h)
    latest = ctx.uploaded_at + timedelta(minutes=f.max_clock_skew_min)
    evidence = {
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
    }
    base = {"check": "capture_time", "subject": photo.slot, "evidence": evidence}
    if photo.taken_at is None:
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.5,
            user_fixable=True,
            fix=N_("The photo has no capture time. Take it with the camera in the app."),
        )
    if photo.taken_at > latest:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.9,
            user_fixable=False,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_("The photo's capture time lies in the future. A specialist will look."),
        )
    if photo.taken_at < earliest:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.9,
            user_fixable=True,
            fix=N_("This photo was taken before this install. Take a new photo now."),
        )
    return CheckResult(**base, status=Status.PASS, confidence=0.9, user_fixable=False)


def check_exif_location(photo: PhotoEvidence, ctx: PhotoContext, policy: Policy) -> CheckResult | None:
    """Where the photo says it was taken, against the reported fix; None when either is unknown."""
    if photo.exif_gps is None or ctx.fix is None:
        return None
    lat, lon, accuracy = ctx.fix
    distance = distance_m(photo.exif_gps[0], photo.exif_gps[1], lat, lon)
    limit = policy.freshness.max_exif_gps_distance_m
    ok = distance - accuracy <= limit
    return CheckResult(
        check="exif_location",
        subject=photo.slot,
        status=Status.PASS if ok else Status.FAIL,
        confidence=0.85,
        evidence={"distance_m": round(distance, 1), "fix_accuracy_m": accuracy, "max_distance_m": limit},
        user_fixable=False,
        escalate_as=Reason.SUSPECTED_FRAUD,
        fix="" if ok else N_("The photo was taken {distance} m from your shared location. A specialist will look."),
        fix_params={} if ok else {"distance": round(distance)},
    )


def _same_picture(m: ReuseMatch, limits: ReusePolicy, uncertain: bool = False) -> bool:
    """Both hashes close enough; a crop (aligned finely first) must come closer than a whole frame."""
    if m.exact:
        return True
    if m.how == "crop":
        limit = limits.uncertain_crop_fingerprint_distance if uncertain else limits.max_crop_fingerprint_distance
    else:
        limit = limits.uncertain_fingerprint_distance if uncertain else limits.max_fingerprint_distance
    return m.distance <= limits.max_hamming and m.fingerprint_distance <= limit


def check_reuse(photo: PhotoEvidence, ctx: PhotoContext, policy: Policy) -> CheckResult:
    """The same picture in another install is a fraud signal, never approved; nearly the same is uncertain."""
    limits = policy.reuse
    same = [m for m in ctx.reuse if _same_picture(m, limits)]
    near = [m for m in ctx.reuse if _same_picture(m, limits, uncertain=True)]
    evidence = {
        "matches": [msgspec.to_builtins(m) for m in (same or near)],
        "max_hamming": limits.max_hamming,
        "max_fingerprint_distance": limits.max_fingerprint_distance,
        "uncertain_fingerprint_distance": limits.uncertain_fingerprint_distance,
        "max_crop_fingerprint_distance": limits.max_crop_fingerprint_distance,
        "uncertain_crop_fingerprint_distance": limits.uncertain_crop_fingerprint_distance,
        "informative": photo.hash_informative,
    }
    base = {"check": "reuse", "subject": photo.slot, "evidence": evidence, "user_fixable": False}
    if same:
        return CheckResult(
            **base,
            status=Status.FAIL,
            confidence=0.97,
            escalate_as=Reason.SUSPECTED_FRAUD,
            fix=N_("This photo was already used for another install. A specialist will look."),
        )
    if near:  # at the edge of the threshold: a person compares the two pictures
        return CheckResult(
            **base,
            status=Status.UNCERTAIN,
            confidence=0.6,
            escalate_as=Reason.UNCERTAIN,
            fix=N_("This photo closely resembles a photo of another install. A specialist will compare them."),
        )
    return CheckResult(**base, status=Status.PASS, confidence=0.95)


def check_distinct_slots(photo: PhotoEvidence, ctx: PhotoContext, policy: Policy) -> CheckResult:
    """Each slot shows its own picture: the same photo in two slots of one install is a retake."""
    limits = policy.reuse
    twins = [m for m in ctx.same_install if _same_picture(m, limits)]
    return _retake(
        "distinct_slots",
        photo.slot,
        {"same_as_slots": sorted({m.slot for m in twins})},
        not twins,
        N_("This photo was also used for another step. Take a separate photo of what each step asks for."),
        0.95,
    )


def run_photo_checks(photo: PhotoEvidence, ctx: PhotoContext, policy: Policy) -> list[CheckResult]:
    """The literal list of checks on one photo."""
    content = check_content(photo, policy)
    results = [
        check_resolution(photo, policy),
        content,
        # On a picture of nothing, sharpness has nothing to measure: one fix in words is enough.
        *([check_sharpness(photo, policy)] if content.passed else []),
        check_exposure(photo, policy),
        check_capture_time(photo, ctx, policy),
        check_reuse(photo, ctx, policy),
        check_distinct_slots(photo, ctx, policy),
    ]
    if photo.qr_texts is not None:
        results.append(check_label_qr(photo, ctx.expected_payload))
    exif_location = check_exif_location(photo, ctx, policy)
    if exif_location is not None:
        results.append(exif_location)
    return results
