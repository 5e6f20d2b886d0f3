"""A visit when self-service falls short (issue 13): complexity -> visit offered -> window picked ->
the installer's job; a specialist's offer; what a pick refuses; who may see and do what."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient

from backend.events.tables import OutboxEvent
from backend.installs.context import build_context
from backend.jobs.tables import Visit
from backend.jobs.visits import lapse_offers
from backend.principal import Role
from backend.review import repository as review_repo
from backend.review.config import load_review_config
from backend.settings import Settings
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, case_row, case_url, claimed, helped
from tests.integrations.helpers import in_review_complexity
from tests.jobs.helpers import JOBS, MY_JOBS, start
from tests.mobile_api.helpers import (
    Draft,
    enter_reading,
    locate,
    new_install,
    problem,
    scan,
    slots_of,
    submit,
    upload,
)


def visit_url(install_id: str) -> str:
    return f"/mobile/v1/installs/{install_id}/visit"


async def visit_of(client: AsyncClient, d: Draft) -> dict[str, Any]:
    r = await client.get(visit_url(d.id), headers=d.who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def pick(client: AsyncClient, d: Draft, window: dict[str, Any]) -> Any:
    body = {"window_start": window["window_start"], "window_end": window["window_end"]}
    return await client.post(visit_url(d.id), json=body, headers=d.who.headers)


async def visit_row(install_id: str) -> dict[str, Any]:
    rows = await Visit.select().where(Visit.install == uuid.UUID(install_id)).order_by(Visit.id).output(load_json=True)
    return rows[-1]


async def outbox(event_type: str, install_id: str) -> list[dict[str, Any]]:
    rows = await OutboxEvent.select().where(OutboxEvent.event_type == event_type).output(load_json=True)
    return [r["payload"] for r in rows if r["payload"].get("install_id") == install_id]


async def install_view(client: AsyncClient, d: Draft) -> dict[str, Any]:
    r = await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestComplexityToInstallerJob:
    async def test_a_visit_is_offered_picked_and_on_the_installers_list(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await in_review_complexity(client, make)
        offered = await visit_of(client, d)
        assert offered["state"] == "offered" and offered["chosen"] is None
        assert len(offered["windows"]) == 6  # visits.toml: 3 working days x 2 slots
        assert all(datetime.fromisoformat(w["window_start"]) > datetime.now(UTC) for w in offered["windows"])
        assert (await case_row(d.id))["state"] == "visit"  # out of the queue while the visit runs
        assert len(await outbox("install.visit_offered", d.id)) == 1
        view = await install_view(client, d)
        assert [a["code"] for a in view["next_actions"]] == ["pick_visit_window", "ask_for_help"]
        assert "installateur langskomen" in view["timeline"][-1]["text"]

        r = await pick(client, d, offered["windows"][1])
        assert r.status_code == 200, r.text
        planned = r.json()
        assert planned["state"] == "planned"
        assert planned["chosen"]["window_start"] == offered["windows"][1]["window_start"]
        [event] = await outbox("install.visit_planned", d.id)
        assert event["installer_assigned"] is False  # visits.toml names no default installer
        assert (event["ean"], event["customer_ref"]) == (d.ean, d.who.subject)
        assert event["window_start"] == datetime.fromisoformat(planned["chosen"]["window_start"]).isoformat()

        view = await install_view(client, d)
        assert [a["code"] for a in view["next_actions"]] == ["visit_planned", "ask_for_help"]
        assert offered["windows"][1]["text"] in view["next_actions"][0]["text"]
        assert view["timeline"][-1]["text"].startswith("Bezoek gepland: ")

        # A dispatcher assigns the visit's job; it is then on the installer's list with the case's brief.
        job_id = (await visit_row(d.id))["job"]
        admin, installer = make.party(Role.ADMIN), make.party(Role.INSTALLER)
        r = await client.post(
            f"{JOBS}/{job_id}/assign", json={"version": 1, "installer": installer.subject}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        r = await client.get(MY_JOBS, headers=installer.headers)
        assert r.status_code == 200, r.text
        (item,) = r.json()["items"]
        assert item["id"] == job_id and item["connection"]["ean"] == d.ean
        assert item["window_start"] == planned["chosen"]["window_start"]
        brief = item["visit"]
        assert brief["reasons"] == ["complexity"] and brief["serial"] == d.serial
        assert any(c["subject"] == "cabinet_overview" for c in brief["checks"]), brief

        r = await start(client, installer, job_id)
        assert r.status_code == 201, r.text


def _windows(*starts_in_hours: int) -> list[dict[str, str]]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "window_start": (now + timedelta(hours=h)).isoformat(),
            "window_end": (now + timedelta(hours=h + 4)).isoformat(),
        }
        for h in starts_in_hours
    ]


async def offer(client: AsyncClient, spec: Party, case_id: int, **body: Any) -> Any:
    return await client.post(case_url(case_id, "visit"), json=body, headers=spec.headers)


async def offered_by_specialist(
    client: AsyncClient, make: Factory, **body: Any
) -> tuple[Draft, int, Party, dict[str, Any]]:
    """A customer's install in review (asked for help), turned into a visit by the specialist holding it."""
    d = await new_install(client, make)
    await helped(client, d)
    case_id = await case_id_of(d.id)
    spec = make.party(Role.SPECIALIST)
    await claimed(client, spec, case_id)
    r = await offer(client, spec, case_id, **body)
    assert r.status_code == 201, r.text
    return d, case_id, spec, dict(r.json())


