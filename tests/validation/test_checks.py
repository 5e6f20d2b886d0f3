"""Each check's pass / fail / uncertain branches, with the evidence numbers a specialist reads."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.settings import get_settings
from backend.validation.checks import Fix, check_asset, check_location, check_slots_complete
from backend.validation.geo import Territory
from backend.validation.policy import load_policy
from backend.validation.results import Reason, Status

POLICY = load_policy()
TERRITORY = Territory.from_file(get_settings().territory_path)
ARNHEM = (51.98370, 5.90560)
AMSTERDAM = (52.37, 4.89)
M_PER_DEG_LAT = 6_371_008.8 * 3.141592653589793 / 180


def fix_north_of(origin: tuple[float, float], metres: float, accuracy_m: float = 8.0, mocked: bool = False) -> Fix:
    return Fix(lat=origin[0] + metres / M_PER_DEG_LAT, lon=origin[1], accuracy_m=accuracy_m, mocked=mocked,
               captured_at=datetime.now(UTC))


def locate(fix: Fix | None, target: tuple[float, float] = ARNHEM, territory: Territory | None = TERRITORY):
    return check_location(fix, target[0], target[1], territory, POLICY)


class TestSlotsComplete:
    async def test_one_result_per_required_slot_in_order(self) -> None:
        results = check_slots_complete(("meter_label", "meter_display", "cabinet_overview"),
                                       {"meter_label", "cabinet_overview", "device_label"})
        assert [(r.subject, r.status) for r in results] == [
            ("meter_label", Status.PASS), ("meter_display", Status.FAIL), ("cabinet_overview", Status.PASS)]
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
        assert result.evidence == {"distance_m": pytest.approx(20.0, abs=0.2), "accuracy_m": 8.0,
                                   "max_distance_m": 150.0, "max_accuracy_m": 100.0, "mocked": False,
                                   "in_territory": True, "repeated_fixes": False}

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
        assert "400" in result.fix_en

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
