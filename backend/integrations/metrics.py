"""/metrics families of the device-report integration (aggregates only)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from backend.integrations import repository as repo
from backend.integrations.effects import Outcome
from backend.metrics import gauge, labelled


async def families(_now: datetime) -> list[Metric]:
    """Reports by outcome, confirmed installs, silent-device cases."""
    counts = await repo.outcome_counts()
    silent = await repo.cases_of_kind("device_silent")
    return [
        labelled(
            CounterMetricFamily,
            "selfinstall_device_reports_total",
            "Device reports received, by what they did (a report may do two things).",
            ["outcome"],
            {(o.value,): counts.get(o.value, 0) for o in Outcome},
        ),
        gauge(
            "selfinstall_device_confirmed_installs",
            "Installs confirmed by their own device reporting in at their connection.",
            await repo.confirmed_installs(),
        ),
        labelled(
            GaugeMetricFamily,
            "selfinstall_device_silent_cases",
            "Follow-up cases for approved installs whose device never reported, by state.",
            ["state"],
            {(state,): silent.get(state, 0) for state in ("open", "closed")},
        ),
    ]
