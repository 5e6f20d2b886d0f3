"""Who may ask, answer and upload in a conversation on a request for information, per role."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, claimed, decide, decided, get_case, helped, install_of
from tests.mobile_api.helpers import Draft, create, problem, ready_install, upload
from tests.review.test_info_requests import ANSWER, LABEL, QUESTION, asked, message


class TestAnswering:
    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER])
    async def test_others_do_not_find_the_install(self, client: AsyncClient, make: Factory, role: Role) -> None:
        d, _, _ = await asked(client, make, extra_photo=LABEL, question=QUESTION)
        slot = (await install_of(client, d))["next_actions"][1]["subject"]  # upload_extra_photo's
        other = make.party(role)
        problem(await message(client, d, ANSWER, who=other), 404, "install/not-found")
        r = await client.put(
            f"{d.url}/photos/{slot}",
            content=make.photo("cabinet_overview"),
            headers={**other.headers, "Content-Type": "image/jpeg"},
        )
        problem(r, 404, "install/not-found")
        seen = await install_of(client, d)
        assert seen["state"] == "needs_retake" and ("answer_question", None) in [
            (a["code"], a["subject"]) for a in seen["next_actions"]
        ]

    @pytest.mark.parametrize("role", [Role.SPECIALIST, Role.ADMIN])
    async def test_staff_cannot_answer_for_the_customer(self, client: AsyncClient, make: Factory, role: Role) -> None:
        d, _, _ = await asked(client, make, question=QUESTION)
        problem(await message(client, d, ANSWER, who=make.party(role)), 403, "auth/forbidden")
        assert (await install_of(client, d))["state"] == "needs_retake"

    async def test_without_a_token(self, client: AsyncClient, make: Factory) -> None:
        d, _, _ = await asked(client, make, question=QUESTION)
        r = await client.post(f"{d.url}/messages", json={"text": ANSWER})
        problem(r, 401, "auth/unauthenticated")

    async def test_on_an_installers_install_only_the_installer_answers(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer, installer = make.party(Role.CUSTOMER), make.party(Role.INSTALLER)
        ean = await make.connection(owner=customer.subject)
        r = await create(client, installer, ean)
        assert r.status_code == 201, r.text
        d = Draft(who=installer, id=r.json()["id"], ean=ean, asset_type="smart_meter_1p")
        await helped(client, d)
        spec = make.party(Role.SPECIALIST)
        await decided(client, spec, await case_id_of(d.id), "request_info", "more_information", question=QUESTION)
        # The connection's owner sees the install and the question, but the installer was asked: theirs to answer.
        as_owner = Draft(who=customer, id=d.id, ean=ean, asset_type=d.asset_type)
        seen = await install_of(client, as_owner, **{"Accept-Language": "en"})
        assert f"The specialist asks: {QUESTION}" in [e["text"] for e in seen["timeline"]]
        assert [(a["code"], a["subject"]) for a in seen["next_actions"]] == [("wait", None)]
        problem(await message(client, d, ANSWER, who=customer), 403, "message/not-creator")
        r = await message(client, d, ANSWER)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "in_review"

    async def test_a_slot_nobody_asked_for(self, client: AsyncClient, make: Factory) -> None:
        """An extra slot no open request of this install asks for is refused as not asked (in words a customer
        reads), whoever's request the number may name; a slot of no kind at all stays unknown."""
        d, _, _ = await asked(client, make, question=QUESTION)
        body = problem(await upload(client, d, "extra_999999", make.photo("cabinet_overview")), 422, "photo/not-asked")
        assert "extra_999999" not in body["detail"]
        d2 = await ready_install(client, make)
        problem(await upload(client, d2, "extra_1", make.photo("cabinet_overview")), 422, "photo/not-asked")
        problem(await upload(client, d2, "extras_1", make.photo("cabinet_overview")), 422, "photo/slot-unknown")


class TestAsking:
    async def test_only_the_lease_holder_asks(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        holder, other = make.party(Role.SPECIALIST), make.party(Role.SPECIALIST)
        view = await claimed(client, holder, case_id)
        body = {"question": QUESTION, "extra_photo": LABEL}
        r = await decide(client, other, case_id, "request_info", "more_information", view["version"], **body)
        problem(r, 409, "review/not-lease-holder")
        for role in (Role.CUSTOMER, Role.INSTALLER, Role.ADMIN):
            r = await decide(client, make.party(role), case_id, "request_info", "more_information", 1, **body)
            problem(r, 403, "auth/forbidden")
        case = await get_case(client, holder, case_id)
        assert case["state"] == "open" and case["info_requests"] == []
        assert (await install_of(client, d))["state"] == "in_review"
