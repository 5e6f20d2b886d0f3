"""/metrics families of the customers' notifications: what is still to send and since when."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from backend.metrics import gauge, labelled
from backend.notifications import repository as repo


async def families(now: datetime) -> list[Metric]:
    """Pending notifications (failing among them) and the age of the oldest (alert on it growing: the mail
    server refuses, or SMTP_HOST is not set and nothing is sent)."""
    backlog = await repo.backlog()
    oldest = (now - backlog.oldest_pending_at).total_seconds() if backlog.oldest_pending_at else 0.0
    return [
        labelled(
            GaugeMetricFamily,
            "selfinstall_notifications",
            "Customer notifications not sent yet: pending, and failing among them (retried with backoff).",
            ["state"],
            {("pending",): backlog.pending, ("failing",): backlog.failing},
        ),
        gauge(
            "selfinstall_notifications_oldest_pending_age_seconds",
            "Age of the oldest customer notification still to send; 0 when none waits.",
            max(0.0, oldest),
        ),
    ]
