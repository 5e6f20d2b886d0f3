"""GS1 check digits for EAN-18 connection codes, and Dutch postcodes."""

from __future__ import annotations

import pytest

from backend.installs.ean import check_digit, is_valid_ean18, normalize_postcode


class TestCheckDigit:
    @pytest.mark.parametrize(
        ("body", "digit"),
        [
            ("400638133393", 1),  # GTIN-13 4006381333931, the textbook GS1 example
            ("03600029145", 2),  # UPC-A 036000291452
            ("10614141123456789", 7),  # SSCC (00) 106141411234567897 from the GS1 General Specifications
            ("00000000000000000", 0),
        ],
    )
    async def test_known_gs1_numbers(self, body: str, digit: int) -> None:
        assert check_digit(body) == digit

    async def test_valid_ean18(self) -> None:
        assert is_valid_ean18("106141411234567897")

    @pytest.mark.parametrize("last", "012345689")
    async def test_every_other_check_digit_is_refused(self, last: str) -> None:
        assert not is_valid_ean18("10614141123456789" + last)

    @pytest.mark.parametrize(
        "ean",
        [
            "",
            "10614141123456789",
            "1061414112345678970",
            " 106141411234567897",
            "10614141123456789A",
            "１０６１４１４１１２３４５６７８９７",  # full-width digits are digits to str.isdigit, not to us
            "١٠٦١٤١٤١١٢٣٤٥٦٧٨٩٧",
        ],
    )
    async def test_wrong_shapes_are_refused(self, ean: str) -> None:
        assert not is_valid_ean18(ean)

    async def test_a_transposition_is_caught(self) -> None:
        assert not is_valid_ean18("016141411234567897")


class TestPostcode:
    @pytest.mark.parametrize(
        ("raw", "normal"),
        [
            ("6811AL", "6811AL"),
            ("6811 AL", "6811AL"),
            ("6811al", "6811AL"),
            ("6811 aL", "6811AL"),
            ("  6811 AL  ", "6811AL"),
            ("1000AA", "1000AA"),
            ("9999ZZ", "9999ZZ"),
        ],
    )
    async def test_normalised(self, raw: str, normal: str) -> None:
        assert normalize_postcode(raw) == normal

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "0811AL",
            "681AL",
            "68111AL",
            "6811A",
            "6811ALX",
            "6811-AL",
            "6811  AL",
            "AL6811",
            "6811 1L",
            "６８１１AL",
            "6811ÄL",
        ],
    )
    async def test_not_a_dutch_postcode(self, raw: str) -> None:
        assert normalize_postcode(raw) is None
