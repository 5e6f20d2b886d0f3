"""Follow-up cases: one open per install and kind, beside the escalation, never touching the install."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from httpx import AsyncClient

from backend.errors import Invalid
from backend.installs import repository as installs_repo
from backend.installs.service import transaction
from backend.principal import Role
from backend.review import repository as repo
from backend.review.followups import open_followup
from backend.review.tables import ReviewCase
from tests.factories import Factory
from tests.helpers.review import (
    case_url,
    claimed,
    helped,
    install_in,
    install_of,
    queue_page,
    set_case,
    unique_city,
    whole_queue,
)
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import problem


async def _open(install_id: str, kind: str, detail: dict | None = None):  # noqa: ANN202
    install = await installs_repo.install_by_id(uuid.UUID(install_id))
    assert install is not None
    async with transaction():
        return await open_followup(install, kind, [kind], datetime.now(UTC), detail or {"report": 1})


class TestOpenFollowup:
    async def test_opens_once_per_kind_beside_the_escalation(self, client: AsyncClient, make: Factory) -> None:
        d = await install_in(client, make, unique_city())
        await helped(client, d)
        case = await _open(d.id, "device_mismatch", {"reported_serial": "X-1"})
        assert case is not None and case.kind == "device_mismatch" and case.state == "open"
        assert case.detail == {"reported_serial": "X-1"} and case.reasons == ["device_mismatch"]
        assert await _open(d.id, "device_mismatch") is None  # already open
        assert (await _open(d.id, "device_silent")) is not None  # another kind is its own case
        escalation = await repo.case_of_install(uuid.UUID(d.id))
        assert escalation is not None and escalation.kind == "escalation" and escalation.id != case.id
        kinds = sorted(r["kind"] for r in await ReviewCase.select().where(ReviewCase.install == uuid.UUID(d.id)))
        assert kinds == ["device_mismatch", "device_silent", "escalation"]
        install = await installs_repo.install_by_id(uuid.UUID(d.id))
        assert install is not None and install.state == "in_review"

    async def test_a_closed_followup_reopens_with_the_new_detail(self, client: AsyncClient, make: Factory) -> None:
        d = await install_in(client, make, unique_city())
        first = await _open(d.id, "device_silent", {"days": 7})
        assert first is not None
        await set_case(first.id, state="closed", closed_at=datetime.now(UTC))
        again = await _open(d.id, "device_silent", {"days": 14})
        assert again is not None and again.id == first.id and again.state == "open"
        assert again.detail == {"days": 14} and again.closed_at is None

    async def test_escalation_is_not_a_followup_kind(self, client: AsyncClient, make: Factory) -> None:
        d = await install_in(client, make, unique_city())
        try:
            await _open(d.id, "escalation")
        except Invalid as e:
            assert e.code == "review/unknown-case-kind"
        else:
            raise AssertionError("escalation accepted as a follow-up kind")


class TestDeviceFollowupVerdicts:
    async def test_escalate_closes_the_followup_and_leaves_the_install_alone(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await install_in(client, make, unique_city())
        await helped(client, d)
        case = await _open(d.id, "device_mismatch", {"reported_serial": "MTR1-OTHER"})
        assert case is not None
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case.id)
        assert view["kind"] == "device_mismatch" and view["allowed_verdicts"] == ["resolved", "escalate"]
        assert view["detail"] == {"reported_serial": "MTR1-OTHER"}
        r = await client.post(
            case_url(case.id, "verdict"), json={"verdict": "agree", "version": view["version"]}, headers=spec.headers
        )
        problem(r, 422, "review/unknown-verdict")
        r = await client.post(
            case_url(case.id, "verdict"),
            json={"verdict": "escalate", "version": view["version"], "note": "send a technician"},
            headers=spec.headers,
        )
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "closed" and r.json()["verdicts"][0]["note"] == "send a technician"
        assert (await install_of(client, d))["state"] == "in_review"
        escalation = await repo.case_of_install(uuid.UUID(d.id))
        assert escalation is not None and escalation.state == "open" and escalation.claimed_by is None
        published = await events_of(d.id, "review.verdict")
        assert [(e["payload"]["kind"], e["payload"]["verdict"]) for e in published] == [("device_mismatch", "escalate")]

    async def test_the_queue_filters_by_kind(self, client: AsyncClient, make: Factory) -> None:
        city = unique_city()
        d = await install_in(client, make, city)
        await helped(client, d)
        followup = await _open(d.id, "device_silent")
        assert followup is not None
        spec = make.party(Role.SPECIALIST)
        everything = await whole_queue(client, spec, region=city)
        assert sorted(i["kind"] for i in everything) == ["device_silent", "escalation"]
        silent = await whole_queue(client, spec, region=city, kind="device_silent")
        assert [i["case_id"] for i in silent] == [followup.id]
        page = await queue_page(client, spec, region=city)
        assert page["counts"]["human_requested"] >= 1 and "device_silent" not in page["counts"]
