"""/metrics families of the quality loops (aggregates only: no specialist is named)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import CounterMetricFamily, Metric

from backend.metrics import gauge, labelled, ratio
from backend.quality import repository as repo
from backend.review import repository as review_repo
from backend.review.kinds import VERDICTS


async def families(_now: datetime) -> list[Metric]:
    """QA samples and the automation's precision, follow-up verdicts, known answers and agreement."""
    verdicts = await review_repo.verdict_counts()
    agree, disagree = verdicts.get(("qa_sample", "agree"), 0), verdicts.get(("qa_sample", "disagree"), 0)
    by_specialist = await repo.agreement_by_specialist()
    answers = sum(n for n, _ in by_specialist.values())
    agreed = sum(a for _, a in by_specialist.values())
    return [
        labelled(
            CounterMetricFamily,
            "selfinstall_qa_samples_total",
            "Sampled automatic approvals a specialist gave a verdict on, by verdict.",
            ["verdict"],
            {("agree",): agree, ("disagree",): disagree},
        ),
        gauge(
            "selfinstall_automation_precision_ratio",
            "Sampled automatic approvals a specialist agreed with / those judged.",
            ratio(agree, agree + disagree),
        ),
        labelled(
            CounterMetricFamily,
            "selfinstall_followup_verdicts_total",
            "Verdicts on follow-up cases, by kind and verdict.",
            ["kind", "verdict"],
            {(k, v): verdicts.get((k, v), 0) for k, vs in VERDICTS.items() for v in vs},
        ),
        gauge("selfinstall_known_answers", "Known answers in service for calibration.", await repo.active_count()),
        labelled(
            CounterMetricFamily,
            "selfinstall_calibration_answers_total",
            "Specialists' blind answers to known answers, by agreement.",
            ["agreed"],
            {("true",): agreed, ("false",): answers - agreed},
        ),
        gauge(
            "selfinstall_specialist_agreement_ratio",
            "Blind answers that agreed with the known answer / all answers.",
            ratio(agreed, answers),
        ),
        gauge(
            "selfinstall_calibration_specialists",
            "Specialists who answered at least one known answer (per person: admin API).",
            len(by_specialist),
        ),
    ]
