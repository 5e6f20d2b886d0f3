"""/metrics: prometheus-client exposition; running HTTP and decision figures, the database's figures
from a snapshot refreshed at most every METRICS_REFRESH_S (0 in the suite), protected by METRICS_TOKEN."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from httpx import AsyncClient
from litestar.exceptions import NotAuthorizedException
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from backend.app import create_app
from backend.metrics import DomainSnapshot, check_scraper
from backend.principal import Role
from backend.settings import Settings
from backend.validation.results import Reason
from tests.factories import Factory
from tests.helpers.review import case_id_of, helped, set_case, whole_queue
from tests.helpers.server import serving
from tests.mobile_api.helpers import new_install, ready_install, submit

FAMILIES = {
    "selfinstall_installs": "gauge",
    "selfinstall_automatic_decisions_total": "counter",
    "selfinstall_auto_approval_ratio": "gauge",
    "selfinstall_escalations_total": "counter",
    "selfinstall_review_queue_depth": "gauge",
    "selfinstall_review_oldest_case_age_seconds": "gauge",
    "selfinstall_decision_latency_seconds": "histogram",
    "selfinstall_review_open_cases": "gauge",
    "selfinstall_review_overdue_cases": "gauge",
    "selfinstall_review_waiting_cases": "gauge",
    "selfinstall_http_requests_total": "counter",
    "selfinstall_http_request_duration_seconds": "histogram",
    "selfinstall_domain_metrics_age_seconds": "gauge",
    # backend/quality/metrics.py
    "selfinstall_qa_samples_total": "counter",
    "selfinstall_automation_precision_ratio": "gauge",
    "selfinstall_followup_verdicts_total": "counter",
    "selfinstall_known_answers": "gauge",
    "selfinstall_calibration_answers_total": "counter",
    "selfinstall_specialist_agreement_ratio": "gauge",
    "selfinstall_calibration_specialists": "gauge",
}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
METRICS_TOKEN = "metrics-token-for-the-tests-0123456789abcdef"


def parse(text: str) -> tuple[dict[str, str], Samples]:
    """(family -> type, (sample name, labels) -> value), read by prometheus-client's own parser
    (which refuses what Prometheus would refuse). A counter's family is named as its TYPE line names it."""
    types: dict[str, str] = {}
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        types[family.name + ("_total" if family.type == "counter" else "")] = family.type
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = s.value
    return types, samples


