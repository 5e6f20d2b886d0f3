"""Time windows: what makes one (a job's, or one a visit offers), and the visit planning rule (visits.toml
beside this file): which windows a visit offers, who gets its job."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import msgspec

from backend.errors import RowError
from backend.jobs.enums import MAX_AHEAD, MAX_WINDOW
from backend.local_time import OPERATOR_ZONE
from backend.validation.results import Reason

CONFIG_PATH = Path(__file__).with_name("visits.toml")
Hour = Annotated[int, msgspec.Meta(ge=0, le=24)]


def window_faults(line: int, start: datetime, end: datetime, now: datetime) -> list[RowError]:
    """What is wrong with a time window (a job's, or one a visit offers), by its line."""
    if end <= start:
        return [RowError(line, "window-order", "window_end")]
    if end - start > MAX_WINDOW:
        return [RowError(line, "window-too-long", "window_end", {"hours": int(MAX_WINDOW.total_seconds() // 3600)})]
    if end <= now:
        return [RowError(line, "window-past", "window_end")]
    if start - now > MAX_AHEAD:
        return [RowError(line, "window-too-far", "window_start", {"days": MAX_AHEAD.days})]
    return []


class PlanningRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lead_days: Annotated[int, msgspec.Meta(ge=0, le=60)]
    days: Annotated[int, msgspec.Meta(ge=1, le=14)]
    weekdays: frozenset[Annotated[int, msgspec.Meta(ge=1, le=7)]]
    slots: list[tuple[Hour, Hour]]
    auto_offer_reasons: frozenset[Reason]
    default_installer: str

    def __post_init__(self) -> None:
        if not self.weekdays or not self.slots:
            raise ValueError("visits.toml: weekdays and slots may not be empty")
        for start, end in self.slots:
            if not start < end or timedelta(hours=end - start) > MAX_WINDOW:
                raise ValueError(f"visits.toml: slot {start}-{end} is not a window")

    def windows(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """The windows offered at `now`: each slot of the first `days` working days from `lead_days` on,
        on the operator's clock (a day of the clock change keeps its local hours)."""
        day = now.astimezone(OPERATOR_ZONE).date() + timedelta(days=self.lead_days)
        out: list[tuple[datetime, datetime]] = []
        while len(out) < self.days * len(self.slots):
            if day.isoweekday() in self.weekdays:
                for start, end in self.slots:
                    midnight = datetime(day.year, day.month, day.day, tzinfo=OPERATOR_ZONE)
                    out.append((midnight + timedelta(hours=start), midnight + timedelta(hours=end)))
            day += timedelta(days=1)
        return [w for w in out if w[0] > now]

    def offers_on(self, reasons: list[str]) -> bool:
        """The policy offers a visit at once for an escalation whose reasons are all of these."""
        return bool(reasons) and bool(self.auto_offer_reasons) and set(reasons) <= self.auto_offer_reasons


@lru_cache(maxsize=1)
def load_planning_rule() -> PlanningRule:
    return msgspec.toml.decode(CONFIG_PATH.read_bytes(), type=PlanningRule)
