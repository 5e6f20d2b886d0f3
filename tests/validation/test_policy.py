"""decide(): all pass -> approved; only fixable -> retake (until max_retakes); otherwise review."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from backend.installs.context import load_policy
from backend.validation.policy import Policy, decide
from backend.validation.results import CheckResult, Outcome, Reason, Status

POLICY = load_policy()


def result(
    status: Status, *, fixable: bool = False, escalate_as: Reason = Reason.UNCERTAIN, check: str = "resolution"
) -> CheckResult:
    return CheckResult(
        check=check,
        subject="meter_label",
        status=status,
        confidence=1.0,
        evidence={},
        user_fixable=fixable,
        escalate_as=escalate_as,
    )


PASS = result(Status.PASS)
FIXABLE = result(Status.FAIL, fixable=True)
FIXABLE_UNCERTAIN = result(Status.UNCERTAIN, fixable=True, check="label_qr")


def run(results: list[CheckResult], retakes: int = 0, standing: set[Reason] | None = None, policy: Policy = POLICY):
    return decide(policy, results, retakes_so_far=retakes, standing_reasons=standing or set())


class TestShippedPolicy:
    async def test_loads_with_its_thresholds(self) -> None:
        assert POLICY.version
        assert POLICY.photo.min_short_side_px == 640
        assert POLICY.location.max_distance_m == 150.0 and POLICY.location.max_accuracy_m == 100.0
        assert POLICY.decision.max_retakes == 3

    async def test_unknown_setting_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "policy.toml"
        shipped = Path(__file__).resolve().parents[2] / "backend" / "validation" / "policy.toml"
        path.write_text(shipped.read_text().replace("[decision]", "[decision]\nmax_retakse = 5"))
        with pytest.raises(msgspec.ValidationError):
            load_policy(path)


class TestApproved:
    async def test_all_pass(self) -> None:
        decision = run([PASS, PASS])
        assert (decision.outcome, decision.reasons) == (Outcome.APPROVED, ())

    async def test_no_results_and_no_reasons(self) -> None:
        assert run([]).outcome is Outcome.APPROVED


class TestRetake:
    @pytest.mark.parametrize("retakes", [0, 1, 2])
    async def test_only_fixable_problems_ask_for_a_retake(self, retakes: int) -> None:
        decision = run([PASS, FIXABLE, FIXABLE_UNCERTAIN], retakes=retakes)
        assert (decision.outcome, decision.reasons) == (Outcome.NEEDS_RETAKE, ())

    @pytest.mark.parametrize("retakes", [3, 4])
    async def test_at_max_retakes_it_escalates_as_complexity(self, retakes: int) -> None:
        decision = run([PASS, FIXABLE], retakes=retakes)
        assert (decision.outcome, decision.reasons) == (Outcome.IN_REVIEW, (Reason.COMPLEXITY,))

    async def test_max_retakes_comes_from_the_policy(self) -> None:
        strict = msgspec.structs.replace(POLICY, decision=msgspec.structs.replace(POLICY.decision, max_retakes=1))
        assert run([FIXABLE], retakes=0, policy=strict).outcome is Outcome.NEEDS_RETAKE
        assert run([FIXABLE], retakes=1, policy=strict).reasons == (Reason.COMPLEXITY,)


class TestReview:
    @pytest.mark.parametrize("reason", list(Reason))
    async def test_non_fixable_failure_escalates_as_its_reason(self, reason: Reason) -> None:
        decision = run([PASS, result(Status.FAIL, escalate_as=reason)])
        assert (decision.outcome, decision.reasons) == (Outcome.IN_REVIEW, (reason,))

    async def test_non_fixable_uncertain_escalates_as_uncertain_by_default(self) -> None:
        decision = run([result(Status.UNCERTAIN)])
        assert decision.reasons == (Reason.UNCERTAIN,)

    async def test_fixable_problems_do_not_add_complexity_beside_a_real_reason(self) -> None:
        decision = run([FIXABLE, result(Status.FAIL, escalate_as=Reason.SUSPECTED_FRAUD)], retakes=5)
        assert decision.reasons == (Reason.SUSPECTED_FRAUD,)

    async def test_standing_reason_alone_sends_to_review(self) -> None:
        decision = run([PASS], standing={Reason.APPROVAL_REQUIRED})
        assert (decision.outcome, decision.reasons) == (Outcome.IN_REVIEW, (Reason.APPROVAL_REQUIRED,))

    async def test_reasons_are_ordered_by_weight_and_unique(self) -> None:
        decision = run(
            [
                result(Status.FAIL, escalate_as=Reason.UNCERTAIN),
                result(Status.FAIL, escalate_as=Reason.SUSPECTED_FRAUD),
                result(Status.UNCERTAIN, escalate_as=Reason.SUSPECTED_FRAUD),
            ],
            standing={Reason.COMPLEXITY, Reason.HUMAN_REQUESTED, Reason.APPROVAL_REQUIRED, Reason.SPECIALIST_KNOWLEDGE},
        )
        assert decision.reasons == (
            Reason.SUSPECTED_FRAUD,
            Reason.HUMAN_REQUESTED,
            Reason.APPROVAL_REQUIRED,
            Reason.SPECIALIST_KNOWLEDGE,
            Reason.COMPLEXITY,
            Reason.UNCERTAIN,
        )

    async def test_standing_reasons_are_not_mutated(self) -> None:
        standing = {Reason.HUMAN_REQUESTED}
        run([result(Status.FAIL, escalate_as=Reason.SUSPECTED_FRAUD)], standing=standing)
        assert standing == {Reason.HUMAN_REQUESTED}


class TestPolicyVersion:
    @pytest.mark.parametrize("results", [[PASS], [FIXABLE], [result(Status.FAIL)]])
    async def test_every_outcome_records_the_policy_version(self, results: list[CheckResult]) -> None:
        policy = msgspec.structs.replace(POLICY, version="test-2099.1")
        assert run(results, policy=policy).policy_version == "test-2099.1"
