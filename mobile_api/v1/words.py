"""Days, months and time windows in words, in the operator's time zone (Dutch or English)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from backend.jobs.planning import load_planning_rule

WEEKDAYS = (
    ("maandag", "Monday"),
    ("dinsdag", "Tuesday"),
    ("woensdag", "Wednesday"),
    ("donderdag", "Thursday"),
    ("vrijdag", "Friday"),
    ("zaterdag", "Saturday"),
    ("zondag", "Sunday"),
)
MONTHS = (
    ("januari", "January"),
    ("februari", "February"),
    ("maart", "March"),
    ("april", "April"),
    ("mei", "May"),
    ("juni", "June"),
    ("juli", "July"),
    ("augustus", "August"),
    ("september", "September"),
    ("oktober", "October"),
    ("november", "November"),
    ("december", "December"),
)


def window_words(start: datetime, end: datetime, lang: str) -> str:
    """'dinsdag 8 december 08:00-12:00', 'Tuesday 8 December 08:00-12:00', in the operator's time zone."""
    tz = ZoneInfo(load_planning_rule().timezone)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    en = lang == "en"
    day, month = WEEKDAYS[local_start.weekday()][en], MONTHS[local_start.month - 1][en]
    return f"{day} {local_start.day} {month} {local_start:%H:%M}-{local_end:%H:%M}"
