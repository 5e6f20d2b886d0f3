"""Decision quality end to end: labelled clean and bad installs played through HTTP on the real app.

No bad install may ever be approved; clean ones should be (at most one escalated, and reported).
The scenarios live in tests/validation/scenarios.py; each is played once per run and its result
shared by the named per-scenario test and the summary.
"""

from __future__ import annotations

import itertools

import pytest
from httpx import AsyncClient

from tests.factories import Factory
from tests.validation.scenarios import BAD, CLEAN, SCENARIOS, Result, Scenario, play

MAX_CLEAN_ESCALATED = 1
_played: dict[str, Result] = {}


async def result_of(s: Scenario, client: AsyncClient, make: Factory) -> Result:
    if s.name not in _played:
        _played[s.name] = await play(s, client, make)
    return _played[s.name]


class TestScenarioSuite:
    async def test_the_suite_is_varied_enough(self) -> None:
        assert len(CLEAN) >= 8 and len(BAD) >= 12
        assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)
        # Scenarios use seeds seed..seed+99: no two may draw from the same pictures.
        seeds = sorted(s.seed for s in SCENARIOS)
        assert all(b - a >= 100 for a, b in itertools.pairwise(seeds))
        assert {s.kind for s in CLEAN} == {"clean"} and {s.kind for s in BAD} == {"bad"}
        assert all(s.expect != "approved" for s in BAD)


class TestEachScenario:
    @pytest.mark.parametrize("scenario", CLEAN, ids=lambda s: s.name)
    async def test_clean_install_is_accepted_at_every_step(
        self, scenario: Scenario, client: AsyncClient, make: Factory
    ) -> None:
        # Approval itself is judged over all clean scenarios together (one escalation is tolerated).
        result = await result_of(scenario, client, make)
        assert result.outcome in ("approved", "needs_retake", "in_review"), result

    @pytest.mark.parametrize("scenario", BAD, ids=lambda s: s.name)
    async def test_bad_install_is_not_approved(self, scenario: Scenario, client: AsyncClient, make: Factory) -> None:
        result = await result_of(scenario, client, make)
        assert result.outcome != "approved", result
        assert result.outcome == scenario.expect, result
        if scenario.flag:
            assert any(r.startswith(f"{scenario.flag}:") for r in result.reasons), result
        if scenario.reason:
            assert scenario.reason in result.reasons, result


class TestDecisionQuality:
    async def test_no_bad_install_approved_and_clean_ones_rarely_escalated(
        self, client: AsyncClient, make: Factory
    ) -> None:
        results = [(s, await result_of(s, client, make)) for s in SCENARIOS]
        width = max(len(s.name) for s in SCENARIOS)
        print(f"\n{'scenario':<{width}}  expected  {'outcome':<40}  reasons")
        for s, r in results:
            print(f"{s.name:<{width}}  {s.kind:<8}  {r.outcome:<40}  {', '.join(r.reasons) or '-'}")
        bad_approved = [s.name for s, r in results if s.kind == "bad" and r.outcome == "approved"]
        escalated = [s.name for s, r in results if s.kind == "clean" and r.outcome != "approved"]
        print(
            f"decision quality: {len(bad_approved)}/{len(BAD)} bad approved, "
            f"{len(escalated)}/{len(CLEAN)} clean escalated"
        )
        if escalated:
            print("clean escalated:", ", ".join(escalated))
        assert not bad_approved
        assert len(escalated) <= MAX_CLEAN_ESCALATED, escalated
