"""The grid operator's clock: one zone for every local time the product reasons in or shows — working
hours and decision times, visit windows, the dispatch day, the console's and the customers' texts —
whatever zone the server runs in. One constant, not one per config file: two sources could disagree and
a visit window would read an hour off its own planning. (A photo's EXIF time without an offset is the
phone's wall time: validation/policy.toml's `exif_timezone`, a fact about phones, not about us.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

OPERATOR_ZONE = ZoneInfo("Europe/Amsterdam")


class NoSuchLocalTime(ValueError):
    """A wall time the operator's clock skips: the hour it jumps over when summer time begins."""


def on_operator_clock(wall: datetime) -> datetime:
    """A wall time typed on the operator's clock (a console form's `datetime-local`) as an aware moment.
    One the clock skips is refused rather than moved an hour (02:30 on the last Sunday of March became
    01:30 UTC: a window an hour shorter, no warning); in the autumn's repeated hour the first is meant."""
    at = wall.replace(tzinfo=OPERATOR_ZONE)
    if at.astimezone(UTC).astimezone(OPERATOR_ZONE).replace(tzinfo=None) != wall.replace(tzinfo=None):
        raise NoSuchLocalTime(wall.isoformat())
    return at
