"""Each check's pass / fail / uncertain branches, with the evidence numbers a specialist reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backend.installs.context import load_policy, load_territory
from backend.settings import get_settings
from backend.validation.checks import Fix, check_asset, check_location, check_reading, check_slots_complete
from backend.validation.geo import Territory
from backend.validation.results import Reason, Status
from tests.helpers.validation import said

POLICY = load_policy()
TERRITORY = load_territory(get_settings().territory_path)
ARNHEM = (51.98370, 5.90560)
AMSTERDAM = (52.37, 4.89)
M_PER_DEG_LAT = 6_371_008.8 * 3.141592653589793 / 180


def fix_north_of(origin: tuple[float, float], metres: float, accuracy_m: float = 8.0, mocked: bool = False) -> Fix:
    return Fix(
        lat=origin[0] + metres / M_PER_DEG_LAT,
        lon=origin[1],
        accuracy_m=accuracy_m,
        mocked=mocked,
        captured_at=datetime.now(UTC),
    )


def locate(
    fix: Fix | None,
    target: tuple[float, float] = ARNHEM,
    territory: Territory | None = TERRITORY,
    history: list[Fix] | None = None,
):
    return check_location(fix, target[0], target[1], territory, POLICY, history)


def later(fix: Fix, minutes: float, **changes: float) -> Fix:
    """The same fix reported again `minutes` later, optionally with other values."""
    values = {"lat": fix.lat, "lon": fix.lon, "accuracy_m": fix.accuracy_m, "mocked": fix.mocked, **changes}
    return Fix(**values, captured_at=fix.captured_at + timedelta(minutes=minutes))  # type: ignore[arg-type]


class TestSlotsComplete:
    async def test_one_result_per_required_slot_in_order(self) -> None:
        results = check_slots_complete(
            ("meter_label", "meter_display", "cabinet_overview"), {"meter_label", "cabinet_overview", "device_label"}
        )
        assert [(r.subject, r.status) for r in results] == [
            ("meter_label", Status.PASS),
            ("meter_display", Status.FAIL),
            ("cabinet_overview", Status.PASS),
        ]
        missing = results[1]
        assert missing.user_fixable and missing.evidence == {"present": False}
        assert results[0].evidence == {"present": True} and not results[0].user_fixable


class TestLocation:
    async def test_no_fix_fails_fixable(self) -> None:
        result = locate(None)
        assert result.status is Status.FAIL and result.user_fixable and result.evidence == {}

    async def test_close_accurate_fix_passes(self) -> None:
        result = locate(fix_north_of(ARNHEM, 20))
        assert result.status is Status.PASS and not result.user_fixable
        assert result.evidence == {
            "distance_m": pytest.approx(20.0, abs=0.2),
            "accuracy_m": 8.0,
            "max_distance_m": 150.0,
            "max_accuracy_m": 100.0,
            "mocked": False,
            "in_territory": True,
            "repeated_fixes": False,
            "provider": "gps",
        }

    async def test_inaccurate_fix_is_uncertain(self) -> None:
        result = locate(fix_north_of(ARNHEM, 10, accuracy_m=120))
        assert result.status is Status.UNCERTAIN and result.user_fixable
        assert result.evidence["accuracy_m"] == 120

    async def test_fix_whose_error_circle_crosses_the_limit_is_uncertain(self) -> None:
        result = locate(fix_north_of(ARNHEM, 140, accuracy_m=20))
        assert result.status is Status.UNCERTAIN
        assert result.evidence["distance_m"] == pytest.approx(140.0, abs=0.2)

    async def test_far_fix_fails_as_suspected_fraud(self) -> None:
        result = locate(fix_north_of(ARNHEM, 400, accuracy_m=10))
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["distance_m"] == pytest.approx(400.0, abs=0.5)
        assert "400" in said(result, "en")

    async def test_far_fix_with_a_huge_error_circle_is_only_uncertain(self) -> None:
        result = locate(fix_north_of(ARNHEM, 400, accuracy_m=300))
        assert result.status is Status.UNCERTAIN and result.user_fixable

    async def test_mocked_fix_fails_even_at_the_address(self) -> None:
        result = locate(fix_north_of(ARNHEM, 0, mocked=True))
        assert result.status is Status.FAIL and result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["mocked"] is True and result.evidence["distance_m"] == 0.0

    async def test_fix_outside_territory_fails_even_at_the_address(self) -> None:
        result = locate(fix_north_of(AMSTERDAM, 5), target=AMSTERDAM)
        assert result.status is Status.FAIL and result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["in_territory"] is False

    async def test_without_territory_only_distance_counts(self) -> None:
        result = locate(fix_north_of(AMSTERDAM, 5), target=AMSTERDAM, territory=None)
        assert result.status is Status.PASS and result.evidence["in_territory"] is None


class TestLocationFraudSignals:
    async def test_accuracy_of_exactly_zero_fails_as_suspected_fraud(self) -> None:
        result = locate(fix_north_of(ARNHEM, 10, accuracy_m=0.0))
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["accuracy_m"] == 0.0
        assert "simulated, repeated" in said(result, "en")

    async def test_a_tiny_but_nonzero_accuracy_passes(self) -> None:
        assert locate(fix_north_of(ARNHEM, 10, accuracy_m=0.5)).status is Status.PASS

    async def test_identical_fixes_at_different_times_fail_as_suspected_fraud(self) -> None:
        first = fix_north_of(ARNHEM, 12)
        again = later(first, 3)
        result = locate(again, history=[first, fix_north_of(ARNHEM, 30, accuracy_m=9.0), again])
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD
        assert result.evidence["repeated_fixes"] is True
        assert result.evidence["distance_m"] == pytest.approx(12.0, abs=0.2)

    async def test_the_same_position_with_another_accuracy_is_not_repeated(self) -> None:
        first = fix_north_of(ARNHEM, 12)
        again = later(first, 3, accuracy_m=7.5)
        result = locate(again, history=[first, again])
        assert result.status is Status.PASS and result.evidence["repeated_fixes"] is False

    async def test_a_repeated_fix_earlier_in_the_history_still_counts(self) -> None:
        first = fix_north_of(ARNHEM, 12)
        latest = fix_north_of(ARNHEM, 20, accuracy_m=6.0)
        result = locate(latest, history=[first, later(first, 1), latest])
        assert result.status is Status.FAIL and result.evidence["repeated_fixes"] is True

    async def test_a_single_fix_is_never_repeated(self) -> None:
        fix = fix_north_of(ARNHEM, 12)
        assert locate(fix, history=[fix]).evidence["repeated_fixes"] is False


class TestAsset:
    async def test_nothing_scanned_fails_fixable(self) -> None:
        result = check_asset(None, None, False)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.evidence == {"serial": None, "status": None, "fits_connection": True}

    @pytest.mark.parametrize(("status", "here"), [("in_stock", False), ("installed", True)])
    async def test_free_or_installed_here_passes(self, status: str, here: bool) -> None:
        result = check_asset("MTR1-X1", status, here)
        assert result.status is Status.PASS
        assert result.evidence == {"serial": "MTR1-X1", "status": status, "fits_connection": True}

    @pytest.mark.parametrize("status", ["installed", "retired"])
    async def test_elsewhere_or_retired_fails_as_suspected_fraud(self, status: str) -> None:
        result = check_asset("MTR1-X1", status, False)
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SUSPECTED_FRAUD

    async def test_asset_that_does_not_fit_the_connection_needs_a_specialist(self) -> None:
        result = check_asset("MTR3-X1", "in_stock", False, fits_connection=False)
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SPECIALIST_KNOWLEDGE
        assert result.evidence == {"serial": "MTR3-X1", "status": "in_stock", "fits_connection": False}
        assert "capacity" in said(result, "en") and "capaciteit" in said(result, "nl")

    @pytest.mark.parametrize(("status", "here"), [("in_stock", False), ("installed", True)])
    async def test_another_of_its_kind_here_needs_a_specialist(self, status: str, here: bool) -> None:
        result = check_asset("MTR1-X2", status, here, others_of_its_kind=("MTR1-X1",))
        assert result.status is Status.FAIL and not result.user_fixable
        assert result.escalate_as is Reason.SPECIALIST_KNOWLEDGE
        assert result.evidence["others_of_its_kind_here"] == ["MTR1-X1"]
        assert "already has a device of this kind" in said(result, "en")
        assert "al een apparaat van dit soort" in said(result, "nl")

    async def test_installed_elsewhere_stays_suspected_fraud_beside_another_here(self) -> None:
        result = check_asset("MTR1-X2", "installed", False, others_of_its_kind=("MTR1-X1",))
        assert result.escalate_as is Reason.SUSPECTED_FRAUD


class TestReading:
    async def test_missing_reading_fails_fixable(self) -> None:
        result = check_reading(None, 1000.0)
        assert (result.check, result.subject, result.status) == ("reading", "reading", Status.FAIL)
        assert result.user_fixable and result.evidence == {"reading": None, "last_known_reading": 1000.0}
        assert said(result, "en") == "Enter the reading shown on the display."

    @pytest.mark.parametrize(("value", "last_known"), [(-0.1, None), (999.9, 1000.0)])
    async def test_negative_or_below_the_last_known_fails_fixable(self, value: float, last_known: float | None) -> None:
        result = check_reading(value, last_known)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.evidence == {"reading": value, "last_known_reading": last_known}
        assert "lower than the previous" in said(result, "en") and "lager dan de vorige" in said(result, "nl")

    @pytest.mark.parametrize(("value", "last_known"), [(1000.0, 1000.0), (1000.1, 1000.0), (0.0, None), (4512.7, None)])
    async def test_equal_or_above_the_last_known_passes(self, value: float, last_known: float | None) -> None:
        result = check_reading(value, last_known)
        assert result.status is Status.PASS and not result.user_fixable
        assert said(result, "nl") == "" and said(result, "en") == ""
        assert result.evidence == {"reading": value, "last_known_reading": last_known}
