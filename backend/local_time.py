"""The grid operator's clock: one zone for every local time the product reasons in or shows — working
hours and decision times, visit windows, the dispatch day, the console's and the customers' texts —
whatever zone the server runs in. One constant, not one per config file: two sources could disagree and
a visit window would read an hour off its own planning. (A photo's EXIF time without an offset is the
phone's wall time: validation/policy.toml's `exif_timezone`, a fact about phones, not about us.)
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

OPERATOR_ZONE = ZoneInfo("Europe/Amsterdam")
