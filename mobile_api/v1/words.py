"""Days, months and time windows in words, in the operator's time zone and the reader's language."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.i18n import N_, translate
from backend.jobs.planning import load_planning_rule

WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)


def window_words(start: datetime, end: datetime, lang: str) -> str:
    """'dinsdag 8 december 08:00-12:00', 'Tuesday 8 December 08:00-12:00', in the operator's time zone."""
    tz = ZoneInfo(load_planning_rule().timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return translate(
        lang,
        "{weekday} {day} {month} {start}-{end}",
        weekday=translate(lang, WEEKDAYS[local_start.weekday()]),
        day=local_start.day,
        month=translate(lang, MONTHS[local_start.month - 1]),
        start=f"{local_start:%H:%M}",
        end=f"{local_end:%H:%M}",
    )
