"""Photo-level checks: each branch with the evidence numbers a specialist reads."""

from __future__ import annotations

from backend.validation.photo_checks import PhotoEvidence, check_label_qr, check_resolution
from backend.validation.policy import load_policy
from backend.validation.results import Reason, Status

POLICY = load_policy()
EXPECTED = "SI1:K1:MTR1-T00000001:ABCDEFGHIJKLMNOPQRST"
OTHER = "SI1:K1:MTR1-T00000002:BCDEFGHIJKLMNOPQRSTU"


def photo(qr_texts: tuple[str, ...] | None = (), width: int = 1600, height: int = 1200) -> PhotoEvidence:
    return PhotoEvidence(slot="meter_label", width=width, height=height, qr_texts=qr_texts, sharpness=500.0,
                         brightness=140.0, dark_fraction=0.01, bright_fraction=0.01, taken_at=None, exif_gps=None)


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
        assert result.fix_nl and result.fix_en

    async def test_unreadable_label_is_uncertain_and_fixable(self) -> None:
        result = check_label_qr(photo(()), EXPECTED)
        assert result.status is Status.UNCERTAIN and result.user_fixable
        assert result.confidence == 0.6
        assert result.evidence == {"decoded": [], "expected": EXPECTED}
        assert "QR" in result.fix_en

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
        assert result.status is Status.PASS and not result.user_fixable and result.fix_en == ""
        assert result.evidence == {"short_side_px": 640, "min_short_side_px": 640}

    async def test_short_side_below_threshold_fails_fixable(self) -> None:
        result = check_resolution(photo(width=639, height=2000), POLICY)
        assert result.status is Status.FAIL and result.user_fixable
        assert result.evidence == {"short_side_px": 639, "min_short_side_px": 640}
        assert "640" in result.fix_nl and "640" in result.fix_en
