"""/metrics with prometheus-client: two kinds of figure, each counted where it is true.

Running figures of this process (HTTP requests per route, method and status; their latency; the
time from an install's start to its final decision) are prometheus-client counters and histograms,
updated where things happen. With several worker processes they live in PROMETHEUS_MULTIPROC_DIR
(`selfinstall serve --workers N` sets it up) and a scrape of any worker sums every worker's.

Figures of the business (installs by state, the review queue, decisions, escalations, the quality
and device lines other domains add through `Producer`s) belong to the database: the same whichever
worker answers, so summing them over workers would be wrong and recomputing them per scrape costs
~15 queries. A `DomainSnapshot` reads them at most every METRICS_REFRESH_S and serves them from
memory in between; a refresh that fails (a bad day) keeps the last figures and says how old they are.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from litestar.exceptions import NotAuthorizedException
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from backend.installs import repository as installs_repo
from backend.installs.flows import StateChange
from backend.review import repository as review_repo
from backend.review.kinds import CaseKind
from backend.settings import Settings
from backend.validation.results import Reason

log = logging.getLogger(__name__)
disable_created_metrics()  # `_created` series per label set double the output for nothing Prometheus needs

# One domain's families, read from the database at `now` (the snapshot's time); create_app lists them.
Producer = Callable[[datetime], Awaitable[list[Metric]]]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED_ROUTE = "unmatched"  # a path no route knows: one series, whatever a scanner tries
HTTP_REQUESTS = Counter(
    "selfinstall_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "selfinstall_http_request_duration_seconds",
    "Time from a request's arrival to the last byte of its answer, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
DECISION_LATENCY = Histogram(
    "selfinstall_decision_latency_seconds",
    "Seconds from an install's creation to its final decision (approved or rejected), as decided.",
    buckets=(60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 4 * 86400, 7 * 86400, 14 * 86400),
)
_FINAL_STATES = frozenset({"approved", "rejected"})  # a cancellation is a withdrawal, not a decision
# How long open cases have waited: the queue's age in a few steps (the console draws them).
WAITING_LONGER_THAN = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request (backend/access.py); an unknown method is one series, not one per guess."""
    method = method if method in _METHODS else "OTHER"
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_DURATION.labels(route, method).observe(seconds)


async def decision_latency_hook(change: StateChange) -> None:
    """A state hook, registered last: only the commit itself can still undo the decision it counts."""
    if change.state_changed and change.to_state in _FINAL_STATES:
        DECISION_LATENCY.observe(max(0.0, (change.at - change.install.created_at).total_seconds()))


def gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    """An unlabelled gauge; a ratio with nothing to divide is NaN, which Prometheus reads as "no data"."""
    return GaugeMetricFamily(name, help_text, value=value)


def labelled(
    kind: type[GaugeMetricFamily] | type[CounterMetricFamily],
    name: str,
    help_text: str,
    labels: Sequence[str],
    values: Mapping[tuple[str, ...], float],
) -> Metric:
    """A gauge or counter family with one sample per label-value tuple."""
    family = kind(name, help_text, labels=list(labels))
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


def ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else math.nan


