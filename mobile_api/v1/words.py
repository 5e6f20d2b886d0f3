"""Days, months and time windows in words, in the operator's time zone and the reader's language."""

from __future__ import annotations

from datetime import datetime

from backend.i18n import N_, translate
from backend.local_time import OPERATOR_ZONE

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
    local_start, local_end = start.astimezone(OPERATOR_ZONE), end.astimezone(OPERATOR_ZONE)
    return translate(
        lang,
        "{weekday} {day} {month} {start}-{end}",
        weekday=translate(lang, WEEKDAYS[local_start.weekday()]),
        day=local_start.day,
        month=translate(lang, MONTHS[local_start.month - 1]),
        start=f"{local_start:%H:%M}",
        end=f"{local_end:%H:%M}",
    )
