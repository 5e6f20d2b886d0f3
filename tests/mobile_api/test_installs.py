"""/mobile/v1/installs: create, read, list and scan, with every error code they answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.catalog import load_catalog
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory, new_ean
from tests.mobile_api.helpers import BASE, codes, create, locate, new_install, problem, scan, submit


class TestCreateInstall:
    async def test_new_install_is_a_draft_with_everything_still_to_do(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject, capacity="1x25A")
        install_id = str(uuid.uuid4())
        r = await create(client, customer, ean, install_id=install_id)
        assert r.status_code == 201, r.text
        body = r.json()
        assert (body["id"], body["state"], body["asset_type"]) == (install_id, "draft", "smart_meter_1p")
        assert body["connection"]["ean"] == ean and body["connection"]["capacity"] == "1x25A"
        assert body["asset"] is None and body["location"] is None and body["photos"] == []
        assert body["reasons"] == [] and body["decisions"] == [] and body["retake_count"] == 0
        assert codes(body["next_actions"]) == [
            ("scan_label", None),
            ("upload_photo", "meter_label"),
            ("upload_photo", "meter_display"),
            ("upload_photo", "cabinet_overview"),
            ("enter_reading", "reading"),
            ("share_location", "location"),
            ("ask_for_help", None),
        ]

    async def test_same_id_and_body_again_returns_the_same_install(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        install_id = str(uuid.uuid4())
        first = await create(client, customer, ean, install_id=install_id)
        again = await create(client, customer, ean, install_id=install_id)
        assert (first.status_code, again.status_code) == (201, 200), again.text
        assert again.json() == first.json()
        listed = await client.get(BASE, headers=customer.headers)
        assert [i["id"] for i in listed.json()["items"]] == [install_id]

    async def test_concurrent_retries_create_one_install(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        install_id = str(uuid.uuid4())
        replies = await asyncio.gather(*(create(client, customer, ean, install_id=install_id) for _ in range(3)))
        assert sorted(r.status_code for r in replies) == [200, 200, 201], [r.text for r in replies]
        assert {r.json()["id"] for r in replies} == {install_id}

    async def test_same_id_with_another_body_conflicts(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        install_id = str(uuid.uuid4())
        assert (await create(client, customer, ean, install_id=install_id)).status_code == 201
        r = await create(client, customer, ean, "home_battery", install_id=install_id)
        problem(r, 409, "install/id-conflict")
        other_ean = await make.connection(owner=customer.subject)
        problem(await create(client, customer, other_ean, install_id=install_id), 409, "install/id-conflict")

    async def test_same_id_and_body_by_another_party_conflicts(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        stranger = make.party(Role.CUSTOMER)
        problem(await create(client, stranger, d.ean, install_id=d.id), 409, "install/id-conflict")

    async def test_unknown_asset_type(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        body = problem(await create(client, customer, ean, "toaster"), 422, "install/asset-type-unknown")
        assert "toaster" in body["detail"]

    async def test_connection_of_someone_else_or_unknown_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        others = await make.connection(owner=make.party(Role.CUSTOMER).subject)
        problem(await create(client, customer, others), 404, "connection/not-found")
        problem(await create(client, customer, new_ean()), 404, "connection/not-found")

    async def test_an_installer_starts_from_a_job_not_here(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        ean = await make.connection()
        await make.job(ean, installer=installer.subject)  # even with a job there
        body = {"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "smart_meter_1p"}
        problem(await client.post(BASE, json=body, headers=installer.headers), 403, "install/installer-needs-job")

    async def test_role_that_may_not_self_install_the_type_is_forbidden(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject, capacity="3x25A")
        for asset_type in ("smart_meter_3p", "home_battery_large", "ev_charger"):
            body = problem(await create(client, customer, ean, asset_type), 403, "install/self-install-not-allowed")
            label = load_catalog().types[asset_type].label_nl  # the catalog's words for it, not its id
            assert body["detail"] == f"Een klant mag een {label} niet zelf installeren."
        assert (await create(client, customer, ean, "home_battery")).status_code == 201

    async def test_type_that_does_not_fit_the_capacity(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject, capacity="3x25A")
        body = problem(await create(client, customer, ean, "smart_meter_1p"), 422, "install/capacity-mismatch")
        assert "3x25A" in body["detail"]


class TestClientTime:
    """An offline-made request carries the phone's own clock: kept as sent beside the server's time."""

    async def test_create_keeps_the_phones_clock_beside_the_servers(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        install_id = str(uuid.uuid4())
        phone_clock = "2026-05-12T09:43:10+02:00"  # far off the server's: kept as sent, not corrected
        r = await create(client, customer, ean, install_id=install_id, client_time=phone_clock)
        assert r.status_code == 201, r.text
        body = r.json()
        assert datetime.fromisoformat(body["client_time"]) == datetime.fromisoformat(phone_clock)
        assert abs(datetime.fromisoformat(body["created_at"]) - datetime.now(UTC)) < timedelta(minutes=5)
        # A retry sends its own, later clock: still the same install, with the first request's clock.
        again = await create(client, customer, ean, install_id=install_id, client_time="2026-05-12T10:00:00+02:00")
        assert again.status_code == 200 and again.json() == body

    async def test_without_it_there_is_none(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["client_time"] is None

    async def test_a_fix_shows_when_the_phone_sent_it_and_when_the_server_got_it(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        sent = datetime.now(UTC) - timedelta(hours=3)  # synced three hours after it was sent offline
        r = await locate(client, d, make.fix(client_time=sent.isoformat()))
        assert r.status_code == 200, r.text
        location = r.json()["location"]
        assert datetime.fromisoformat(location["client_time"]) == sent
        received = datetime.fromisoformat(location["received_at"])
        assert abs(received - datetime.now(UTC)) < timedelta(minutes=5) and received - sent > timedelta(hours=2)

    async def test_a_clock_outside_the_sane_range_is_refused_and_nothing_is_stored(
        self, client: AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        r = await locate(client, d, make.fix(client_time="1999-12-31T23:59:59Z"))
        assert "'client_time'" in problem(r, 422, "request/timestamp-out-of-range")["detail"]
        assert (await client.get(d.url, headers=d.who.headers)).json()["location"] is None


class TestCreateInstallBody:
    async def test_server_owned_fields_are_refused_by_name(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        for field, value in (
            ("state", "approved"),
            ("reasons", []),
            ("owner_subject", customer.subject),
            ("decision", "approved"),
            ("version", 5),
            ("decided_at", "2026-01-01T00:00:00Z"),
            ("retake_count", 0),
            ("customer_subject", "someone-else"),
        ):
            body = problem(await create(client, customer, ean, **{field: value}), 422, "request/server-owned-field")
            assert f"'{field}'" in body["detail"]
        listed = await client.get(BASE, headers=customer.headers)
        assert listed.json()["items"] == []

    async def test_unknown_fields_and_invalid_values_are_bad_requests(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        problem(await create(client, customer, ean, colour="blue"), 400, "request/invalid")
        problem(await create(client, customer, ean[:-1]), 400, "request/invalid")
        problem(await create(client, customer, ean, install_id="not-a-uuid"), 400, "request/invalid")
        problem(await create(client, customer, ean, "Smart Meter"), 400, "request/invalid")

    async def test_only_customers_and_installers_with_a_token(self, client: AsyncClient, make: Factory) -> None:
        ean = await make.connection()
        body = {"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "smart_meter_1p"}
        problem(await client.post(BASE, json=body), 401, "auth/unauthenticated")
        for role in (Role.SPECIALIST, Role.ADMIN):
            problem(await client.post(BASE, json=body, headers=make.party(role).headers), 403, "auth/forbidden")


class TestGetInstall:
    async def test_owner_and_the_jobs_installer_see_it_others_do_not(self, client: AsyncClient, make: Factory) -> None:
        customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=customer.subject)
        created = (await create(client, installer, ean)).json()  # from the installer's job
        url = f"{BASE}/{created['id']}"
        r = await client.get(url, headers=installer.headers)
        assert r.status_code == 200 and r.json() == created, r.text
        # The owner sees the same install; its steps are the installer's, theirs is to wait.
        r = await client.get(url, headers=customer.headers)
        assert r.status_code == 200, r.text
        seen = r.json()
        assert [a["code"] for a in seen.pop("next_actions")] == ["wait"]
        assert seen == {k: v for k, v in created.items() if k != "next_actions"}
        for stranger in (make.party(Role.CUSTOMER), make.party(Role.INSTALLER)):
            problem(await client.get(url, headers=stranger.headers), 404, "install/not-found")
        problem(await client.get(f"{BASE}/{uuid.uuid4()}", headers=customer.headers), 404, "install/not-found")


class TestListInstalls:
    async def test_pages_newest_first_with_a_cursor(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        made = [(await create(client, customer, ean)).json()["id"] for _ in range(5)]
        await create(client, make.party(Role.CUSTOMER), await make.connection())  # someone else's: never listed
        pages, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            r = await client.get(BASE, params=params, headers=customer.headers)
            assert r.status_code == 200, r.text
            pages.append(r.json()["items"])
            cursor = r.json()["next_cursor"]
            if cursor is None:
                break
        assert [len(p) for p in pages] == [2, 2, 1]
        items = [i for page in pages for i in page]
        assert sorted(i["id"] for i in items) == sorted(made)
        order = [(datetime.fromisoformat(i["created_at"]), uuid.UUID(i["id"])) for i in items]
        assert order == sorted(order, reverse=True)
        assert all(set(i) == {"id", "state", "asset_type", "reasons", "created_at", "updated_at"} for i in items)

    async def test_installs_created_in_the_same_instant_are_each_listed_once(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        connection = await repo.connection_by_ean(await make.connection(owner=customer.subject))
        assert connection is not None
        at = datetime.now(UTC).replace(microsecond=0)
        ids = [uuid.uuid4() for _ in range(5)]
        for install_id in ids:
            await repo.insert_install(
                {
                    "id": install_id,
                    "connection": connection.id,
                    "asset_type": "smart_meter_1p",
                    "state": "draft",
                    "created_by": customer.subject,
                    "created_by_role": "customer",
                    "request_hash": install_id.hex,
                    "customer_subject": customer.subject,
                    "reasons": [],
                    "created_at": at,
                    "updated_at": at,
                }
            )
        listed, cursor = [], None
        for _ in range(5):
            r = await client.get(
                BASE, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=customer.headers
            )
            listed += [i["id"] for i in r.json()["items"]]
            if (cursor := r.json()["next_cursor"]) is None:
                break
        assert listed == [str(i) for i in sorted(ids, reverse=True)]

    async def test_state_filter(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        other = (await create(client, d.who, d.ean)).json()["id"]
        assert (await submit(client, d)).json()["state"] == "needs_retake"  # nothing gathered yet
        for state, expected in (("needs_retake", [d.id]), ("draft", [other]), ("approved", [])):
            r = await client.get(BASE, params={"state": state}, headers=d.who.headers)
            assert r.status_code == 200, r.text
            assert [(i["id"], i["state"]) for i in r.json()["items"]] == [(i, state) for i in expected]
        problem(await client.get(BASE, params={"state": "lost"}, headers=d.who.headers), 400, "request/invalid")

    async def test_bad_cursor_and_limit_are_bad_requests(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        for params in (
            {"cursor": "not a cursor!"},
            {"cursor": "bm90LWEtZGF0ZXxub3QtYS11dWlk"},
            {"limit": 0},
            {"limit": 101},
        ):
            problem(await client.get(BASE, params=params, headers=customer.headers), 400, "request/invalid")
        r = await client.get(BASE, params={"cursor": "not a cursor!"}, headers=customer.headers)
        assert "de cursor is ongeldig" in problem(r, 400, "request/invalid")["detail"]  # in words, in Dutch


class TestScanLabel:
    async def test_signed_label_of_a_free_asset_is_linked(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        r = await scan(client, d, f"  {payload}\n")
        assert r.status_code == 200, r.text
        assert r.json()["asset"] == {"serial": serial, "asset_type": "smart_meter_1p", "status": "in_stock"}
        assert ("scan_label", None) not in codes(r.json()["next_actions"])

    async def test_every_wrong_label_has_its_own_code(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        _, good = await make.asset()
        signature = good[-20:]
        forged = good[:-20] + ("B" if signature[0] == "A" else "A") + signature[1:]
        unknown = qr.sign(f"MTR1-NOPE{uuid.uuid4().hex[:8].upper()}", settings.qr_keys, settings.qr_active_key)
        cases = [
            ("hello", "qr/malformed"),
            (good.lower(), "qr/malformed"),
            ("SI1:ZZ:MTR1-000001:AAAAAAAAAAAAAAAAAAAA", "qr/unknown-key"),
            (forged, "qr/forged"),
            (unknown, "qr/unknown-asset"),
            ((await make.asset(status="installed"))[1], "qr/asset-installed-elsewhere"),
            ((await make.asset(status="retired"))[1], "qr/asset-unavailable"),
            ((await make.asset("home_battery"))[1], "qr/type-mismatch"),
            ((await make.asset("smart_meter_3p"))[1], "install/capacity-mismatch"),
        ]
        for payload, code in cases:
            problem(await scan(client, d, payload), 422, code)
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["asset"] is None and view["version"] == d.view["version"]

    async def test_install_of_another_party_is_not_found(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        _, payload = await make.asset()
        stranger = make.party(Role.CUSTOMER)
        r = await client.post(f"{d.url}/scan", json={"payload": payload}, headers=stranger.headers)
        problem(r, 404, "install/not-found")
        assert (await client.get(d.url, headers=d.who.headers)).json()["asset"] is None

    async def test_scan_after_submit_to_review_is_a_state_conflict(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        assert (await client.post(f"{d.url}/help", json={}, headers=d.who.headers)).json()["state"] == "in_review"
        body = problem(await scan(client, d, (await make.asset())[1]), 409, "install/state-conflict")
        assert body["detail"] == "Dit kan niet in de huidige status (bij een specialist) van de installatie."


class TestLanguage:
    async def test_dutch_by_default_english_on_request(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        dutch = problem(await create(client, customer, ean, "toaster"), 422, "install/asset-type-unknown")
        assert dutch["detail"] == "Onbekend type installatie: 'toaster'."
        en = {**customer.headers, "Accept-Language": "en-GB,en;q=0.9"}
        r = await client.post(
            BASE, json={"id": str(uuid.uuid4()), "connection_ean": ean, "asset_type": "toaster"}, headers=en
        )
        assert problem(r, 422, "install/asset-type-unknown")["detail"] == "Unknown asset type: 'toaster'."
        assert r.headers["content-language"] == "en"

    async def test_problem_header_names_the_language(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        r = await client.get(f"{BASE}/{uuid.uuid4()}", headers=customer.headers)
        assert problem(r, 404, "install/not-found")["detail"] == "Deze installatie is niet gevonden."
        assert r.headers["content-language"] == "nl"

    async def test_next_actions_and_status_follow_the_language(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        dutch = (await client.get(d.url, headers=d.who.headers)).json()
        english = (await client.get(d.url, headers={**d.who.headers, "Accept-Language": "en"})).json()
        assert codes(dutch["next_actions"]) == codes(english["next_actions"])
        assert dutch["next_actions"][0]["text"] == "Scan het QR-label van het apparaat."
        assert english["next_actions"][0]["text"] == "Scan the asset's QR label."
        assert english["next_actions"][1]["text"] == (
            "Upload a photo of the meter label with the QR code clearly visible."
        )
        assert dutch["status_text"].startswith("U bent bezig") and english["status_text"].startswith("In progress")
