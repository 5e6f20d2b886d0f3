"""Console times read as a Dutch specialist reads a clock: Europe/Amsterdam with the zone named,
weekday and month in the reader's language. UTC in the database; winter and summer time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient

from backend.console.sessions import open_session
from backend.console.times import format_clock, format_moment
from backend.principal import Principal, Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, helped, set_case
from tests.mobile_api.helpers import new_install

WINTER = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)  # a Tuesday; CET is UTC+1
SUMMER = datetime(2026, 7, 15, 12, 5, tzinfo=UTC)  # a Wednesday; CEST is UTC+2


class TestFormat:
    @pytest.mark.parametrize(
        ("moment", "lang", "text"),
        [
            (WINTER, "nl", "di 1 dec 2026 14:05 CET"),
            (WINTER, "en", "Tue 1 Dec 2026 14:05 CET"),
            (SUMMER, "nl", "wo 15 jul 2026 14:05 CEST"),
            (SUMMER, "en", "Wed 15 Jul 2026 14:05 CEST"),
        ],
    )
    def test_winter_and_summer_time(self, moment: datetime, lang: str, text: str) -> None:
        assert format_moment(moment, lang) == text

    def test_a_language_without_those_words_reads_english(self) -> None:
        assert format_moment(WINTER, "de") == "Tue 1 Dec 2026 14:05 CET"  # the catalogs' fallback, not a 500

    def test_the_day_changes_at_local_midnight(self) -> None:
        assert format_moment(datetime(2026, 3, 1, 23, 30, tzinfo=UTC), "nl") == "ma 2 mrt 2026 00:30 CET"

    def test_the_switch_to_summer_time(self) -> None:
        # 29 March 2026, 02:00 CET becomes 03:00 CEST: one UTC minute apart, an hour apart on the clock.
        before, after = datetime(2026, 3, 29, 0, 59, tzinfo=UTC), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
        assert (format_clock(before), format_clock(after)) == ("01:59 CET", "03:00 CEST")

    def test_a_naive_time_is_utc_and_iso_text_is_read(self) -> None:
        assert format_moment(WINTER.replace(tzinfo=None), "nl") == format_moment(WINTER, "nl")
        assert format_moment(WINTER.isoformat(), "nl") == format_moment(WINTER, "nl")


class TestCasePage:
    async def test_due_time_and_history_in_amsterdam_time(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        await set_case(case_id, due_at=WINTER)
        now = datetime.now(UTC)
        cookie = await open_session(
            Principal(make.party(Role.SPECIALIST).subject, Role.SPECIALIST), now, now + timedelta(hours=1)
        )
        headers = {"Cookie": f"si_console={cookie}"}

        page = await client.get(f"/console/cases/{case_id}", headers=headers)
        assert page.status_code == 200, page.text
        assert "di 1 dec 2026 14:05 CET" in page.text
        assert " CET</td>" in page.text or " CEST</td>" in page.text  # the history's times carry a zone too

        await set_case(case_id, due_at=SUMMER)
        english = await client.get(f"/console/cases/{case_id}", headers={**headers, "Accept-Language": "en"})
        assert "Wed 15 Jul 2026 14:05 CEST" in english.text

    async def test_the_queue_too(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        early = datetime(2000, 1, 4, 7, 30, tzinfo=UTC)  # due before any other case: the queue's first row
        await set_case(case_id, due_at=early)
        now = datetime.now(UTC)
        cookie = await open_session(
            Principal(make.party(Role.SPECIALIST).subject, Role.SPECIALIST), now, now + timedelta(hours=1)
        )
        page = await client.get("/console/queue", headers={"Cookie": f"si_console={cookie}"})
        assert page.status_code == 200, page.text
        assert "di 4 jan 2000 08:30 CET (te laat)" in page.text
        await set_case(case_id, due_at=now + timedelta(days=30))  # out of the way of other queue tests
