"""Prometheus lines of the quality loops (aggregates only: no specialist is named), for /metrics."""

from __future__ import annotations

from backend.metrics import metric_family, metric_line
from backend.quality import repository as repo
from backend.review import repository as review_repo
from backend.review.kinds import VERDICTS


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else float("nan")


async def render_lines() -> list[str]:
    """QA samples and the automation's precision, follow-up verdicts, known answers and agreement."""
    out: list[str] = []
    verdicts = await review_repo.verdict_counts()
    agree, disagree = verdicts.get(("qa_sample", "agree"), 0), verdicts.get(("qa_sample", "disagree"), 0)
    name = "selfinstall_qa_samples_total"
    out += metric_family(name, "counter", "Sampled automatic approvals a specialist gave a verdict on, by verdict.")
    out += [metric_line(name, agree, verdict="agree"), metric_line(name, disagree, verdict="disagree")]
    name = "selfinstall_automation_precision_ratio"
    out += metric_family(name, "gauge", "Sampled automatic approvals a specialist agreed with / those judged.")
    out.append(metric_line(name, _ratio(agree, agree + disagree)))
    name = "selfinstall_followup_verdicts_total"
    out += metric_family(name, "counter", "Verdicts on follow-up cases, by kind and verdict.")
    out += [metric_line(name, verdicts.get((k, v), 0), kind=k, verdict=v) for k, vs in VERDICTS.items() for v in vs]
    by_specialist = await repo.agreement_by_specialist()
    answers = sum(n for n, _ in by_specialist.values())
    agreed = sum(a for _, a in by_specialist.values())
    name = "selfinstall_known_answers"
    out += metric_family(name, "gauge", "Known answers in service for calibration.")
    out.append(metric_line(name, await repo.active_count()))
    name = "selfinstall_calibration_answers_total"
    out += metric_family(name, "counter", "Specialists' blind answers to known answers, by agreement.")
    out += [metric_line(name, agreed, agreed="true"), metric_line(name, answers - agreed, agreed="false")]
    name = "selfinstall_specialist_agreement_ratio"
    out += metric_family(name, "gauge", "Blind answers that agreed with the known answer / all answers.")
    out.append(metric_line(name, _ratio(agreed, answers)))
    name = "selfinstall_calibration_specialists"
    out += metric_family(name, "gauge", "Specialists who answered at least one known answer (per person: admin API).")
    out.append(metric_line(name, len(by_specialist)))
    return out
