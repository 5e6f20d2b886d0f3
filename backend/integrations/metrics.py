"""Prometheus lines of the device-report integration (aggregates only), for /metrics."""

from __future__ import annotations

from backend.integrations import repository as repo
from backend.integrations.effects import Outcome
from backend.metrics import metric_family, metric_line


async def render_lines() -> list[str]:
    """Reports by outcome, confirmed installs, silent-device cases."""
    out: list[str] = []
    counts = await repo.outcome_counts()
    name = "selfinstall_device_reports_total"
    out += metric_family(name, "counter", "Device reports received, by what they did (a report may do two things).")
    out += [metric_line(name, counts.get(o.value, 0), outcome=o.value) for o in Outcome]
    name = "selfinstall_device_confirmed_installs"
    out += metric_family(name, "gauge", "Installs confirmed by their own device reporting in at their connection.")
    out.append(metric_line(name, await repo.confirmed_installs()))
    silent = await repo.cases_of_kind("device_silent")
    name = "selfinstall_device_silent_cases"
    out += metric_family(name, "gauge", "Follow-up cases for approved installs whose device never reported, by state.")
    out += [metric_line(name, silent.get(state, 0), state=state) for state in ("open", "closed")]
    return out
