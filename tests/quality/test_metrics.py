"""The quality lines of /metrics move with the loops: samples and precision, verdicts, calibration."""

from __future__ import annotations

import math

from httpx import AsyncClient

from backend.metrics import gauge, ratio
from backend.principal import Role
from backend.validation.results import Reason
from tests.factories import Factory
from tests.quality.helpers import (
    answer,
    auto_approved,
    given_verdict,
    mark,
    sample_case,
    served_until,
    specialist_decided,
)
from tests.test_metrics import scrape, value


def _counts(samples: dict) -> tuple[float, float]:
    return (
        value(samples, "selfinstall_qa_samples_total", verdict="agree"),
        value(samples, "selfinstall_qa_samples_total", verdict="disagree"),
    )


class TestSampleMetrics:
    async def test_precision_is_agreed_over_judged(self, always_client: AsyncClient, make: Factory) -> None:
        before = await scrape(always_client)
        first = await sample_case((await auto_approved(always_client, make)).id)
        second = await sample_case((await auto_approved(always_client, make)).id)
        opened = await scrape(always_client)
        assert value(opened, "selfinstall_review_open_cases", kind="qa_sample") == (
            value(before, "selfinstall_review_open_cases", kind="qa_sample") + 2
        )
        # A sample is a follow-up, not an escalation: no escalation counter moves.
        for reason in Reason:
            assert value(opened, "selfinstall_escalations_total", reason=reason.value) == value(
                before, "selfinstall_escalations_total", reason=reason.value
            )
        spec = make.party(Role.SPECIALIST)
        await given_verdict(always_client, spec, first, "agree")
        await given_verdict(always_client, spec, second, "disagree")
        after = await scrape(always_client)
        agree, disagree = _counts(after)
        assert (agree, disagree) == (_counts(before)[0] + 1, _counts(before)[1] + 1)
        assert value(after, "selfinstall_automation_precision_ratio") == round(agree / (agree + disagree), 4)
        assert value(after, "selfinstall_followup_verdicts_total", kind="qa_sample", verdict="agree") == agree
        assert value(after, "selfinstall_review_open_cases", kind="qa_sample") == value(
            before, "selfinstall_review_open_cases", kind="qa_sample"
        )


class TestCalibrationMetrics:
    async def test_answers_and_agreement(self, always_client: AsyncClient, make: Factory) -> None:
        _, case_id, _ = await specialist_decided(always_client, make, "reject")
        before = await scrape(always_client)
        known = (await mark(always_client, make.party(Role.ADMIN), case_id)).json()
        marked = await scrape(always_client)
        assert value(marked, "selfinstall_known_answers") == value(before, "selfinstall_known_answers") + 1
        spec = make.party(Role.SPECIALIST)
        assert await served_until(always_client, spec, known["id"]) is not None
        between = await scrape(always_client)  # served_until may have answered older known answers
        assert (await answer(always_client, spec, known["id"], "reject")).json()["agreed"] is True
        after = await scrape(always_client)
        agreed = value(after, "selfinstall_calibration_answers_total", agreed="true")
        disagreed = value(after, "selfinstall_calibration_answers_total", agreed="false")
        assert agreed == value(between, "selfinstall_calibration_answers_total", agreed="true") + 1
        assert disagreed == value(between, "selfinstall_calibration_answers_total", agreed="false")
        assert value(after, "selfinstall_specialist_agreement_ratio") == round(agreed / (agreed + disagreed), 4)
        assert value(after, "selfinstall_calibration_specialists") >= 1
        r = await always_client.get("/metrics")
        assert spec.subject not in r.text  # per-person figures stay behind the admin API

    async def test_ratios_are_nan_or_in_range(self, always_client: AsyncClient) -> None:
        samples = await scrape(always_client)
        for name in ("selfinstall_automation_precision_ratio", "selfinstall_specialist_agreement_ratio"):
            ratio = samples[(name, frozenset())]
            assert math.isnan(ratio) or 0 <= ratio <= 1

    def test_nothing_to_divide_is_nan(self) -> None:
        """NaN is Prometheus' "no data"; a 0 would read as a precision of nothing."""
        (sample,) = gauge("selfinstall_x_ratio", "x", ratio(3, 0)).samples
        assert math.isnan(sample.value)
