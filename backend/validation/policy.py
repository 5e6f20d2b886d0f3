"""The versioned validation policy (thresholds) and the decision it takes over check results."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec

from backend.validation.results import CheckResult, Decision, Outcome, Reason, Status, ordered

DEFAULT_POLICY_PATH = Path(__file__).with_name("policy.toml")


class PhotoPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    min_short_side_px: int
    qr_retry_upscale_below_px: int
    min_sharpness: float
    min_edge_density: float
    min_contrast: float
    min_brightness: float
    max_brightness: float
    max_clipped_fraction: float


class FreshnessPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    exif_timezone: str
    max_age_before_install_h: float
    max_clock_skew_min: float
    max_exif_gps_distance_m: float
    max_offline_days: Annotated[float, msgspec.Meta(ge=0)]
    max_fix_photo_gap_min: Annotated[float, msgspec.Meta(gt=0)]


class ReusePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_hamming: Annotated[int, msgspec.Meta(ge=0, le=3)]
    max_fingerprint_distance: Annotated[int, msgspec.Meta(ge=0, le=64)]
    uncertain_fingerprint_distance: Annotated[int, msgspec.Meta(ge=0, le=64)]
    max_crop_fingerprint_distance: Annotated[int, msgspec.Meta(ge=0, le=64)]
    uncertain_crop_fingerprint_distance: Annotated[int, msgspec.Meta(ge=0, le=64)]


class LocationPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_distance_m: float
    max_accuracy_m: float


class DecisionPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    max_retakes: int


class DevicePolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What a device's own report (head-end system, charger back office) may decide."""

    auto_approve_in_review: bool
    max_reading_difference_kwh: Annotated[float, msgspec.Meta(ge=0)]
    silent_after_days: Annotated[int, msgspec.Meta(ge=1)]


class QualityPolicy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How the automation and the specialists are measured in production."""

    qa_sample_share: Annotated[float, msgspec.Meta(ge=0, le=1)]
    known_answer_share: Annotated[float, msgspec.Meta(ge=0, le=1)]


class Policy(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    photo: PhotoPolicy
    freshness: FreshnessPolicy
    reuse: ReusePolicy
    location: LocationPolicy
    decision: DecisionPolicy
    device: DevicePolicy
    quality: QualityPolicy


def parse_policy(data: bytes) -> Policy:
    """A policy from TOML text (the caller reads the file: this package does no I/O)."""
    return msgspec.toml.decode(data, type=Policy)


def decide(
    policy: Policy,
    results: list[CheckResult],
    *,
    retakes_so_far: int,
    standing_reasons: set[Reason],
) -> Decision:
    """All pass -> approved; only user-fixable problems -> retake (until the retakes run out);
    anything else -> review, with every reason that applies.

    `standing_reasons` are reasons known before any check ran (catalog rules, a request for help).
    """
    reasons = set(standing_reasons)
    fixable = False
    for result in results:
        if result.status is Status.PASS:
            continue
        if result.user_fixable:
            fixable = True
        else:
            reasons.add(result.escalate_as)
    if fixable and not reasons:
        if retakes_so_far < policy.decision.max_retakes:
            return Decision(outcome=Outcome.NEEDS_RETAKE, reasons=(), policy_version=policy.version)
        # The user did what a retake can do. A check that still fails means self-service fell
        # short (complexity); one that still cannot decide escalates as what it is: uncertain.
        for result in results:
            if result.user_fixable and result.status is not Status.PASS:
                reasons.add(Reason.UNCERTAIN if result.status is Status.UNCERTAIN else Reason.COMPLEXITY)
    if reasons:
        return Decision(outcome=Outcome.IN_REVIEW, reasons=ordered(reasons), policy_version=policy.version)
    return Decision(outcome=Outcome.APPROVED, reasons=(), policy_version=policy.version)
