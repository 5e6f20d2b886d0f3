"""Retries without an Idempotency-Key: a submit with the evidence it already judged, a second cancel and
a scan of the label already linked answer the install as it is, and record nothing twice."""

from __future__ import annotations

import uuid

from httpx import AsyncClient

from backend.installs.tables import Event
from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import install_of
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import (
    Draft,
    create,
    enter_reading,
    new_install,
    problem,
    ready_install,
    scan,
    submit,
)


async def _actions(d: Draft) -> list[str]:
    """The install's audit trail (the outbox's events are tests.helpers.webhooks.events_of)."""
    rows = await Event.select(Event.action).where(Event.install == uuid.UUID(d.id)).order_by(Event.id)
    return [r["action"] for r in rows]


async def _shared_install(client: AsyncClient, make: Factory) -> tuple[Draft, Draft]:
    """One install seen by its customer and by the installer who started it from their job there:
    (as customer, as installer)."""
    customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
    ean = await make.connection(owner=customer.subject)
    r = await create(client, installer, ean)
    assert r.status_code == 201, r.text
    d = Draft(who=customer, id=r.json()["id"], ean=ean, asset_type="smart_meter_1p", view=r.json())
    return d, Draft(who=installer, id=d.id, ean=ean, asset_type=d.asset_type)


class TestHelpAgain:
    async def test_on_a_decided_install_the_same_request_again_changes_nothing(
        self, client: AsyncClient, make: Factory
    ) -> None:
        """A retry of 'help' on an approved install records one request; other words, or the same words after
        something happened, are asked anew."""
        d = await ready_install(client, make)
        assert (await submit(client, d)).json()["state"] == "approved"
        for _ in range(2):  # the answer was lost: the phone sends it again
            r = await client.post(f"{d.url}/help", json={"message": "Wanneer belt u mij?"}, headers=d.who.headers)
            assert r.status_code == 200 and r.json()["state"] == "approved", r.text
        assert (await _actions(d)).count("help.requested") == 1
        r = await client.post(f"{d.url}/help", json={"message": "En de oude meter?"}, headers=d.who.headers)
        assert r.status_code == 200
        assert (await _actions(d)).count("help.requested") == 2


class TestSubmitAgain:
    async def test_the_same_evidence_is_judged_once(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        first = await submit(client, d)
        assert first.status_code == 200 and first.json()["state"] == "needs_retake", first.text
        again = await submit(client, d)  # its answer was lost: the phone sends it again
        assert again.status_code == 200, again.text
        assert again.json() == first.json()
        assert again.json()["retake_count"] == 1 and len(again.json()["decisions"]) == 1
        assert (await _actions(d)).count("install.submitted") == 1

    async def test_evidence_sent_since_makes_a_new_attempt(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert (await submit(client, d)).json()["retake_count"] == 1
        assert (await enter_reading(client, d, 4512.7)).status_code == 200
        again = await submit(client, d)
        assert again.status_code == 200, again.text
        assert again.json()["retake_count"] == 2 and len(again.json()["decisions"]) == 2

    async def test_another_users_submit_is_no_attempt(self, client: AsyncClient, make: Factory) -> None:
        """The connection's owner cannot submit their installer's install (service.require_creator), so
        there is no second user's submit to tell from a retry."""
        as_customer, as_installer = await _shared_install(client, make)
        problem(await submit(client, as_customer), 403, "install/not-creator")
        r = await submit(client, as_installer)
        assert r.status_code == 200 and r.json()["retake_count"] == 1, r.text

    async def test_a_cancelled_install_is_still_a_conflict(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert (await submit(client, d)).status_code == 200
        assert (await client.post(f"{d.url}/cancel", json={}, headers=d.who.headers)).status_code == 200
        problem(await submit(client, d), 409, "install/state-conflict")


class TestCancelAgain:
    async def test_by_the_one_who_cancelled_answers_the_cancelled_install(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        first = await client.post(f"{d.url}/cancel", json={"reason": "Verkeerd"}, headers=d.who.headers)
        again = await client.post(f"{d.url}/cancel", json={"reason": "Verkeerd"}, headers=d.who.headers)
        assert (first.status_code, again.status_code) == (200, 200), again.text
        assert again.json() == first.json() and again.json()["state"] == "cancelled"
        assert (await _actions(d)).count("install.cancelled") == 1
        assert [e["event_type"] for e in await events_of(d.id)] == ["install.cancelled"]  # one outbox event

    async def test_by_someone_else_is_forbidden(self, client: AsyncClient, make: Factory) -> None:
        as_customer, as_installer = await _shared_install(client, make)
        cancelled = await client.post(f"{as_installer.url}/cancel", json={}, headers=as_installer.who.headers)
        assert cancelled.status_code == 200, cancelled.text
        r = await client.post(f"{as_customer.url}/cancel", json={}, headers=as_customer.who.headers)
        problem(r, 403, "install/not-creator")  # only its creator cancels an install (issue 13)


class TestScanAgain:
    async def test_the_linked_label_again_changes_nothing(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        _, payload = await make.asset()
        first = await scan(client, d, payload)
        again = await scan(client, d, f"  {payload}\n")  # as a scanner may hand it over
        assert (first.status_code, again.status_code) == (200, 200), again.text
        assert again.json() == first.json()
        assert (await _actions(d)).count("label.scanned") == 1

    async def test_even_once_the_install_is_in_review(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        _, payload = await make.asset()
        assert (await scan(client, d, payload)).status_code == 200
        assert (await client.post(f"{d.url}/help", json={}, headers=d.who.headers)).json()["state"] == "in_review"
        r = await scan(client, d, payload)
        assert r.status_code == 200 and r.json()["state"] == "in_review", r.text
        problem(await scan(client, d, (await make.asset())[1]), 409, "install/state-conflict")  # another label

    async def test_another_label_is_linked_instead(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        _, first = await make.asset()
        serial, second = await make.asset()
        assert (await scan(client, d, first)).status_code == 200
        r = await scan(client, d, second)
        assert r.status_code == 200 and r.json()["asset"]["serial"] == serial, r.text
        assert (await _actions(d)).count("label.scanned") == 2
        assert (await install_of(client, d))["version"] == r.json()["version"]
