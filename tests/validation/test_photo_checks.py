"""Photo-level checks: each branch with the evidence numbers a specialist reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest

from backend.installs.context import load_policy
from backend.validation.photo_checks import (
    PhotoContext,
    PhotoEvidence,
    ReuseMatch,
    check_capture_time,
    check_content,
    check_distinct_slots,
    check_exif_location,
    check_exposure,
    check_label_qr,
    check_resolution,
    check_reuse,
    check_sharpness,
    run_photo_checks,
)
from backend.validation.results import CheckResult, Reason, Status
from tests.helpers.validation import north_of, said

POLICY = load_policy()
EXPECTED = "SI1:K1:MTR1-T00000001:ABCDEFGHIJKLMNOPQRST"
OTHER = "SI1:K1:MTR1-T00000002:BCDEFGHIJKLMNOPQRSTU"
STARTED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
UPLOADED = STARTED + timedelta(minutes=20)
ARNHEM = (51.98370, 5.90560)


def photo(qr_texts: tuple[str, ...] | None = (), width: int = 1600, height: int = 1200, **facts: Any) -> PhotoEvidence:
    base = PhotoEvidence(
        slot="meter_label",
        width=width,
        height=height,
        qr_texts=qr_texts,
        qr_symbol_seen=bool(qr_texts),
        sharpness=0.9,
        edge_density=0.2,
        contrast=180.0,
        brightness=140.0,
        dark_fraction=0.01,
        bright_fraction=0.01,
        taken_at=None,
        exif_gps=None,
    )
    return msgspec.structs.replace(base, **facts)


def context(**values: Any) -> PhotoContext:
    base = PhotoContext(expected_payload=EXPECTED, install_started=STARTED, uploaded_at=UPLOADED, fix=None, reuse=())
    return msgspec.structs.replace(base, **values)


def match(
    distance: int, exact: bool = False, photo_id: int = 7, fingerprint_distance: int = 0, slot: str = ""
) -> ReuseMatch:
    return ReuseMatch(
        install_id="2f0c4b1e-0000-4000-8000-000000000001",
        photo_id=photo_id,
        distance=distance,
        fingerprint_distance=fingerprint_distance,
        exact=exact,
        how="exact" if exact else "frame",
        slot=slot,
    )


def assert_retake_pass(result: CheckResult, check: str) -> None:
    assert (result.check, result.subject, result.status) == (check, "meter_label", Status.PASS)
    assert not result.user_fixable and said(result, "nl") == "" and said(result, "en") == ""


def assert_retake_fail(result: CheckResult, check: str) -> None:
    assert (result.check, result.subject, result.status) == (check, "meter_label", Status.FAIL)
    assert result.user_fixable and said(result, "nl") and said(result, "en")


class TestLabelQr:
    async def test_expected_payload_in_photo_passes(self) -> None:
        result = check_label_qr(photo((OTHER, EXPECTED)), EXPECTED)
        assert (result.check, result.subject, result.status) == ("label_qr", "meter_label", Status.PASS)
        assert result.confidence == 1.0 and not result.user_fixable
        assert result.evidence == {"decoded": [OTHER, EXPECTED], "expected": EXPECTED}

    async def test_another_label_fails_as_suspected_fraud(self) -> None:
        result = check_label_qr(photo((OTHER,)), EXPECTED)
        assert result.status is Status.FAIL
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert not result.user_fixable and result.confidence == 0.99
        assert result.evidence == {"decoded": [OTHER], "expected": EXPECTED}
        assert said(result, "nl") and said(result, "en")

    async def test_a_located_but_unreadable_label_is_uncertain_and_fixable(self) -> None:
        result = check_label_qr(photo((), qr_symbol_seen=True), EXPECTED)
        assert result.status is Status.UNCERTAIN and result.user_fixable
        assert result.confidence == 0.6
        assert result.evidence == {"decoded": [], "expected": EXPECTED, "symbol_seen": True}
        assert "QR" in said(result, "en")

    async def test_no_label_in_the_photo_fails_fixable(self) -> None:
        result = check_label_qr(photo((), qr_symbol_seen=False), EXPECTED)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.evidence == {"decoded": [], "expected": EXPECTED, "symbol_seen": False}
        assert "QR" in said(result, "en") and "QR" in said(result, "nl")

    async def test_a_foreign_qr_code_is_not_fraud(self) -> None:
        result = check_label_qr(photo(("https://example.com/menu",)), EXPECTED)
        assert result.status is Status.UNCERTAIN and result.user_fixable

    async def test_no_scan_yet_is_uncertain(self) -> None:
        result = check_label_qr(photo((OTHER,)), None)
        assert result.status is Status.UNCERTAIN and result.user_fixable
        assert result.confidence == 0.5
        assert result.evidence == {"decoded": [OTHER], "expected": None}

    async def test_not_looked_for_reads_as_nothing_decoded(self) -> None:
        assert check_label_qr(photo(None), EXPECTED).evidence["decoded"] == []


class TestResolution:
    async def test_short_side_at_threshold_passes(self) -> None:
        result = check_resolution(photo(width=2000, height=640), POLICY)
        assert result.status is Status.PASS and not result.user_fixable and said(result, "en") == ""
        assert result.evidence == {"short_side_px": 640, "min_short_side_px": 640}

    async def test_short_side_below_threshold_fails_fixable(self) -> None:
        result = check_resolution(photo(width=639, height=2000), POLICY)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.evidence == {"short_side_px": 639, "min_short_side_px": 640}
        assert "640" in said(result, "nl") and "640" in said(result, "en")


class TestSharpness:
    async def test_at_the_threshold_passes(self) -> None:
        result = check_sharpness(photo(sharpness=POLICY.photo.min_sharpness), POLICY)
        assert_retake_pass(result, "sharpness")
        assert result.evidence == {"sharpness": POLICY.photo.min_sharpness, "min_sharpness": 0.31}

    async def test_below_the_threshold_fails_fixable(self) -> None:
        result = check_sharpness(photo(sharpness=0.3049), POLICY)
        assert_retake_fail(result, "sharpness")
        assert result.evidence["sharpness"] == 0.305


class TestContent:
    async def test_edges_and_contrast_pass(self) -> None:
        result = check_content(photo(edge_density=0.01, contrast=16.0), POLICY)
        assert_retake_pass(result, "content")

    @pytest.mark.parametrize(
        "facts", [{"edge_density": 0.0099}, {"contrast": 15.9}, {"edge_density": 0.0, "contrast": 3}]
    )
    async def test_a_blank_picture_fails_fixable(self, facts: dict[str, float]) -> None:
        result = check_content(photo(**facts), POLICY)
        assert_retake_fail(result, "content")
        assert "lens" in said(result, "en") and "lens" in said(result, "nl")


class TestExposure:
    async def test_well_exposed_passes_with_all_numbers(self) -> None:
        result = check_exposure(photo(brightness=140.04, dark_fraction=0.0123, bright_fraction=0.4), POLICY)
        assert_retake_pass(result, "exposure")
        assert result.evidence == {
            "mean_luminance": 140.0,
            "min_luminance": 40.0,
            "max_luminance": 225.0,
            "dark_fraction": 0.012,
            "bright_fraction": 0.4,
            "max_clipped_fraction": 0.4,
        }

    @pytest.mark.parametrize("brightness", [40.0, 225.0])
    async def test_mean_at_the_limits_passes(self, brightness: float) -> None:
        assert check_exposure(photo(brightness=brightness), POLICY).status is Status.PASS

    @pytest.mark.parametrize("facts", [{"brightness": 39.9}, {"brightness": 120.0, "dark_fraction": 0.41}])
    async def test_dark_by_mean_or_crushed_fraction_fails(self, facts: dict[str, float]) -> None:
        result = check_exposure(photo(**facts), POLICY)
        assert_retake_fail(result, "exposure")
        assert "too dark" in said(result, "en") and "te donker" in said(result, "nl")

    async def test_blown_out_by_mean_fails(self) -> None:
        result = check_exposure(photo(brightness=225.1, bright_fraction=0.3), POLICY)
        assert_retake_fail(result, "exposure")
        assert "overexposed" in said(result, "en") and "overbelicht" in said(result, "nl")
        assert result.evidence["mean_luminance"] == 225.1

    async def test_blown_out_by_clipped_fraction_fails(self) -> None:
        result = check_exposure(photo(brightness=150.0, bright_fraction=0.41), POLICY)
        assert_retake_fail(result, "exposure")
        assert "overexposed" in said(result, "en")
        assert result.evidence["bright_fraction"] == 0.41


class TestCaptureTime:
    async def test_missing_time_is_uncertain_and_fixable(self) -> None:
        result = check_capture_time(photo(taken_at=None), context(), POLICY)
        assert result.status is Status.UNCERTAIN and result.user_fixable
        assert result.evidence["taken_at"] is None
        assert "camera" in said(result, "en") and "app" in said(result, "en") and "app" in said(result, "nl")

    @pytest.mark.parametrize(
        "taken_at", [STARTED - timedelta(hours=24), STARTED + timedelta(minutes=5), UPLOADED + timedelta(minutes=10)]
    )
    async def test_within_the_window_passes(self, taken_at: datetime) -> None:
        result = check_capture_time(photo(taken_at=taken_at), context(), POLICY)
        assert result.status is Status.PASS and not result.user_fixable and said(result, "en") == ""

    async def test_evidence_holds_the_time_and_the_window(self) -> None:
        taken = datetime(2026, 11, 30, 11, 10, tzinfo=timezone(timedelta(hours=2)))
        result = check_capture_time(photo(taken_at=taken), context(), POLICY)
        assert result.evidence == {
            "taken_at": "2026-11-30T11:10:00+02:00",
            "earliest": "2026-11-29T09:00:00+00:00",
            "latest": "2026-11-30T09:30:00+00:00",
        }
        assert result.status is Status.PASS

    async def test_older_than_a_day_before_the_install_fails_fixable(self) -> None:
        result = check_capture_time(photo(taken_at=STARTED - timedelta(hours=24, seconds=1)), context(), POLICY)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.escalate_as is not Reason.SUSPECTED_FRAUD
        assert "before this install" in said(result, "en")

    async def test_beyond_the_clock_skew_in_the_future_is_suspected_fraud(self) -> None:
        result = check_capture_time(photo(taken_at=UPLOADED + timedelta(minutes=10, seconds=1)), context(), POLICY)
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert "future" in said(result, "en") and "toekomst" in said(result, "nl")


class TestExifLocation:
    @pytest.mark.parametrize(("gps", "fix"), [(None, (*ARNHEM, 8.0)), (ARNHEM, None), (None, None)])
    async def test_omitted_when_either_position_is_unknown(
        self, gps: tuple[float, float] | None, fix: tuple[float, float, float] | None
    ) -> None:
        assert check_exif_location(photo(exif_gps=gps), context(fix=fix), POLICY) is None

    async def test_near_the_fix_passes(self) -> None:
        result = check_exif_location(photo(exif_gps=north_of(ARNHEM, 30)), context(fix=(*ARNHEM, 8.0)), POLICY)
        assert result is not None
        assert (result.check, result.subject, result.status) == ("exif_location", "meter_label", Status.PASS)
        assert result.evidence == {
            "distance_m": pytest.approx(30.0, abs=0.1),
            "fix_accuracy_m": 8.0,
            "max_distance_m": 500.0,
        }
        assert said(result, "en") == ""

    async def test_the_fix_accuracy_widens_the_limit(self) -> None:
        result = check_exif_location(photo(exif_gps=north_of(ARNHEM, 600)), context(fix=(*ARNHEM, 150.0)), POLICY)
        assert result is not None and result.status is Status.PASS

    async def test_five_km_away_is_suspected_fraud(self) -> None:
        result = check_exif_location(photo(exif_gps=north_of(ARNHEM, 5000)), context(fix=(*ARNHEM, 8.0)), POLICY)
        assert result is not None
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["distance_m"] == pytest.approx(5000.0, abs=1.0)
        assert "5000 m" in said(result, "en") and "5000 m" in said(result, "nl")


REUSE_LIMITS = {
    "max_hamming": 3,
    "max_fingerprint_distance": 24,
    "uncertain_fingerprint_distance": 34,
    "max_crop_fingerprint_distance": 10,
    "uncertain_crop_fingerprint_distance": 16,
}


class TestReuse:
    async def test_no_candidates_passes(self) -> None:
        result = check_reuse(photo(), context(reuse=()), POLICY)
        assert (result.check, result.status, result.user_fixable) == ("reuse", Status.PASS, False)
        assert result.evidence == {"matches": [], **REUSE_LIMITS, "informative": True}

    @pytest.mark.parametrize(
        ("distance", "fingerprint_distance", "exact"), [(0, 0, True), (40, 120, True), (3, 24, False), (0, 0, False)]
    )
    async def test_same_bytes_or_both_hashes_close_is_suspected_fraud(
        self, distance: int, fingerprint_distance: int, exact: bool
    ) -> None:
        result = check_reuse(
            photo(), context(reuse=(match(distance, exact, fingerprint_distance=fingerprint_distance),)), POLICY
        )
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert said(result, "en") and said(result, "nl")

    @pytest.mark.parametrize("fingerprint_distance", [25, 34])
    async def test_at_the_edge_of_the_threshold_is_uncertain_for_a_specialist(self, fingerprint_distance: int) -> None:
        result = check_reuse(photo(), context(reuse=(match(2, fingerprint_distance=fingerprint_distance),)), POLICY)
        assert result.status is Status.UNCERTAIN and not result.user_fixable
        assert result.escalate_as is Reason.UNCERTAIN
        assert result.evidence["matches"][0]["fingerprint_distance"] == fingerprint_distance

    @pytest.mark.parametrize(
        ("fingerprint_distance", "status"), [(10, Status.FAIL), (11, Status.UNCERTAIN), (17, Status.PASS)]
    )
    async def test_a_crop_must_come_closer_than_a_whole_frame(self, fingerprint_distance: int, status: Status) -> None:
        crop = msgspec.structs.replace(match(1, fingerprint_distance=fingerprint_distance), how="crop")
        assert check_reuse(photo(), context(reuse=(crop,)), POLICY).status is status

    @pytest.mark.parametrize(("distance", "fingerprint_distance"), [(4, 0), (3, 35), (0, 70)])
    async def test_one_hash_apart_is_another_picture(self, distance: int, fingerprint_distance: int) -> None:
        result = check_reuse(
            photo(), context(reuse=(match(distance, fingerprint_distance=fingerprint_distance),)), POLICY
        )
        assert result.status is Status.PASS and result.evidence["matches"] == []

    async def test_evidence_lists_only_the_matches(self) -> None:
        result = check_reuse(
            photo(),
            context(
                reuse=(
                    match(0, True, 1),
                    match(2, photo_id=2, fingerprint_distance=5),
                    match(9, photo_id=3),
                    match(1, photo_id=4, fingerprint_distance=41),
                )
            ),
            POLICY,
        )
        install = "2f0c4b1e-0000-4000-8000-000000000001"
        common = {"install_id": install, "slot": ""}
        assert result.evidence == {
            **REUSE_LIMITS,
            "informative": True,
            "matches": [
                {**common, "photo_id": 1, "distance": 0, "fingerprint_distance": 0, "exact": True, "how": "exact"},
                {**common, "photo_id": 2, "distance": 2, "fingerprint_distance": 5, "exact": False, "how": "frame"},
            ],
        }


class TestDistinctSlots:
    async def test_another_picture_in_every_slot_passes(self) -> None:
        result = check_distinct_slots(photo(), context(same_install=(match(9, slot="meter_display"),)), POLICY)
        assert_retake_pass(result, "distinct_slots")

    async def test_the_same_photo_in_two_slots_is_a_retake(self) -> None:
        twins = (match(0, True, slot="meter_display"), match(1, slot="cabinet_overview", fingerprint_distance=3))
        result = check_distinct_slots(photo(), context(same_install=twins), POLICY)
        assert_retake_fail(result, "distinct_slots")
        assert result.evidence == {"same_as_slots": ["cabinet_overview", "meter_display"]}


class TestRunPhotoChecks:
    BASE = ["resolution", "content", "sharpness", "exposure", "capture_time", "reuse", "distinct_slots"]

    async def test_without_qr_or_exif_gps_the_base_checks_run(self) -> None:
        results = run_photo_checks(photo(None, exif_gps=None), context(fix=(*ARNHEM, 8.0)), POLICY)
        assert [r.check for r in results] == self.BASE
        assert all(r.subject == "meter_label" for r in results)

    async def test_a_label_slot_adds_the_label_check(self) -> None:
        results = run_photo_checks(photo((EXPECTED,)), context(), POLICY)
        assert [r.check for r in results] == [*self.BASE, "label_qr"]
        assert results[-1].status is Status.PASS

    async def test_exif_gps_with_a_fix_adds_the_location_check(self) -> None:
        results = run_photo_checks(photo((), exif_gps=ARNHEM), context(fix=(*ARNHEM, 8.0)), POLICY)
        assert [r.check for r in results] == [*self.BASE, "label_qr", "exif_location"]

    async def test_exif_gps_without_a_fix_adds_nothing(self) -> None:
        results = run_photo_checks(photo(None, exif_gps=ARNHEM), context(fix=None), POLICY)
        assert [r.check for r in results] == self.BASE

    async def test_a_blank_photo_gets_the_content_fix_only(self) -> None:
        blank = photo(None, edge_density=0.0, contrast=3.0, sharpness=0.0, taken_at=STARTED)
        results = run_photo_checks(blank, context(), POLICY)
        assert [r.check for r in results if r.status is not Status.PASS] == ["content"]
        assert "sharpness" not in [r.check for r in results]

    async def test_a_clean_photo_passes_every_check(self) -> None:
        results = run_photo_checks(
            photo((EXPECTED,), taken_at=STARTED, exif_gps=ARNHEM), context(fix=(*ARNHEM, 8.0)), POLICY
        )
        assert [(r.check, r.status) for r in results if r.status is not Status.PASS] == []
