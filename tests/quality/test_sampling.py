"""QA sampling end to end: automatic approvals go to the queue as qa_sample cases after approval, a
specialist's verdict is recorded against the automation's, and the install stays approved."""

from __future__ import annotations

import hashlib
import uuid

from httpx import AsyncClient

from backend.principal import Role
from backend.quality.flows import sample_point
from tests.factories import Factory
from tests.helpers.review import QUEUE, case_url, claimed, decide, get_case, install_of, whole_queue
from tests.mobile_api.helpers import problem
from tests.quality.helpers import (
    auto_approved,
    cases_of,
    given_verdict,
    id_with_point,
    sample_case,
    specialist_decided,
    verdict,
)

SHIPPED_SHARE = 0.02  # backend/validation/policy.toml [quality]


class TestWhoIsSampled:
    def test_the_sample_point_is_sha256_of_the_id(self) -> None:
        install_id = uuid.UUID("00000000-0000-4000-8000-000000000001")
        expected = int(hashlib.sha256(str(install_id).encode()).hexdigest(), 16) / 2**256
        assert sample_point(install_id) == expected and 0 <= expected < 1

    async def test_shipped_share_samples_by_id(self, client: AsyncClient, make: Factory) -> None:
        inside = await auto_approved(client, make, id_with_point(below=SHIPPED_SHARE))
        outside = await auto_approved(client, make, id_with_point(at_least=SHIPPED_SHARE))
        assert set(await cases_of(inside.id)) == {"qa_sample"}
        assert await cases_of(outside.id) == {}

    async def test_share_zero_samples_nothing(self, never_client: AsyncClient, make: Factory) -> None:
        d = await auto_approved(never_client, make, id_with_point(below=SHIPPED_SHARE))
        assert await cases_of(d.id) == {}

    async def test_a_specialists_approval_is_not_sampled(self, always_client: AsyncClient, make: Factory) -> None:
        d, case_id, _ = await specialist_decided(always_client, make, "approve")
        assert (await install_of(always_client, d))["state"] == "approved"
        assert set(await cases_of(d.id)) == {"escalation"}


class TestSampleLoop:
    async def test_agree_is_recorded_and_the_install_stays_approved(
        self, always_client: AsyncClient, make: Factory
    ) -> None:
        d = await auto_approved(always_client, make)
        assert (await install_of(always_client, d))["state"] == "approved"  # the customer was not held up
        case_id = await sample_case(d.id)
        spec = make.party(Role.SPECIALIST)
        items = await whole_queue(always_client, spec, kind="qa_sample")
        item = next(i for i in items if i["case_id"] == case_id)
        assert item["kind"] == "qa_sample" and item["reasons"] == ["qa_sample"]
        assert all(i["kind"] == "qa_sample" for i in items)
        view = await get_case(always_client, spec, case_id)
        assert view["kind"] == "qa_sample" and view["allowed_verdicts"] == ["agree", "disagree"]
        assert view["detail"]["sample_share"] == 1.0 and view["detail"]["policy_version"]
        assert [x["decided_by"] for x in view["decisions"]] == ["automation"]

        closed = await given_verdict(always_client, spec, case_id, "agree", "label and meter match")
        assert closed["state"] == "closed"
        assert [(v["verdict"], v["decided_by"], v["note"]) for v in closed["verdicts"]] == [
            ("agree", spec.subject, "label and meter match")
        ]
        assert (await install_of(always_client, d))["state"] == "approved"
        assert case_id not in [i["case_id"] for i in await whole_queue(always_client, spec, kind="qa_sample")]

    async def test_disagree_leaves_the_install_approved(self, always_client: AsyncClient, make: Factory) -> None:
        d = await auto_approved(always_client, make)
        case_id = await sample_case(d.id)
        closed = await given_verdict(always_client, make.party(Role.SPECIALIST), case_id, "disagree")
        assert closed["verdicts"][0]["verdict"] == "disagree"
        assert (await install_of(always_client, d))["state"] == "approved"
        actions = {e["action"] for e in closed["events"]}
        assert {"review.followup-claimed", "review.verdict"} <= actions and "review.claimed" not in actions
        timeline = [e["text"] for e in (await install_of(always_client, d))["timeline"]]
        assert not [t for t in timeline if "specialist" in t.lower()]  # the customer is not worried by a sample


class TestRefusals:
    async def test_decision_is_refused_on_a_followup(self, always_client: AsyncClient, make: Factory) -> None:
        d = await auto_approved(always_client, make)
        case_id = await sample_case(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(always_client, spec, case_id)
        r = await decide(always_client, spec, case_id, "reject", "wrong_asset", view["version"])
        body = problem(r, 409, "review/decision-not-for-followup")
        assert "qa_sample" in body["detail"]
        assert (await install_of(always_client, d))["state"] == "approved"

    async def test_verdict_is_refused_on_an_escalation(self, always_client: AsyncClient, make: Factory) -> None:
        d, _, _ = await specialist_decided(always_client, make, "reject")
        escalation = (await cases_of(d.id))["escalation"]
        r = await verdict(always_client, make.party(Role.SPECIALIST), escalation["id"], "agree", escalation["version"])
        problem(r, 409, "review/verdict-not-for-escalation")

    async def test_a_verdict_of_another_kind_is_refused(self, always_client: AsyncClient, make: Factory) -> None:
        case_id = await sample_case((await auto_approved(always_client, make)).id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(always_client, spec, case_id)
        r = await verdict(always_client, spec, case_id, "resolved", view["version"])
        body = problem(r, 422, "review/unknown-verdict")
        assert "agree, disagree" in body["detail"]

    async def test_verdict_needs_the_lease_and_the_current_version(
        self, always_client: AsyncClient, make: Factory
    ) -> None:
        case_id = await sample_case((await auto_approved(always_client, make)).id)
        holder, other = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        view = await claimed(always_client, holder, case_id)
        problem(await verdict(always_client, other, case_id, "agree", view["version"]), 409, "review/not-lease-holder")
        r = await verdict(always_client, holder, case_id, "agree", view["version"] - 1)
        problem(r, 409, "review/stale-version")
        assert (await verdict(always_client, holder, case_id, "agree", view["version"])).status_code == 200
        r = await verdict(always_client, holder, case_id, "agree", view["version"] + 1)
        problem(r, 409, "review/case-not-open")

    async def test_unknown_fields_and_kinds_are_refused(self, always_client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        r = await always_client.post(
            case_url(1, "verdict"), json={"verdict": "agree", "version": 1, "extra": 1}, headers=spec.headers
        )
        problem(r, 400, "request/invalid")
        r = await always_client.get(QUEUE, params={"kind": "nonsense"}, headers=spec.headers)
        problem(r, 400, "request/invalid")