class TestSpecialistOffersAVisit:
    async def test_their_windows_and_installer_make_the_job(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        windows = _windows(26, 50)
        d, case_id, _, out = await offered_by_specialist(
            client, make, windows=windows, installer=installer.subject, note="Label achter een kastje."
        )
        assert (out["state"], out["case_id"], out["installer"], len(out["windows"])) == (
            "offered",
            case_id,
            installer.subject,
            2,
        )
        assert out["brief"]["reasons"] == ["human_requested"]
        row = await case_row(d.id)
        assert (row["state"], row["claimed_by"]) == ("visit", None)

        r = await pick(client, d, (await visit_of(client, d))["windows"][0])
        assert r.status_code == 200, r.text
        r = await client.get(MY_JOBS, headers=installer.headers)
        (item,) = r.json()["items"]  # assigned at the pick: the offer named the installer
        assert item["state"] == "assigned" and item["visit"]["note"] == "Label achter een kastje."
        assert item["visit"]["reasons_text"] == ["klant vroeg om een medewerker"]  # worded for the installer

    async def test_only_the_lease_holder_of_an_open_escalation_offers(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        problem(await offer(client, spec, case_id), 409, "review/not-lease-holder")
        await claimed(client, spec, case_id)
        body = problem(await offer(client, spec, case_id, windows=_windows(-1)), 422, "visit/windows-invalid")
        assert [(e["line"], e["field"], e["kind"]) for e in body["errors"]] == [(1, "window_start", "window-past")]
        body = problem(await offer(client, spec, case_id, windows=_windows(-10)), 422, "visit/windows-invalid")
        assert [(e["line"], e["kind"]) for e in body["errors"]] == [(1, "window-past")]  # over: said once
        body = problem(await offer(client, spec, case_id, windows=_windows(2 * 24 * 400)), 422, "visit/windows-invalid")
        assert body["errors"][0]["kind"] == "window-too-far", body
        assert (await offer(client, spec, case_id)).status_code == 201  # the planning rule's windows
        problem(await offer(client, spec, case_id), 409, "review/case-not-open")
        problem(await offer(client, spec, 2_000_000_000), 404, "review/case-not-found")


class TestPickingAWindow:
    async def test_what_a_pick_refuses(self, client: AsyncClient, make: Factory) -> None:
        d, _, _, out = await offered_by_specialist(client, make, windows=_windows(26, 50))
        first, second = (await visit_of(client, d))["windows"]
        problem(await pick(client, d, {**first, "window_end": second["window_end"]}), 422, "visit/window-not-offered")
        # Time passes: the first window has begun (the stored offer moved back, as the clock would).
        now = datetime.now(UTC)
        moved = [{"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=3)).isoformat()}]
        await Visit.update({Visit.windows: moved + [w for w in (await visit_row(d.id))["windows"][1:]]}).where(
            Visit.id == out["visit_id"]
        )
        begun = (await visit_of(client, d))["windows"][0]
        problem(await pick(client, d, begun), 422, "visit/window-passed")

        r = await pick(client, d, second)
        assert r.status_code == 200 and r.json()["state"] == "planned", r.text
        again = await pick(client, d, second)  # a retry: the same answer, nothing made twice
        assert again.status_code == 200 and again.json() == r.json()
        assert len(await outbox("install.visit_planned", d.id)) == 1
        body = problem(await pick(client, d, begun), 409, "visit/not-open")
        assert body["detail"].startswith("Het bezoek is gepland:")  # the state in words, not 'planned'

    async def test_an_install_without_a_visit(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        problem(await client.get(visit_url(d.id), headers=d.who.headers), 404, "visit/not-found")
        problem(await pick(client, d, _windows(26)[0]), 404, "visit/not-found")


class TestTheVisitFollowsItsJob:
    async def test_a_cancelled_job_cancels_the_visit_and_the_case_is_back_in_the_queue(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d, _, _, _ = await offered_by_specialist(client, make, windows=_windows(26))
        await pick(client, d, (await visit_of(client, d))["windows"][0])
        job_id = (await visit_row(d.id))["job"]
        r = await client.post(f"{JOBS}/{job_id}/cancel", json={"version": 1}, headers=make.party(Role.ADMIN).headers)
        assert r.status_code == 200, r.text
        assert (await visit_of(client, d))["state"] == "cancelled"
        assert (await case_row(d.id))["state"] == "open"  # a specialist settles the install (or offers again)
        view = await install_view(client, d)
        assert view["next_actions"][0]["code"] == "wait"

    async def test_the_installers_approved_install_ends_the_visit_and_the_case_returns(
        self, client: AsyncClient, make: Factory
    ) -> None:
        installer = make.party(Role.INSTALLER)
        d, _, _, _ = await offered_by_specialist(client, make, windows=_windows(26), installer=installer.subject)
        await pick(client, d, (await visit_of(client, d))["windows"][0])
        job_id = (await visit_row(d.id))["job"]
        install_id = str(uuid.uuid4())
        assert (await start(client, installer, job_id, install_id)).status_code == 201
        serial, payload = await make.asset()
        done = Draft(who=installer, id=install_id, ean=d.ean, asset_type="smart_meter_1p", serial=serial)
        assert (await scan(client, done, payload)).status_code == 200
        assert (await locate(client, done, make.fix())).status_code == 200
        assert (await enter_reading(client, done, 4512.7)).status_code == 200
        for slot in slots_of("smart_meter_1p"):
            r = await upload(client, done, slot, make.photo(slot, payload=payload, serial=serial))
            assert r.status_code == 201, r.text
        assert (await submit(client, done)).json()["state"] == "approved"

        assert (await visit_of(client, d))["state"] == "done"
        assert (await case_row(d.id))["state"] == "open"  # the customer's own install is a specialist's again
        view = await install_view(client, d)
        assert (view["state"], view["next_actions"][0]["code"]) == ("in_review", "wait")
        # The installer's install is theirs: the customer's visit never showed it its photos, nor it theirs.
        problem(await client.get(f"/mobile/v1/installs/{d.id}", headers=installer.headers), 404, "install/not-found")

    async def test_a_withdrawn_install_cancels_its_visit_and_job(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        d, _, _, _ = await offered_by_specialist(client, make, windows=_windows(26), installer=installer.subject)
        await pick(client, d, (await visit_of(client, d))["windows"][0])
        r = await client.post(f"/mobile/v1/installs/{d.id}/cancel", json={}, headers=d.who.headers)
        assert r.status_code == 200, r.text
        assert (await visit_of(client, d))["state"] == "cancelled"
        assert (await client.get(MY_JOBS, headers=installer.headers)).json()["items"] == []
        assert len(await outbox("install.visit_cancelled", d.id)) == 1


class TestAnOfferLeftUnpicked:
    async def test_lapses_once_its_last_window_began_and_the_case_is_back_in_the_queue(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d, case_id, _, out = await offered_by_specialist(client, make, windows=_windows(26, 50))
        last_start = datetime.fromisoformat(_windows(26, 50)[1]["window_start"])
        ctx = build_context(settings)

        async def sweep_at(at: datetime) -> int:
            return await lapse_offers(dataclasses.replace(ctx, clock=lambda: at), at)

        assert await sweep_at(last_start - timedelta(minutes=1)) == 0  # one window left to pick
        assert (await visit_of(client, d))["state"] == "offered"
        later = last_start + timedelta(minutes=5)
        assert await sweep_at(later) >= 1
        assert (await visit_of(client, d))["state"] == "cancelled"
        case = await review_repo.case_by_id(case_id)
        assert case is not None and case.state == "open" and case.claimed_by is None  # in the queue again,
        assert case.due_at == load_review_config().due_at(later, case.reasons)  # due per the SLA from now
        [event] = await outbox("install.visit_cancelled", d.id)
        assert event["reason"] == "no-window-picked" and event["visit_id"] == out["visit_id"]
        assert (event["ean"], event["customer_ref"], event["actor_role"]) == (d.ean, d.who.subject, "system")
        assert event["case_id"] == case_id
        view = await install_view(client, d)
        assert view["timeline"][-1]["text"].startswith("Er is geen tijdvak gekozen"), view["timeline"]
        assert view["next_actions"][0]["code"] == "wait"
        await sweep_at(later + timedelta(minutes=5))
        assert len(await outbox("install.visit_cancelled", d.id)) == 1  # not lapsed twice


class TestWhoMay:
    async def test_the_visit_is_its_customers_only(self, client: AsyncClient, make: Factory) -> None:
        d, _, _, _ = await offered_by_specialist(client, make, windows=_windows(26))
        window = (await visit_of(client, d))["windows"][0]
        stranger = make.party(Role.CUSTOMER)
        problem(await client.get(visit_url(d.id), headers=stranger.headers), 404, "install/not-found")
        r = await client.post(
            visit_url(d.id), json={k: window[k] for k in ("window_start", "window_end")}, headers=stranger.headers
        )
        problem(r, 404, "install/not-found")
        for role in (Role.INSTALLER, Role.SPECIALIST, Role.ADMIN):
            who = make.party(role)
            assert (await client.get(visit_url(d.id), headers=who.headers)).status_code == 403
            r = await client.post(
                visit_url(d.id), json={k: window[k] for k in ("window_start", "window_end")}, headers=who.headers
            )
            assert r.status_code == 403
        assert (await visit_of(client, d))["state"] == "offered"

    async def test_only_specialists_offer(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        for who in (d.who, make.party(Role.INSTALLER), make.party(Role.ADMIN)):
            assert (await offer(client, who, case_id)).status_code == 403
        assert (await case_row(d.id))["state"] == "open"

    async def test_an_installers_own_install_gets_no_visit(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        ean = await make.connection(owner=make.party(Role.CUSTOMER).subject)
        r = await client.post(
            JOBS,
            json={"ean": ean, "asset_type": "smart_meter_1p", "installer": installer.subject, **_windows(1)[0]},
            headers=make.party(Role.ADMIN).headers,
        )
        assert r.status_code == 201, r.text
        install_id = str(uuid.uuid4())
        assert (await start(client, installer, r.json()["id"], install_id)).status_code == 201
        r = await client.post(
            f"/mobile/v1/installs/{install_id}/help", json={"message": "?"}, headers=installer.headers
        )
        assert r.status_code == 200, r.text
        spec = make.party(Role.SPECIALIST)
        case_id = await case_id_of(install_id)
        await claimed(client, spec, case_id)
        problem(await offer(client, spec, case_id), 409, "visit/not-a-customer-install")
