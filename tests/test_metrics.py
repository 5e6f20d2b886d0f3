"""/metrics: Prometheus text without a token, computed from the database on each scrape."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.principal import Role
from backend.validation.results import Reason
from tests.factories import Factory
from tests.helpers.review import case_id_of, helped, set_case, whole_queue
from tests.mobile_api.helpers import new_install, ready_install, submit

FAMILIES = {
    "selfinstall_installs": "gauge",
    "selfinstall_automatic_decisions_total": "counter",
    "selfinstall_auto_approval_ratio": "gauge",
    "selfinstall_escalations_total": "counter",
    "selfinstall_review_queue_depth": "gauge",
    "selfinstall_review_oldest_case_age_seconds": "gauge",
    "selfinstall_decision_latency_seconds": "summary",
    "selfinstall_review_open_cases": "gauge",
    # backend/quality/metrics.py
    "selfinstall_qa_samples_total": "counter",
    "selfinstall_automation_precision_ratio": "gauge",
    "selfinstall_followup_verdicts_total": "counter",
    "selfinstall_known_answers": "gauge",
    "selfinstall_calibration_answers_total": "counter",
    "selfinstall_specialist_agreement_ratio": "gauge",
    "selfinstall_calibration_specialists": "gauge",
}
SAMPLE = re.compile(r"^([a-z_]+)(?:\{([^}]*)\})? (-?[0-9.e+]+|NaN)$")


def parse(text: str) -> tuple[dict[str, str], dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """(family -> type, (name, labels) -> value); every line must be a comment or a valid sample."""
    types: dict[str, str] = {}
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line.startswith("# HELP ") or not line:
            continue
        else:
            m = SAMPLE.match(line)
            assert m, f"not a sample line: {line!r}"
            labels = frozenset(tuple(p.split("=", 1)) for p in m.group(2).split(",")) if m.group(2) else frozenset()
            samples[(m.group(1), frozenset((k, v.strip('"')) for k, v in labels))] = float(m.group(3))
    return types, samples


async def scrape(client: AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = await client.get("/metrics")
    assert r.status_code == 200, r.text
    return parse(r.text)[1]


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


class TestExposition:
    async def test_public_plain_text_with_every_family(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)  # an install and an automatic decision, so every family has samples
        assert (await submit(client, d)).json()["state"] == "needs_retake"
        r = await client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        types, samples = parse(r.text)
        assert {name: types.get(name) for name in FAMILIES} == FAMILIES  # other domains add their own
        assert len(types) == r.text.count("# TYPE ")  # no family twice
        for name in types:
            assert f"# HELP {name} " in r.text
        names = {n for n, _ in samples}
        assert names >= set(FAMILIES) - {"selfinstall_decision_latency_seconds"}
        assert {"selfinstall_decision_latency_seconds_sum", "selfinstall_decision_latency_seconds_count"} <= names
        for reason in Reason:
            assert ("selfinstall_escalations_total", frozenset({("reason", reason.value)})) in samples

    async def test_no_personal_data(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        r = await client.get("/metrics", headers=d.who.headers)  # a token is simply ignored
        assert r.status_code == 200
        assert d.who.subject not in r.text and d.id not in r.text and d.ean not in r.text


class TestValues:
    async def test_installs_gauge_follows_state_changes(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await new_install(client, make)
        created = await scrape(client)
        assert (
            value(created, "selfinstall_installs", state="draft")
            == value(before, "selfinstall_installs", state="draft") + 1
        )
        await helped(client, d)
        escalated = await scrape(client)
        assert value(escalated, "selfinstall_installs", state="draft") == value(
            before, "selfinstall_installs", state="draft"
        )
        assert (
            value(escalated, "selfinstall_installs", state="in_review")
            == value(created, "selfinstall_installs", state="in_review") + 1
        )

    async def test_queue_depth_escalations_and_oldest_case(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await new_install(client, make)
        await helped(client, d)
        after = await scrape(client)
        spec = make.party(Role.SPECIALIST)
        assert value(after, "selfinstall_review_queue_depth") == value(before, "selfinstall_review_queue_depth") + 1
        assert value(after, "selfinstall_review_queue_depth") == len(await whole_queue(client, spec))
        assert (
            value(after, "selfinstall_escalations_total", reason="human_requested")
            == value(before, "selfinstall_escalations_total", reason="human_requested") + 1
        )
        assert value(after, "selfinstall_escalations_total", reason="suspected_fraud") == value(
            before, "selfinstall_escalations_total", reason="suspected_fraud"
        )

        await set_case(await case_id_of(d.id), opened_at=datetime.now(UTC) - timedelta(days=3))
        aged = await scrape(client)
        assert value(aged, "selfinstall_review_oldest_case_age_seconds") >= 3 * 86400

    async def test_automatic_decisions_ratio_and_latency(self, client: AsyncClient, make: Factory) -> None:
        before = await scrape(client)
        d = await ready_install(client, make)
        assert (await submit(client, d)).json()["state"] == "approved"
        after = await scrape(client)
        approved = value(after, "selfinstall_automatic_decisions_total", outcome="approved")
        assert approved == value(before, "selfinstall_automatic_decisions_total", outcome="approved") + 1
        total = sum(v for (n, _), v in after.items() if n == "selfinstall_automatic_decisions_total")
        assert value(after, "selfinstall_auto_approval_ratio") == round(approved / total, 4)
        count = value(after, "selfinstall_decision_latency_seconds_count")
        assert count == value(before, "selfinstall_decision_latency_seconds_count") + 1 or count == 1000
        assert value(after, "selfinstall_decision_latency_seconds", quantile="0.5") >= 0
        assert ("selfinstall_decision_latency_seconds", frozenset({("quantile", "0.9")})) in after
