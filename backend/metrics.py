"""Prometheus text exposition at /metrics, computed from the database on each scrape."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from backend.installs import repository as installs_repo
from backend.review import repository as review_repo
from backend.review.kinds import CaseKind
from backend.validation.results import Reason

# Another domain's lines (HELP, TYPE and samples), awaited on each scrape; create_app lists them.
LineProducer = Callable[[], Awaitable[list[str]]]


def metric_line(name: str, value: float, **labels: str) -> str:
    """One sample line; a ratio with nothing to divide is NaN, which Prometheus reads as "no data"."""
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    text = "NaN" if value != value else str(value)
    return f"{name}{{{label_text}}} {text}" if labels else f"{name} {text}"


def metric_family(name: str, kind: str, help_text: str) -> list[str]:
    """The HELP and TYPE lines that open a family."""
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


async def render(now: datetime, producers: Sequence[LineProducer] = ()) -> str:
    """The exposition text (format 0.0.4): the core families, then each producer's lines in order."""
    out: list[str] = []

    def family(name: str, kind: str, help_text: str) -> None:
        out.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])

    family("selfinstall_installs", "gauge", "Installs by state.")
    for state, n in sorted((await installs_repo.install_counts_by_state()).items()):
        out.append(metric_line("selfinstall_installs", n, state=state))
    outcomes = await installs_repo.automation_outcomes()
    family("selfinstall_automatic_decisions_total", "counter", "Automatic decisions at submit, by outcome.")
    for outcome, n in sorted(outcomes.items()):
        out.append(metric_line("selfinstall_automatic_decisions_total", n, outcome=outcome))
    total = sum(outcomes.values())
    family("selfinstall_auto_approval_ratio", "gauge", "Share of automatic decisions that approved.")
    out.append(
        metric_line("selfinstall_auto_approval_ratio", round(outcomes.get("approved", 0) / total, 4) if total else 0)
    )
    family("selfinstall_escalations_total", "counter", "Installs escalated to a specialist, by reason.")
    for reason in Reason:
        out.append(
            metric_line(
                "selfinstall_escalations_total", await review_repo.cases_with_reason(reason.value), reason=reason.value
            )
        )
    open_cases = await review_repo.open_case_reasons()
    family("selfinstall_review_queue_depth", "gauge", "Open review cases.")
    out.append(metric_line("selfinstall_review_queue_depth", len(open_cases)))
    family("selfinstall_review_oldest_case_age_seconds", "gauge", "Age of the oldest open review case.")
    oldest = min((opened for _, _, opened in open_cases), default=None)
    out.append(
        metric_line(
            "selfinstall_review_oldest_case_age_seconds", round((now - oldest).total_seconds(), 1) if oldest else 0
        )
    )
    family("selfinstall_review_open_cases", "gauge", "Open review cases by kind (escalations and follow-ups).")
    for kind in CaseKind:
        out.append(
            metric_line("selfinstall_review_open_cases", sum(k == kind for k, _, _ in open_cases), kind=kind.value)
        )
    latencies = await installs_repo.recent_decision_latencies()
    family(
        "selfinstall_decision_latency_seconds",
        "summary",
        "Seconds from start to final decision, over the last 1000 decided installs.",
    )
    if latencies:
        q = statistics.quantiles(latencies, n=10) if len(latencies) > 1 else [latencies[0]] * 9
        out.append(
            metric_line("selfinstall_decision_latency_seconds", round(statistics.median(latencies), 1), quantile="0.5")
        )
        out.append(metric_line("selfinstall_decision_latency_seconds", round(q[8], 1), quantile="0.9"))
    out.append(metric_line("selfinstall_decision_latency_seconds_sum", round(sum(latencies), 1)))
    out.append(metric_line("selfinstall_decision_latency_seconds_count", len(latencies)))
    for produce in producers:
        out.extend(await produce())
    return "\n".join(out) + "\n"