async def core_families(now: datetime) -> list[Metric]:
    """Installs by state, automatic decisions, escalations by reason, the review queue."""
    states = await installs_repo.install_counts_by_state()
    outcomes = await installs_repo.automation_outcomes()
    open_by_kind = {kind: n for (kind, reason), n in (await review_repo.queue_counts()).items() if not reason}
    escalations = {(r.value,): await review_repo.cases_with_reason(r.value) for r in Reason}
    oldest = await review_repo.oldest_open()
    overdue = await review_repo.overdue_counts(now)
    waiting = {(age,): await review_repo.open_since_before(now - span) for age, span in WAITING_LONGER_THAN.items()}
    approved = outcomes.get("approved", 0)
    return [
        labelled(GaugeMetricFamily, "selfinstall_installs", "Installs by state.", ["state"], _keyed(states)),
        labelled(
            CounterMetricFamily,
            "selfinstall_automatic_decisions_total",
            "Automatic decisions at submit, by outcome.",
            ["outcome"],
            _keyed(outcomes),
        ),
        gauge(
            "selfinstall_auto_approval_ratio",
            "Share of automatic decisions that approved.",
            ratio(approved, sum(outcomes.values())),
        ),
        labelled(
            CounterMetricFamily,
            "selfinstall_escalations_total",
            "Installs escalated to a specialist, by reason.",
            ["reason"],
            escalations,
        ),
        gauge("selfinstall_review_queue_depth", "Open review cases.", sum(open_by_kind.values())),
        gauge(
            "selfinstall_review_oldest_case_age_seconds",
            "Age of the oldest open review case.",
            round((now - oldest).total_seconds(), 1) if oldest else 0,
        ),
        labelled(
            GaugeMetricFamily,
            "selfinstall_review_open_cases",
            "Open review cases by kind (escalations and follow-ups).",
            ["kind"],
            {(kind.value,): open_by_kind.get(kind.value, 0) for kind in CaseKind},
        ),
        labelled(
            GaugeMetricFamily,
            "selfinstall_review_overdue_cases",
            "Open review cases past their due time (SLA breached), by kind.",
            ["kind"],
            {(kind.value,): overdue.get(kind.value, 0) for kind in CaseKind},
        ),
        labelled(
            GaugeMetricFamily,
            "selfinstall_review_waiting_cases",
            "Open review cases waiting longer than `longer_than`.",
            ["longer_than"],
            waiting,
        ),
    ]


def _keyed(counts: Mapping[str, int]) -> dict[tuple[str, ...], float]:
    return {(key,): n for key, n in sorted(counts.items())}


class DomainSnapshot:
    """The database's figures, read at most every `interval_s` (per worker) and served from memory."""

    def __init__(
        self,
        producers: Sequence[Producer],
        interval_s: float,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.producers = tuple(producers)
        self.interval_s = interval_s
        self._now = now
        self._monotonic = monotonic
        self._families: list[Metric] = []
        self._taken_at: float | None = None
        self._lock = asyncio.Lock()  # concurrent scrapes share one refresh
        self.registry = CollectorRegistry()
        self.registry.register(self)

    def _fresh(self) -> bool:
        return self._taken_at is not None and self._monotonic() - self._taken_at < self.interval_s

    async def refresh_if_stale(self) -> None:
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():
                return
            try:
                now = self._now()
                families = [family for produce in self.producers for family in await produce(now)]
            except Exception:  # the database's bad day: the process figures still matter, and most then
                log.warning("domain metrics not refreshed; serving the last ones", exc_info=True)
                return
            self._families, self._taken_at = families, self._monotonic()

    async def current(self) -> tuple[list[Metric], float | None]:
        """The database's figures, read again if stale, and their age in seconds (None: never read):
        what the operators' console draws, from the same snapshot /metrics serves."""
        await self.refresh_if_stale()
        age = None if self._taken_at is None else round(self._monotonic() - self._taken_at, 3)
        return list(self._families), age

    def collect(self) -> Iterator[Metric]:
        """prometheus-client's collector protocol: the cached families and their age."""
        yield from self._families
        age = math.nan if self._taken_at is None else round(self._monotonic() - self._taken_at, 3)
        yield gauge("selfinstall_domain_metrics_age_seconds", "Seconds since the database figures were read.", age)


def process_registry(multiproc_dir: Path | None) -> CollectorRegistry:
    """This process's running figures, or every worker's summed when they share a multiprocess folder."""
    if multiproc_dir is None:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(multiproc_dir))
    return registry


async def exposition(snapshot: DomainSnapshot, multiproc_dir: Path | None) -> bytes:
    """The text format 0.0.4: the running figures, then the database's."""
    await snapshot.refresh_if_stale()
    return generate_latest(process_registry(multiproc_dir)) + generate_latest(snapshot.registry)


def check_scraper(settings: Settings, authorization: str | None) -> None:
    """`Authorization: Bearer <METRICS_TOKEN>`; without a METRICS_TOKEN only a development server answers."""
    challenge = {"WWW-Authenticate": 'Bearer realm="metrics"'}
    if not settings.metrics_token:
        if settings.is_development():
            return
        raise NotAuthorizedException("METRICS_TOKEN is not set", headers=challenge)
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), settings.metrics_token.encode()):
        raise NotAuthorizedException("wrong or missing metrics token", headers=challenge)
