"""/admin/v1/connections: search (keyset by EAN), one connection with its assets and audit trail, and
settling a disputed claim (hand over or release, compare-and-set on the owner, audited)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from httpx import AsyncClient

from backend.events.tables import OutboxEvent
from backend.installs import repository as repo
from backend.principal import Role
from tests.factories import Factory, Party
from tests.mobile_api.helpers import BASE, create, problem

ADMIN = "/admin/v1/connections"


@pytest.fixture
def admin(make: Factory) -> Party:
    return make.party(Role.ADMIN)


async def _outbox(event_type: str, ean: str) -> list[dict[str, Any]]:
    """Outbox events of this type about the connection (filtered in Python: JSON queries differ per engine)."""
    rows = await OutboxEvent.select().where(OutboxEvent.event_type == event_type).output(load_json=True)
    return [r for r in rows if r["payload"].get("ean") == ean]


def _postcode() -> tuple[str, str]:
    """A postcode no other test uses, as stored and as a person types it."""
    digits = 1000 + uuid.uuid4().int % 9000
    letters = "".join(chr(65 + (uuid.uuid4().int >> s) % 26) for s in (0, 8))
    return f"{digits}{letters}", f"{digits} {letters.lower()}"


async def _search(client: AsyncClient, who: Party, **params: Any) -> httpx.Response:
    return await client.get(ADMIN, params=params, headers=who.headers)


async def _settle(client: AsyncClient, who: Party, ean: str, **body: Any) -> httpx.Response:
    return await client.post(f"{ADMIN}/{ean}/owner", json={"reason": "Verhuizing", **body}, headers=who.headers)


class TestSearch:
    async def test_by_postcode_as_typed_and_by_house_number(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        stored, typed = _postcode()
        eans = sorted([await make.connection(postcode=stored, house_number=n) for n in (1, 2, 2)])
        r = await _search(client, admin, postcode=typed)
        assert r.status_code == 200, r.text
        assert [c["ean"] for c in r.json()["items"]] == eans
        r = await _search(client, admin, postcode=stored, house_number=2)
        assert [c["house_number"] for c in r.json()["items"]] == [2, 2]

    async def test_pages_by_cursor_in_ean_order(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        stored, _ = _postcode()
        eans = sorted([await make.connection(postcode=stored) for _ in range(5)])
        seen, cursor = [], None
        for _ in range(5):
            r = await _search(client, admin, postcode=stored, limit=2, **({"cursor": cursor} if cursor else {}))
            seen += [c["ean"] for c in r.json()["items"]]
            if (cursor := r.json()["next_cursor"]) is None:
                break
        assert seen == eans

    async def test_by_owner_and_by_ean(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        owner = make.party(Role.CUSTOMER)
        eans = sorted([await make.connection(owner=owner.subject) for _ in range(2)])
        r = await _search(client, admin, owner=owner.subject)
        assert [(c["ean"], c["owner"]) for c in r.json()["items"]] == [(e, owner.subject) for e in eans]
        r = await _search(client, admin, ean=eans[1])
        assert [c["ean"] for c in r.json()["items"]] == [eans[1]]

    async def test_a_house_number_needs_a_postcode(self, client: AsyncClient, admin: Party) -> None:
        problem(await _search(client, admin, house_number=14), 400, "connection/search-needs-postcode")

    async def test_a_forged_cursor_is_400(self, client: AsyncClient, admin: Party) -> None:
        problem(await _search(client, admin, cursor="bm90LWFuLWVhbg"), 400, "request/invalid")

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER, Role.SPECIALIST, Role.SYSTEM])
    async def test_only_admins(self, client: AsyncClient, make: Factory, role: Role) -> None:
        who = make.party(role)
        ean = await make.connection()
        assert (await _search(client, who)).status_code == 403
        assert (await client.get(f"{ADMIN}/{ean}", headers=who.headers)).status_code == 403
        r = await _settle(client, who, ean, owner=who.subject, expected_owner=None)
        assert r.status_code == 403
        assert (await repo.connection_by_ean(ean)).owner_subject is None  # type: ignore[union-attr]


class TestSettleOwner:
    async def test_hand_a_disputed_connection_to_the_new_occupant(
        self, client: AsyncClient, make: Factory, admin: Party
    ) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        claim = {"ean": ean, "postcode": "6811AL", "house_number": 14}
        r = await client.post("/mobile/v1/connections/claim", json=claim, headers=new.headers)
        problem(r, 409, "connection/already-claimed")
        r = await _settle(client, admin, ean, owner=new.subject, expected_owner=old.subject)
        assert r.status_code == 200 and r.json()["owner"] == new.subject, r.text
        assert (await create(client, new, ean)).status_code == 201
        problem(await create(client, old, ean), 404, "connection/not-found")
        history = (await client.get(f"{ADMIN}/{ean}", headers=admin.headers)).json()["history"]
        assert [e["action"] for e in history][:2] == ["connection.reassigned", "connection.claim-refused"]
        assert history[0]["actor"] == admin.subject
        assert history[0]["detail"] == {
            "ean": ean,
            "customer_ref": new.subject,
            "previous_customer_ref": old.subject,
            "reason": "Verhuizing",
        }
        assert history[1]["actor"] == new.subject
        # Other systems hear the hand-over: the customers by reference, never the admin's reason.
        [event] = await _outbox("connection.reassigned", ean)
        assert event["payload"] | {"at": None} == {
            "ean": ean,
            "customer_ref": new.subject,
            "previous_customer_ref": old.subject,
            "actor_role": "admin",
            "at": None,
        }

    async def test_release_lets_the_next_occupant_claim(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        r = await _settle(client, admin, ean, owner=None, expected_owner=old.subject)
        assert r.status_code == 200 and r.json()["owner"] is None, r.text
        claim = {"ean": ean, "postcode": "6811AL", "house_number": 14}
        assert (await client.post("/mobile/v1/connections/claim", json=claim, headers=new.headers)).status_code == 201
        history = (await client.get(f"{ADMIN}/{ean}", headers=admin.headers)).json()["history"]
        assert [e["action"] for e in history] == ["connection.claimed", "connection.released"]
        [released] = await _outbox("connection.released", ean)
        assert released["payload"]["customer_ref"] == old.subject
        [claimed] = await _outbox("connection.claimed", ean)
        assert claimed["payload"]["customer_ref"] == new.subject

    async def test_an_owner_changed_meanwhile_is_409(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        r = await _settle(client, admin, ean, owner=new.subject, expected_owner=None)  # read before old claimed
        problem(r, 409, "connection/owner-changed")
        assert (await repo.connection_by_ean(ean)).owner_subject == old.subject  # type: ignore[union-attr]

    async def test_the_same_owner_again_changes_nothing(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        owner = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=owner.subject)
        r = await _settle(client, admin, ean, owner=owner.subject, expected_owner=owner.subject)
        assert r.status_code == 200 and r.json()["owner"] == owner.subject
        assert (await client.get(f"{ADMIN}/{ean}", headers=admin.headers)).json()["history"] == []
        assert await _outbox("connection.reassigned", ean) == []

    async def test_refused_while_an_install_is_open(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        old, new = make.party(Role.CUSTOMER), make.party(Role.CUSTOMER)
        ean = await make.connection(owner=old.subject)
        install_id = (await create(client, old, ean)).json()["id"]
        r = await _settle(client, admin, ean, owner=new.subject, expected_owner=old.subject)
        assert install_id in problem(r, 409, "connection/open-install")["detail"]
        assert (await client.get(f"{BASE}/{install_id}", headers=old.headers)).status_code == 200

    async def test_unknown_connection_is_404(self, client: AsyncClient, admin: Party) -> None:
        r = await _settle(client, admin, "871687000000000000", owner=None, expected_owner=None)
        problem(r, 404, "connection/not-found")
        problem(await client.get(f"{ADMIN}/871687000000000000", headers=admin.headers), 404, "connection/not-found")

    async def test_the_reason_is_required(self, client: AsyncClient, make: Factory, admin: Party) -> None:
        ean = await make.connection()
        r = await client.post(
            f"{ADMIN}/{ean}/owner", json={"owner": None, "expected_owner": None}, headers=admin.headers
        )
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), r.text
