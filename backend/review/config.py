"""The review configuration (review.toml beside this file) and working-hours arithmetic."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import msgspec

from backend.local_time import OPERATOR_ZONE
from backend.review.kinds import FOLLOWUP_KINDS
from backend.validation.results import Reason

CONFIG_PATH = Path(__file__).with_name("review.toml")


class WorkingHours(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    start_hour: int
    end_hour: int
    weekdays: frozenset[int]


class ReviewConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    lease_minutes: int
    working_hours: WorkingHours
    sla_working_hours: dict[Reason, float]
    risk_weight: dict[Reason, int]
    reason_codes: dict[str, dict[str, tuple[str, str]]]  # outcome -> code -> (nl, en)
    followup_sla_working_hours: dict[str, float]  # follow-up kind -> hours
    followup_risk: dict[str, int]

    def __post_init__(self) -> None:
        missing = set(Reason) - self.sla_working_hours.keys() | set(Reason) - self.risk_weight.keys()
        missing |= FOLLOWUP_KINDS - self.followup_sla_working_hours.keys() | FOLLOWUP_KINDS - self.followup_risk.keys()
        if missing:
            raise ValueError(f"review.toml lacks an SLA or weight for {sorted(missing)}")

    def due_at(self, escalated_at: datetime, reasons: list[str]) -> datetime:
        """The earliest due time over the reasons, counted in working hours."""
        hours = min((self.sla_working_hours[Reason(r)] for r in reasons), default=max(self.sla_working_hours.values()))
        return add_working_hours(escalated_at, hours, self.working_hours)

    def risk(self, reasons: list[str]) -> int:
        return sum(self.risk_weight[Reason(r)] for r in reasons)

    def followup_due_at(self, kind: str, opened_at: datetime) -> datetime:
        """A follow-up's due time: its kind's service level, in working hours."""
        return add_working_hours(opened_at, self.followup_sla_working_hours[kind], self.working_hours)


def add_working_hours(start: datetime, hours: float, wh: WorkingHours) -> datetime:
    """`start` plus `hours` of working time on the operator's clock (e.g. Friday 16:00 + 4 h = Monday 11:00)."""
    t = start.astimezone(OPERATOR_ZONE)
    remaining = timedelta(hours=hours)
    while True:
        day_start = t.replace(hour=wh.start_hour, minute=0, second=0, microsecond=0)
        day_end = t.replace(hour=wh.end_hour, minute=0, second=0, microsecond=0)
        if t.isoweekday() not in wh.weekdays or t >= day_end:
            t = (t + timedelta(days=1)).replace(hour=wh.start_hour, minute=0, second=0, microsecond=0)
            continue
        t = max(t, day_start)
        if t + remaining <= day_end:
            return (t + remaining).astimezone(start.tzinfo)
        remaining -= day_end - t
        t = day_end


@lru_cache(maxsize=1)
def load_review_config(path: Path = CONFIG_PATH) -> ReviewConfig:
    return msgspec.toml.decode(path.read_bytes(), type=ReviewConfig)
