"""An install in review says until when a specialist decides (the case's SLA), in words and as a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from httpx import AsyncClient

from backend.review import repository as review_repo
from mobile_api.v1.views import due_words
from tests.factories import Factory
from tests.mobile_api.helpers import ask_help, new_install

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Monday 7 December 2026, 10:00 in Amsterdam (09:00 UTC)
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=AMSTERDAM)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


@pytest.mark.parametrize(
    ("due", "nl", "en"),
    [
        (_at(7, 16), "uiterlijk vandaag 16:00", "by 16:00 today"),
        (_at(8, 12), "uiterlijk morgen 12:00", "by 12:00 tomorrow"),
        (_at(10, 9, 30), "uiterlijk donderdag 09:30", "by Thursday 09:30"),
        (_at(13, 17), "uiterlijk zondag 17:00", "by Sunday 17:00"),
        (_at(21, 12), "uiterlijk 21 december 12:00", "by 21 December 12:00"),
        (_at(7, 9), "zo snel mogelijk", "as soon as possible"),  # already past: no time in the past
    ],
)
def test_due_in_words(due: datetime, nl: str, en: str) -> None:
    assert (due_words(due, NOW, AMSTERDAM, "nl"), due_words(due, NOW, AMSTERDAM, "en")) == (nl, en)


def test_the_day_is_the_operators_not_utcs() -> None:
    late = datetime(2026, 12, 7, 23, 30, tzinfo=AMSTERDAM)
    # 00:30 in Amsterdam is still 7 December in UTC: it is tomorrow for the customer all the same.
    assert due_words(_at(8, 0, 30), late, AMSTERDAM, "nl") == "uiterlijk morgen 00:30"
    summer_now = datetime(2026, 7, 1, 8, 0, tzinfo=AMSTERDAM)
    assert due_words(datetime(2026, 7, 1, 10, 0, tzinfo=UTC), summer_now, AMSTERDAM, "en") == "by 12:00 today"


class TestInReviewView:
    async def test_in_review_says_until_when_and_the_wait_action_says_it_too(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        r = await ask_help(client, d)
        assert r.status_code == 200 and r.json()["state"] == "in_review", r.text
        case = await review_repo.case_of_install(r.json()["id"])
        assert case is not None and case.state == "open"
        for lang in ("nl", "en"):
            view = (await client.get(d.url, headers={**d.who.headers, "Accept-Language": lang})).json()
            assert datetime.fromisoformat(view["decision_expected_by"]) == case.due_at
            clock = f"{case.due_at.astimezone(AMSTERDAM):%H:%M}"  # the words carry the operator's local time
            assert clock in view["decision_expected"]
            assert view["decision_expected"].startswith("uiterlijk " if lang == "nl" else "by ")
            (wait,) = view["next_actions"]
            assert wait["code"] == "wait" and wait["text"].endswith(f"{view['decision_expected']}.")

    async def test_not_in_review_says_nothing_of_it(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["decision_expected_by"] is None and view["decision_expected"] is None

    async def test_once_decided_it_is_gone(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert (await ask_help(client, d)).status_code == 200
        case = await review_repo.case_of_install(d.id)  # type: ignore[arg-type]
        assert case is not None
        await review_repo.update_case(case.id, None, {"state": "closed", "closed_at": datetime.now(UTC)})
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["state"] == "in_review"  # the install alone did not move: the view follows the case
        assert view["decision_expected_by"] is None
        assert abs(case.due_at - datetime.now(UTC)) < timedelta(days=30)
