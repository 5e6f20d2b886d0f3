"""/metrics families of the webhook outbox: what is still to send, what keeps failing, what was given up."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric

from backend.events import repository as repo
from backend.metrics import gauge, labelled


async def families(now: datetime) -> list[Metric]:
    """Deliveries by state and the age of the oldest one still to send (alert on it growing)."""
    backlog = await repo.backlog()
    oldest = (now - backlog.oldest_pending_at).total_seconds() if backlog.oldest_pending_at else 0.0
    return [
        labelled(
            GaugeMetricFamily,
            "selfinstall_webhook_deliveries",
            "Webhook deliveries not delivered: pending (failing among them) and dead (given up after the maximum age).",
            ["state"],
            {("pending",): backlog.pending, ("failing",): backlog.failing, ("dead",): backlog.dead},
        ),
        gauge(
            "selfinstall_webhook_oldest_pending_age_seconds",
            "Age of the oldest event with a delivery still to send; 0 when none waits.",
            max(0.0, oldest),
        ),
    ]
