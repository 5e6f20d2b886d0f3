"""POST /integrations/v1/device-reports: confirmation, idempotency, validation, who may call it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from httpx import ASGITransport, AsyncClient

from backend.principal import Role
from tests.factories import Factory, new_ean
from tests.helpers.webhooks import events_of
from tests.integrations.helpers import (
    REPORTS,
    actions,
    approved,
    body,
    install_row,
    post,
    reported,
    submitted,
    system,
    view,
)
from tests.mobile_api.helpers import problem, ready_install


class TestConfirmation:
    async def test_report_at_an_approved_install_confirms_it(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        assert (await install_row(d.id))["confirmed_at"] is None
        b = body(d.serial, d.ean, import_kwh=4520.0)
        answer = await reported(client, head_end, b)
        assert answer["outcomes"] == ["confirmed"] and answer["install_id"] == d.id
        assert answer["flagged_install_ids"] == [] and answer["reading_difference_kwh"] == pytest.approx(7.3)
        assert answer["readings"] == {"import_kwh": 4520.0, "export_kwh": 1.5}
        assert (await install_row(d.id))["confirmed_at"] is not None
        assert (await actions(d.id))[-1] == "install.confirmed"
        assert (await view(client, d))["timeline"][-1]["text"] == "Uw meter is online."
        assert (await view(client, d, "en"))["timeline"][-1]["text"] == "Your meter is online."
        [event] = await events_of(d.id, "install.confirmed")
        assert event["payload"] | {"at": None} == {
            "install_id": d.id,
            "ean": d.ean,
            "serial": d.serial,
            "reported_at": datetime.fromisoformat(b["reported_at"]).isoformat(),
            "source": "head-end",
            "readings": {"import_kwh": 4520.0, "export_kwh": 1.5},
            "report_id": b["report_id"],
            "at": None,
        }

    async def test_a_later_report_confirms_nothing_twice(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        await reported(client, head_end, body(d.serial, d.ean))
        first = (await install_row(d.id))["confirmed_at"]
        # Weeks of consumption later the reading is far from the typed one: no longer a question.
        again = await reported(client, head_end, body(d.serial, d.ean, import_kwh=READING_MUCH_LATER))
        assert again["outcomes"] == ["already_confirmed"] and again["install_id"] == d.id
        assert (await install_row(d.id))["confirmed_at"] == first
        assert len(await events_of(d.id, "install.confirmed")) == 1
        assert (await actions(d.id)).count("install.confirmed") == 1

    async def test_report_before_approval_confirms_at_approval(self, client: AsyncClient, make: Factory) -> None:
        """Meters come online before the customer finishes the app: the approval then confirms."""
        d, head_end = await ready_install(client, make), system(make)
        answer = await reported(client, head_end, body(d.serial, d.ean))
        assert answer["outcomes"] == ["noted"] and answer["install_id"] == d.id
        assert (await install_row(d.id))["confirmed_at"] is None
        await submitted(client, d, "approved")
        assert (await install_row(d.id))["confirmed_at"] is not None
        texts = [e["text"] for e in (await view(client, d, "en"))["timeline"]]
        assert texts[-2:] == ["Submitted and checked automatically: approved.", "Your meter is online."]
        [event] = await events_of(d.id, "install.confirmed")
        assert event["payload"]["report_id"] == answer["report_id"]

    async def test_report_at_a_connection_before_the_scan(self, client: AsyncClient, make: Factory) -> None:
        """Nothing scanned yet: nothing to doubt; the approval tells whether it was this device."""
        from tests.mobile_api.helpers import new_install

        d, head_end = await new_install(client, make), system(make)
        answer = await reported(client, head_end, body("MTR1-NOTSCANNED1", d.ean))
        assert answer["outcomes"] == ["noted"] and answer["install_id"] == d.id
        assert (await view(client, d))["reasons"] == []


READING_MUCH_LATER = 9999.0


class TestIdempotency:
    async def test_same_report_again_replays_the_first_answer(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        b = body(d.serial, d.ean)
        first = await reported(client, head_end, b, 201)
        again = await reported(client, head_end, b, 200)
        assert again == first and again["outcomes"] == ["confirmed"]
        assert len(await events_of(d.id, "install.confirmed")) == 1
        # The same instant in another offset is the same body.
        shifted = datetime.fromisoformat(b["reported_at"]).astimezone(UTC).replace(tzinfo=None)
        same = b | {"reported_at": shifted.isoformat() + "+00:00"}
        assert await reported(client, head_end, same, 200) == first

    async def test_concurrent_retries_and_reports_confirm_once(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        b = body(d.serial, d.ean)
        others = [body(d.serial, d.ean) for _ in range(3)]
        answers = await asyncio.gather(*[post(client, head_end, x) for x in [b, b, b, *others]])
        assert sorted(r.status_code for r in answers) == [200, 200, 201, 201, 201, 201], [r.text for r in answers]
        outcomes = sorted(r.json()["outcomes"][0] for r in answers if r.status_code == 201)
        assert outcomes == ["already_confirmed"] * 3 + ["confirmed"]
        assert len({str(r.json()) for r in answers[:3]}) == 1  # the retries replay the first answer
        assert len(await events_of(d.id, "install.confirmed")) == 1

    async def test_same_id_with_another_body_is_409(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        b = body(d.serial, d.ean)
        await reported(client, head_end, b)
        problem(await post(client, head_end, b | {"source": "charger-back-office"}), 409, "device-report/id-conflict")
        problem(await post(client, system(make), b), 409, "device-report/id-conflict")  # another system

    async def test_get_returns_the_stored_answer_to_its_sender_only(self, client: AsyncClient, make: Factory) -> None:
        d, head_end = await approved(client, make), system(make)
        answer = await reported(client, head_end, body(d.serial, d.ean))
        r = await client.get(f"{REPORTS}/{answer['report_id']}", headers=head_end.headers)
        assert r.status_code == 200 and r.json() == answer
        problem(
            await client.get(f"{REPORTS}/{answer['report_id']}", headers=system(make).headers),
            404,
            "device-report/not-found",
        )
        problem(await client.get(f"{REPORTS}/no-such-report", headers=head_end.headers), 404, "device-report/not-found")


class TestValidation:
    @pytest.mark.parametrize(
        ("reported_at", "code"),
        [  # past any clock (backend/bounds.py, for every timestamp of every request), or past the window
            ("1970-01-01T00:00:00+00:00", "request/timestamp-out-of-range"),
            ("9999-12-31T23:59:59+00:00", "request/timestamp-out-of-range"),
            ("far-future", "device-report/reported-at-out-of-range"),
            ("long-ago", "device-report/reported-at-out-of-range"),
        ],
    )
    async def test_reported_at_outside_the_window_is_422(
        self, client: AsyncClient, make: Factory, reported_at: str, code: str
    ) -> None:
        now = datetime.now(UTC)
        at = {"far-future": now + timedelta(hours=2), "long-ago": now - timedelta(days=31)}.get(reported_at)
        b = body("MTR1-WINDOW", new_ean(), reported_at=at.isoformat() if at else reported_at)
        body_ = problem(await post(client, system(make), b, **{"Accept-Language": "en"}), 422, code)
        assert "outside the" in body_["detail"] and ("window" in body_["detail"] or "reported_at" in body_["detail"])
        problem(
            await client.get(f"{REPORTS}/{b['report_id']}", headers=system(make).headers),
            404,
            "device-report/not-found",
        )

    async def test_ean_with_a_wrong_check_digit_is_422(self, client: AsyncClient, make: Factory) -> None:
        ean = new_ean()
        wrong = ean[:17] + str((int(ean[17]) + 1) % 10)
        problem(await post(client, system(make), body("MTR1-X", wrong)), 422, "connection/invalid-ean")

    @pytest.mark.parametrize(
        "change",
        [
            {"ean": "87168700000000000A"},
            {"ean": "8716870000"},
            {"device_serial": "M" * 41},
            {"device_serial": ""},
            {"report_id": "x" * 65},
            {"report_id": "has space"},
            {"reported_at": "2026-12-01T10:00:00"},  # no offset
            {"source": "fax"},
            {"readings": {"import_kwh": -1}},
            {"readings": {"import_kwh": 1, "volts": 230}},
            {"install_id": str(uuid.uuid4())},
        ],
        ids=lambda c: "-".join(c),
    )
    async def test_malformed_body_is_400(self, client: AsyncClient, make: Factory, change: dict) -> None:
        b = body("MTR1-MALFORMED", new_ean()) | change
        problem(await post(client, system(make), b), 400, "request/invalid")


class TestWhoMayCall:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST, Role.ADMIN])
    async def test_other_roles_get_403(self, client: AsyncClient, make: Factory, role: Role) -> None:
        who = make.party(role)
        problem(await post(client, who, body("MTR1-ROLE", new_ean())), 403, "auth/forbidden")
        problem(await client.get(f"{REPORTS}/whatever", headers=who.headers), 403, "auth/forbidden")

    async def test_no_token_is_401(self, client: AsyncClient) -> None:
        problem(await client.post(REPORTS, json=body("MTR1-ANON", new_ean())), 401, "auth/unauthenticated")

    @pytest.mark.parametrize(
        "method, path",
        [
            ("GET", "/mobile/v1/installs"),
            ("POST", "/mobile/v1/connections/claim"),
            ("GET", "/review/v1/queue"),
            ("GET", "/admin/v1/assets/MTR1-000001/label"),
        ],
    )
    async def test_a_system_token_reaches_nothing_else(
        self, client: AsyncClient, make: Factory, method: str, path: str
    ) -> None:
        r = await client.request(method, path, headers=system(make).headers, json={} if method == "POST" else None)
        problem(r, 403, "auth/forbidden")

    async def test_unguarded_routes_stay_closed_to_systems(self, make: Factory, settings) -> None:
        """The app-wide guard, on an app with a route no controller guard protects."""
        from litestar import Litestar, get

        from backend.auth import confine_systems, jwt_auth

        @get("/open", sync_to_thread=False)
        def open_route() -> str:
            return "ok"

        @get("/integrations/v1/ping", sync_to_thread=False)
        def ping() -> str:
            return "ok"

        app = Litestar([open_route, ping], on_app_init=[jwt_auth(settings).on_app_init], guards=[confine_systems])
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as c:
            assert (await c.get("/open", headers=make.party(Role.CUSTOMER).headers)).status_code == 200
            assert (await c.get("/open", headers=system(make).headers)).status_code == 403
            assert (await c.get("/integrations/v1/ping", headers=system(make).headers)).status_code == 200

    async def test_the_integration_api_is_documented(self, client: AsyncClient) -> None:
        spec = (await client.get("/schema/openapi.json")).json()
        post_ = spec["paths"]["/integrations/v1/device-reports"]["post"]
        assert post_["operationId"] == "SubmitDeviceReport" and post_["summary"]
        assert {"200", "201", "409", "422"} <= set(post_["responses"])
        assert post_["description"].startswith("A device reported in")
        get_ = spec["paths"]["/integrations/v1/device-reports/{report_id}"]["get"]
        assert get_["operationId"] == "GetDeviceReport"
