"""What a device report does: approve an install in review (policy), doubt one, flag a reading."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from backend.installs.tables import Decision
from backend.review.tables import ReviewCase
from tests.factories import Factory, new_ean
from tests.helpers.review import fraud_escalated, helped
from tests.helpers.webhooks import events_of
from tests.integrations.helpers import (
    READING,
    actions,
    approved,
    body,
    cases,
    device_checks,
    in_review_complexity,
    install_row,
    reported,
    submitted,
    system,
    view,
)
from tests.mobile_api.helpers import new_install, ready_install, scan


class TestAutoApprovalInReview:
    async def test_policy_on_approves_and_confirms(self, auto_client: AsyncClient, make: Factory) -> None:
        d, head_end = await in_review_complexity(auto_client, make), system(make)
        answer = await reported(auto_client, head_end, body(d.serial, d.ean, import_kwh=READING + 3))
        assert answer["outcomes"] == ["auto_approved", "confirmed"] and answer["install_id"] == d.id
        v = await view(auto_client, d)
        assert v["state"] == "approved" and v["asset"]["status"] == "installed"
        decisions = await Decision.select().where(Decision.install == uuid.UUID(d.id)).order_by(Decision.id)
        last = decisions[-1]
        assert (last["outcome"], last["decided_by"], last["attempt"]) == ("approved", head_end.subject, 5)
        assert last["reasons"] in (["device_report"], '["device_report"]') and last["policy_version"]
        assert (await install_row(d.id))["confirmed_at"] is not None
        assert (await cases(d.id))["escalation"]["state"] == "closed"
        assert [e["payload"]["actor_role"] for e in await events_of(d.id, "install.approved")] == ["system"]
        assert len(await events_of(d.id, "install.confirmed")) == 1
        assert [c["status"] for c in device_checks(v)] == ["pass"]
        texts = [e["text"] for e in v["timeline"]][-3:]
        # The policy had offered a visit on the complexity escalation: the approval calls it off.
        assert texts == [
            "Goedgekeurd: uw meter meldde zich zelf bij ons aan.",
            "Uw meter is online.",
            "Het bezoek gaat niet door.",
        ]

    async def test_policy_off_leaves_it_to_the_specialist(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await in_review_complexity(client, make), system(make)
        answer = await reported(client, head_end, body(d.serial, d.ean))
        assert answer["outcomes"] == ["noted"] and answer["install_id"] == d.id
        v = await view(client, d)
        assert v["state"] == "in_review" and v["reasons"] == ["complexity"]
        [line] = device_checks(v)  # the specialist sees the device reported where it should
        assert line["status"] == "pass" and line["evidence"]["reported_at_this_connection"] is True
        # The case waits on the visit the policy offered for complexity (backend/jobs/visits.toml).
        assert (await cases(d.id))["escalation"]["state"] == "visit"
        assert (await install_row(d.id))["confirmed_at"] is None

    async def test_a_person_asked_for_is_not_settled_by_a_device(self, auto_client: AsyncClient, make: Factory) -> None:
        d, head_end = await ready_install(auto_client, make), system(make)
        await helped(auto_client, d)
        answer = await reported(auto_client, head_end, body(d.serial, d.ean))
        assert answer["outcomes"] == ["noted"]
        assert (await view(auto_client, d))["state"] == "in_review"

    async def test_a_reading_far_off_blocks_the_approval(self, auto_client: AsyncClient, make: Factory) -> None:
        d, head_end = await in_review_complexity(auto_client, make), system(make)
        answer = await reported(auto_client, head_end, body(d.serial, d.ean, import_kwh=READING + 500))
        assert answer["outcomes"] == ["noted", "reading_mismatch"]
        assert answer["reading_difference_kwh"] == pytest.approx(500.0)
        v = await view(auto_client, d)
        assert v["state"] == "in_review"
        [line] = device_checks(v)
        assert (line["status"], line["subject"]) == ("fail", "reading")
        assert line["evidence"]["max_reading_difference_kwh"] == 50.0


class TestMismatch:
    async def test_serial_of_an_approved_install_at_another_connection(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, head_end = await approved(client, make), system(make)
        elsewhere = await make.connection()
        answer = await reported(client, head_end, body(d.serial, elsewhere))
        assert answer["outcomes"] == ["device_mismatch"]
        assert answer["install_id"] == d.id and answer["flagged_install_ids"] == [d.id]
        followup = (await cases(d.id))["device_mismatch"]
        assert followup["state"] == "open" and followup["reasons"] == ["suspected_fraud"]
        assert followup["detail"]["reported_serial"] == d.serial
        assert followup["detail"]["reported_at_this_connection"] is False
        assert elsewhere not in str(followup["detail"])  # another party's connection stays out
        assert (await view(client, d))["state"] == "approved"
        assert (await install_row(d.id))["confirmed_at"] is None
        assert "device.mismatch" in await actions(d.id)

    async def test_serial_of_an_install_in_review_at_another_connection(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, head_end = await in_review_complexity(client, make), system(make)
        await reported(client, head_end, body(d.serial, await make.connection()))
        v = await view(client, d)
        assert v["state"] == "in_review" and v["reasons"] == ["suspected_fraud", "complexity"]
        assert (await cases(d.id))["escalation"]["reasons"] == ["suspected_fraud", "complexity"]
        [line] = device_checks(v)
        assert line["status"] == "fail" and line["evidence"]["reported_at_this_connection"] is False

    async def test_another_serial_at_the_connection_of_an_install(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        stranger, _ = await make.asset()  # in stock, installed nowhere
        answer = await reported(client, head_end, body(stranger, d.ean))
        assert answer["outcomes"] == ["device_mismatch"] and answer["flagged_install_ids"] == [d.id]
        detail = (await cases(d.id))["device_mismatch"]["detail"]
        assert (detail["reported_serial"], detail["scanned_serial"]) == (stranger, d.serial)
        assert detail["reported_at_this_connection"] is True

    async def test_unknown_serial_at_an_install_in_review(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await fraud_escalated(client, make, d)
        answer = await reported(client, system(make), body("MTR1-NOBODYKNOWS", d.ean))
        assert answer["outcomes"] == ["device_mismatch"] and answer["flagged_install_ids"] == [d.id]
        assert (await view(client, d))["reasons"] == ["suspected_fraud"]  # already there: not twice

    async def test_a_draft_carries_the_doubt_into_its_submit(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await ready_install(client, make), system(make)
        await reported(client, head_end, body(d.serial, await make.connection()))
        assert (await view(client, d))["state"] == "draft"
        body_ = await submitted(client, d, "in_review")  # every photo and check is fine otherwise
        assert body_["reasons"] == ["suspected_fraud"]

    async def test_both_sides_of_a_swapped_label(self, client: AsyncClient, make: Factory) -> None:
        """A's install scanned X, but X reports at B's connection, where B's install scanned Y."""
        a, b, head_end = await approved(client, make), await approved(client, make), system(make)
        answer = await reported(client, head_end, body(a.serial, b.ean))
        assert sorted(answer["flagged_install_ids"]) == sorted([a.id, b.id])
        assert answer["install_id"] == a.id
        assert "device_mismatch" in await cases(a.id) and "device_mismatch" in await cases(b.id)

    async def test_the_install_where_it_reports_wins_the_other_is_doubted(
        self, client: AsyncClient, make: Factory
    ) -> None:
        """Two drafts scanned the same label; the meter reports at the second one's connection."""
        first, second = await new_install(client, make), await new_install(client, make)
        serial, payload = await make.asset()
        for d in (first, second):
            assert (await scan(client, d, payload)).status_code == 200
        answer = await reported(client, system(make), body(serial, second.ean))
        assert answer["outcomes"] == ["noted", "device_mismatch"] and answer["install_id"] == second.id
        assert answer["flagged_install_ids"] == [first.id]
        assert (await view(client, first))["reasons"] == ["suspected_fraud"]
        assert (await view(client, second))["reasons"] == []

    async def test_periodic_reports_do_not_reopen_a_resolved_doubt(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        elsewhere = await make.connection()
        await reported(client, head_end, body(d.serial, elsewhere))
        case = (await cases(d.id))["device_mismatch"]
        await ReviewCase.update({ReviewCase.state: "closed"}).where(ReviewCase.id == case["id"])  # resolved
        again = await reported(client, head_end, body(d.serial, elsewhere))
        assert again["outcomes"] == ["device_mismatch"] and again["flagged_install_ids"] == [d.id]
        assert (await cases(d.id))["device_mismatch"]["state"] == "closed"
        assert (await actions(d.id)).count("device.mismatch") == 1

    async def test_periodic_reports_at_a_draft_add_one_line(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await ready_install(client, make), system(make)
        for _ in range(3):
            assert (await reported(client, head_end, body(d.serial, d.ean)))["outcomes"] == ["noted"]
        assert len(device_checks(await view(client, d))) == 1
        assert (await actions(d.id)).count("device.reported") == 1

    async def test_nothing_known_is_unmatched(self, client: AsyncClient, make: Factory) -> None:
        answer = await reported(client, system(make), body("MTR1-NOWHERE", new_ean()))
        assert answer["outcomes"] == ["unmatched"] and answer["install_id"] is None
        stock, _ = await make.asset()
        answer = await reported(client, system(make), body(stock, await make.connection()))
        assert answer["outcomes"] == ["unmatched"] and answer["flagged_install_ids"] == []

    async def test_a_charger_back_office_says_nothing_about_the_meter(self, client: AsyncClient, make: Factory) -> None:
        d = await approved(client, make)
        answer = await reported(client, system(make), body("EVC-OTHER1", d.ean, source="charger-back-office"))
        assert answer["outcomes"] == ["unmatched"]
        assert "device_mismatch" not in await cases(d.id)


class TestReadingMismatch:
    async def test_far_reading_at_an_approved_install(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        answer = await reported(client, head_end, body(d.serial, d.ean, import_kwh=READING - 120))
        assert answer["outcomes"] == ["confirmed", "reading_mismatch"]
        assert answer["reading_difference_kwh"] == pytest.approx(-120.0)
        followup = (await cases(d.id))["reading_mismatch"]
        assert followup["state"] == "open" and followup["detail"]["import_kwh"] == pytest.approx(READING - 120)
        assert (await install_row(d.id))["confirmed_at"] is not None

    async def test_reading_within_the_threshold_is_no_flag(self, client: AsyncClient, make: Factory) -> None:
        d = await approved(client, make)
        answer = await reported(client, system(make), body(d.serial, d.ean, import_kwh=READING + 49))
        assert answer["outcomes"] == ["confirmed"]
        assert "reading_mismatch" not in await cases(d.id)

    async def test_no_reading_typed_no_comparison(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        d.serial, d.payload = await make.asset()
        assert (await scan(client, d, d.payload)).status_code == 200
        answer = await reported(client, system(make), body(d.serial, d.ean, import_kwh=1.0))
        assert answer["outcomes"] == ["noted"] and answer["reading_difference_kwh"] is None