async def scrape(client: AsyncClient, headers: dict[str, str] | None = None) -> Samples:
    r = await client.get("/metrics", headers=headers)
    assert r.status_code == 200, r.text
    return parse(r.text)[1]


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestExposition:
    async def test_plain_text_with_every_family(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)  # an install and an automatic decision, so every family has samples
        assert (await submit(client, d)).json()["state"] == "needs_retake"
        r = await client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
        types, samples = parse(r.text)
        assert {name: types.get(name) for name in FAMILIES} == FAMILIES  # other domains add their own
        assert len(types) == r.text.count("# TYPE ")  # no family twice
        for name in types:
            assert f"# HELP {name} " in r.text
        names = {n for n, _ in samples}
        assert names >= set(FAMILIES) - {
            "selfinstall_decision_latency_seconds",
            "selfinstall_http_request_duration_seconds",
        }
        assert {"selfinstall_decision_latency_seconds_sum", "selfinstall_decision_latency_seconds_count"} <= names
        for reason in Reason:
            assert ("selfinstall_escalations_total", frozenset({("reason", reason.value)})) in samples
        assert "_created" not in r.text  # prometheus-client's creation stamps are switched off

    async def test_no_personal_data(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        r = await client.get("/metrics", headers=d.who.headers)  # an app token is simply ignored
        assert r.status_code == 200
        assert d.who.subject not in r.text and d.id not in r.text and d.ean not in r.text


class TestValues:
    async def test_installs_gauge_follows_state_changes(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await new_install(client, make)
        created = await scrape(client)
        draft = value(before, "selfinstall_installs", state="draft")
        assert value(created, "selfinstall_installs", state="draft") == draft + 1
        await helped(client, d)
        escalated = await scrape(client)
        assert value(escalated, "selfinstall_installs", state="draft") == draft
        in_review = value(created, "selfinstall_installs", state="in_review")
        assert value(escalated, "selfinstall_installs", state="in_review") == in_review + 1

    async def test_queue_depth_escalations_and_oldest_case(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await new_install(client, make)
        await helped(client, d)
        after = await scrape(client)
        spec = make.party(Role.SPECIALIST)
        assert value(after, "selfinstall_review_queue_depth") == value(before, "selfinstall_review_queue_depth") + 1
        assert value(after, "selfinstall_review_queue_depth") == len(await whole_queue(client, spec))
        human = value(before, "selfinstall_escalations_total", reason="human_requested")
        assert value(after, "selfinstall_escalations_total", reason="human_requested") == human + 1
        fraud = value(before, "selfinstall_escalations_total", reason="suspected_fraud")
        assert value(after, "selfinstall_escalations_total", reason="suspected_fraud") == fraud

        await set_case(await case_id_of(d.id), opened_at=datetime.now(UTC) - timedelta(days=3))
        aged = await scrape(client)
        assert value(aged, "selfinstall_review_oldest_case_age_seconds") >= 3 * 86400
        waiting = value(after, "selfinstall_review_waiting_cases", longer_than="24h")
        assert value(aged, "selfinstall_review_waiting_cases", longer_than="24h") == waiting + 1

    async def test_overdue_cases_by_kind(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        before = await scrape(client)
        await set_case(await case_id_of(d.id), due_at=datetime.now(UTC) - timedelta(minutes=1))
        after = await scrape(client)
        overdue = value(before, "selfinstall_review_overdue_cases", kind="escalation")
        assert value(after, "selfinstall_review_overdue_cases", kind="escalation") == overdue + 1
        await set_case(await case_id_of(d.id), due_at=datetime.now(UTC) + timedelta(days=30))  # out of the way

    async def test_automatic_decisions_ratio_and_a_running_latency_histogram(
        self, client: AsyncClient, make: Factory
    ) -> None:
        before = await scrape(client)
        d = await ready_install(client, make)
        assert (await submit(client, d)).json()["state"] == "approved"
        after = await scrape(client)
        approved = value(after, "selfinstall_automatic_decisions_total", outcome="approved")
        assert approved == value(before, "selfinstall_automatic_decisions_total", outcome="approved") + 1
        total = sum(v for (n, _), v in after.items() if n == "selfinstall_automatic_decisions_total")
        assert value(after, "selfinstall_auto_approval_ratio") == round(approved / total, 4)
        latency = "selfinstall_decision_latency_seconds"
        # Every decision counts, not "the last 1000": approved seconds after its creation, so in the first bucket.
        assert value(after, f"{latency}_count") == value(before, f"{latency}_count") + 1
        assert value(after, f"{latency}_bucket", le="60.0") == value(before, f"{latency}_bucket", le="60.0") + 1
        assert value(after, f"{latency}_bucket", le="+Inf") == value(after, f"{latency}_count")

    async def test_a_cancellation_is_no_decision(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await new_install(client, make)
        r = await client.post(f"/mobile/v1/installs/{d.id}/cancel", json={}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        after = await scrape(client)
        count = "selfinstall_decision_latency_seconds_count"
        assert value(after, count) == value(before, count)


class TestHttpMetrics:
    async def test_requests_are_counted_by_route_template_method_and_status(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        route = "/mobile/v1/installs/{install_id}"
        labels = {"route": route, "method": "GET", "status": "200"}
        before = await scrape(client)
        assert (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).status_code == 200
        assert (await client.get("/no/such/route/at/all")).status_code == 404
        after = await scrape(client)
        assert (
            value(after, "selfinstall_http_requests_total", **labels)
            == value(before, "selfinstall_http_requests_total", **labels) + 1
        )
        unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
        assert (
            value(after, "selfinstall_http_requests_total", **unmatched)
            == value(before, "selfinstall_http_requests_total", **unmatched) + 1
        )
        assert all(d.id not in dict(labels).get("route", "") for _, labels in after)  # templates, not paths
        duration = "selfinstall_http_request_duration_seconds_count"
        assert value(after, duration, route=route, method="GET") >= 1

    async def test_an_invented_method_is_one_series(self, client: AsyncClient) -> None:
        await client.request("BREW", "/health")
        samples = await scrape(client)
        methods = {dict(labels).get("method") for name, labels in samples if name == "selfinstall_http_requests_total"}
        assert "BREW" not in methods and "OTHER" in methods


@pytest.fixture
async def guarded(client: AsyncClient, settings: Settings) -> AsyncIterator[AsyncClient]:
    """The app with a METRICS_TOKEN (the pool is the one `client` opened)."""
    app = create_app(replace(settings, metrics_token=METRICS_TOKEN))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


class TestProtection:
    async def test_without_the_token_a_problem_with_a_challenge(self, guarded: AsyncClient) -> None:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"}):
            r = await guarded.get("/metrics", headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.headers["www-authenticate"] == 'Bearer realm="metrics"'
            assert r.json()["code"] == "auth/unauthenticated"
            assert "selfinstall_" not in r.text

    async def test_the_token_opens_it(self, guarded: AsyncClient) -> None:
        samples = await scrape(guarded, {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert ("selfinstall_review_queue_depth", frozenset()) in samples

    def test_outside_development_no_token_means_closed(self, settings: Settings) -> None:
        production = replace(settings, environment="production")
        with pytest.raises(NotAuthorizedException):
            check_scraper(production, None)
        check_scraper(replace(production, metrics_token=METRICS_TOKEN), f"Bearer {METRICS_TOKEN}")
        check_scraper(replace(settings, environment="development"), None)  # a developer's own machine


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class TestSnapshot:
    """The database's figures are read at most once per interval, whatever the scrape rate."""

    @staticmethod
    def _counting() -> tuple[list[int], DomainSnapshot, _Clock]:
        reads: list[int] = []

        async def produce(_now: datetime) -> list[Metric]:
            reads.append(1)
            return [GaugeMetricFamily("selfinstall_test_reads", "reads so far", value=len(reads))]

        clock = _Clock()
        return reads, DomainSnapshot([produce], 30.0, lambda: datetime.now(UTC), clock), clock

    async def test_refreshed_once_per_interval(self) -> None:
        reads, snapshot, clock = self._counting()
        for _ in range(5):
            await snapshot.refresh_if_stale()
        assert len(reads) == 1
        clock.t += 29.9
        await snapshot.refresh_if_stale()
        assert len(reads) == 1
        ages = {m.name: m.samples[0].value for m in snapshot.collect()}
        assert ages["selfinstall_domain_metrics_age_seconds"] == pytest.approx(29.9)
        clock.t += 0.1
        await snapshot.refresh_if_stale()
        assert len(reads) == 2
        assert {m.name: m.samples[0].value for m in snapshot.collect()}["selfinstall_test_reads"] == 2

    async def test_a_failed_refresh_keeps_the_last_figures(self) -> None:
        reads, snapshot, clock = self._counting()
        await snapshot.refresh_if_stale()
        failing = True

        async def down(_now: datetime) -> list[Metric]:
            if failing:
                raise ConnectionRefusedError("the database is down")
            return []

        snapshot.producers = (*snapshot.producers, down)
        clock.t += 60
        await snapshot.refresh_if_stale()
        figures = {m.name: m.samples[0].value for m in snapshot.collect()}
        assert figures["selfinstall_test_reads"] == 1  # the last good read, not a half-read set
        assert figures["selfinstall_domain_metrics_age_seconds"] == 60
        failing = False
        await snapshot.refresh_if_stale()
        assert {m.name: m.samples[0].value for m in snapshot.collect()}["selfinstall_domain_metrics_age_seconds"] == 0

    def test_never_read_is_nan_not_zero(self) -> None:
        _, snapshot, _ = self._counting()
        (age,) = list(snapshot.collect())
        assert math.isnan(age.samples[0].value)


class TestWorkers:
    """`selfinstall serve` with two worker processes: whichever answers the scrape, it counts both."""

    async def test_every_scrape_sums_every_worker(self, tmp_path: Path) -> None:
        shared = tmp_path / "prometheus"
        env = {"WORKERS": "2", "PROMETHEUS_MULTIPROC_DIR": str(shared), "METRICS_TOKEN": METRICS_TOKEN}
        (shared).mkdir()
        (shared / "counter_999999.db").write_bytes(b"left by an earlier run")  # emptied at start
        log = tmp_path / "server.log"
        async with serving(env, log) as url, httpx.AsyncClient(base_url=url) as http:
            await _both_workers_started(log)
            for _ in range(40):  # a new connection each: the kernel spreads connections over the workers
                r = await http.get("/health/live", headers={"Connection": "close"})
                assert r.status_code == 200
            auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
            labels = {"route": "/health/live", "method": "GET", "status": "200"}
            totals = [value(await scrape(http, auth), "selfinstall_http_requests_total", **labels) for _ in range(6)]
            pids = {p.stem.rsplit("_", 1)[1] for p in shared.glob("counter_*.db")}
        assert totals == [40.0] * 6  # one worker's own count would differ between scrapes (and from 40)
        assert len(pids) == 2 and "999999" not in pids
        lines = [
            json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines() if line.startswith("{")
        ]
        access = [e for e in lines if e["logger"] == "selfinstall.access" and e["path"] == "/health/live"]
        assert len(access) >= 40 and all(len(e["request_id"]) == 32 for e in access)
        assert any(e["logger"] == "_granian" for e in lines)  # the server's own lines are JSON too


async def _both_workers_started(log: Path) -> None:
    """Readiness, not a timing assertion: /health answers once the first of the two workers is up."""
    deadline = asyncio.get_running_loop().time() + 60
    while log.read_text().count('"Started worker-') < 2:
        assert asyncio.get_running_loop().time() < deadline, log.read_text()
        await asyncio.sleep(0.1)
