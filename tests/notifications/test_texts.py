"""The words of a message: the customer's language, the operator's clock, nothing of another language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.notifications.enums import Moment
from backend.notifications.texts import render, window_words

FACTS = {"what": {"nl": "thuisbatterij 5 kW", "en": "home battery 5 kW"}, "where": "Kerkstraat 1A, Arnhem"}


class TestWindowWords:
    def test_in_the_operators_zone_in_winter_and_summer(self) -> None:
        winter = (datetime(2026, 12, 8, 7, 0, tzinfo=UTC), datetime(2026, 12, 8, 11, 0, tzinfo=UTC))
        assert window_words(*winter, "nl") == "dinsdag 8 december tussen 08:00 en 12:00"
        assert window_words(*winter, "en") == "Tuesday 8 December between 08:00 and 12:00"
        summer = (datetime(2026, 7, 1, 6, 0, tzinfo=UTC), datetime(2026, 7, 1, 10, 0, tzinfo=UTC))
        assert window_words(*summer, "nl") == "woensdag 1 juli tussen 08:00 en 12:00"


class TestRender:
    @pytest.mark.parametrize("moment", list(Moment))
    def test_every_moment_in_both_languages(self, moment: Moment) -> None:
        facts = {**FACTS, "window_start": "2026-12-08T07:00:00+00:00", "window_end": "2026-12-08T11:00:00+00:00"}
        nl_subject, nl_body = render(moment, facts, "nl", "https://x.example/u?token=t")
        en_subject, en_body = render(moment, facts, "en", "https://x.example/u?token=t")
        assert nl_subject != en_subject and "Kerkstraat 1A, Arnhem" in nl_body and "Kerkstraat 1A, Arnhem" in en_body
        assert "thuisbatterij" in nl_body + nl_subject and "home battery" not in nl_body + nl_subject
        assert "home battery" in en_body + en_subject and "thuisbatterij" not in en_body + en_subject
        assert nl_body.endswith("Meld u af: https://x.example/u?token=t\n")
        assert en_body.endswith("Unsubscribe: https://x.example/u?token=t\n")

    def test_an_unknown_language_is_dutch(self) -> None:
        assert render(Moment.APPROVED, FACTS, "de", "u")[0] == "Uw installatie is goedgekeurd"
