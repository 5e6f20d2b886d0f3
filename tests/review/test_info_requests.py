"""A conversation on a request for information, through HTTP: a specialist asks for an extra photo and a
question -> the customer's next actions say exactly that -> they answer and upload -> the case is back in
the queue with the answers on it; an unchanged resubmit is refused; internal notes never reach them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from httpx import AsyncClient, Response

from backend.principal import Role
from backend.review.config import load_review_config
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, claim, claimed, decide, decided, get_case, helped, install_of, whole_queue
from tests.helpers.webhooks import events_of
from tests.mobile_api.helpers import Draft, codes, problem, ready_install, submit, upload
from tests.uploads.helpers import append, create_ietf

NOTE = "intern-7f3a: klant klinkt onzeker"
MESSAGE = "We willen nog iets zien voordat we beslissen."
LABEL = "een foto van de aardlekschakelaar"
QUESTION = "Wanneer is de meter geplaatst?"
ANSWER = "Op 12 mei, door mijzelf."
EN = {"Accept-Language": "en"}
BLURRED = {"blur_radius": 12}


async def message(client: AsyncClient, d: Draft, text: str, who: Party | None = None, **headers: str) -> Response:
    who = who or d.who
    return await client.post(f"{d.url}/messages", json={"text": text}, headers={**who.headers, **headers})


async def asked(client: AsyncClient, make: Factory, **ask: Any) -> tuple[Draft, int, Party]:
    """A complete install a customer sent to a person, and a specialist's request for information on it."""
    d = await ready_install(client, make)
    await helped(client, d, "Klopt dit zo?")
    case_id = await case_id_of(d.id)
    spec = make.party(Role.SPECIALIST)
    case = await decided(
        client, spec, case_id, "request_info", "more_information", note=NOTE, message_to_customer=MESSAGE, **ask
    )
    assert case["state"] == "waiting_customer" and case["claimed_by"] is None
    return d, case_id, spec


def _texts(view: dict[str, Any]) -> list[str]:
    return [e["text"] for e in view["timeline"]]


def _never_internal(text: str, spec: Party) -> None:
    assert NOTE not in text and spec.subject not in text


class TestExtraPhotoAndQuestion:
    async def test_asked_answered_and_back_in_the_queue(self, client: AsyncClient, make: Factory) -> None:
        d, case_id, spec = await asked(client, make, extra_photo=LABEL, question=QUESTION)
        case = await get_case(client, spec, case_id)
        [request] = case["info_requests"]
        slot = request["photo_slot"]
        assert (request["photo_label"], request["question"], request["answer"]) == (LABEL, QUESTION, None)
        assert slot == f"extra_{request['id']}" and request["asked_by"] == spec.subject
        [event] = [e for e in await events_of(d.id) if e["event_type"] == "install.info_requested"]
        assert event["payload"]["photo_label"] == LABEL and event["payload"]["question_asked"] is True
        assert "question" not in event["payload"] and "message" not in event["payload"]  # no message leaves
        assert QUESTION not in str(event["payload"])
        assert event["payload"]["photo_slot"] == slot and event["payload"]["asked_of"] == d.who.subject
        assert event["payload"]["case_id"] == case_id and NOTE not in str(event["payload"])
        assert (event["payload"]["ean"], event["payload"]["customer_ref"]) == (d.ean, d.who.subject)

        # The customer's next actions say exactly what was asked, in either language; no submit.
        seen = await install_of(client, d)
        assert codes(seen["next_actions"]) == [
            ("specialist_request", None),
            ("upload_extra_photo", slot),
            ("answer_question", None),
            ("ask_for_help", None),
        ]
        assert seen["next_actions"][1]["text"] == f"Upload de extra foto die de specialist vraagt: {LABEL}."
        assert seen["next_actions"][2]["text"] == f"Beantwoord de vraag van de specialist: {QUESTION}"
        en = await install_of(client, d, **EN)
        assert en["next_actions"][1]["text"] == f"Upload the extra photo the specialist asks for: {LABEL}."
        assert en["next_actions"][2]["text"] == f"Answer the specialist's question: {QUESTION}"
        assert f"The specialist asks for an extra photo: {LABEL}. The specialist asks: {QUESTION}" in _texts(en)

        # A submit now would skip what was asked.
        body = problem(await submit(client, d), 409, "install/info-outstanding")
        assert body["missing"] == ["photo", "answer"]

        # The answer: the question is done, the photo still awaited.
        r = await message(client, d, ANSWER)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "needs_retake"
        assert codes(r.json()["next_actions"])[1:3] == [("upload_extra_photo", slot), ("ask_for_help", None)]
        assert f"U antwoordde: {ANSWER}" in _texts(r.json())
        again = await message(client, d, ANSWER)  # a retry whose reply was lost: the same answer, once
        assert again.status_code == 200 and again.json()["version"] == r.json()["version"]
        problem(await message(client, d, "Toch gisteren."), 409, "message/nothing-asked")

        # A blurred extra photo gets the checks of a free slot and asks for a retake of itself.
        r = await upload(client, d, slot, make.photo("cabinet_overview", **BLURRED))
        assert r.status_code == 201, r.text
        checks = {c["check"] for c in r.json()["photo"]["checks"]}
        assert checks >= {"resolution", "sharpness", "capture_time", "reuse", "distinct_slots"}
        assert "label_qr" not in checks
        seen = await install_of(client, d)
        assert seen["state"] == "needs_retake"
        assert ("retake_photo", slot) in codes(seen["next_actions"])
        assert ("upload_extra_photo", slot) not in codes(seen["next_actions"])

        # A good one is the last thing asked: back to the specialist without a submit.
        r = await upload(client, d, slot, make.photo("cabinet_overview"))
        assert r.status_code == 201, r.text
        seen = await install_of(client, d)
        assert seen["state"] == "in_review" and seen["customer_message"] is None
        assert codes(seen["next_actions"]) == [("wait", None)]
        assert seen["decision_expected"] is not None
        texts = _texts(seen)
        assert f"Foto toegevoegd: {LABEL}." in texts
        assert texts[-1] == "Alles wat de specialist vroeg is binnen: de specialist kijkt weer."

        # On the case: open again, claimable, due per the SLA counted from the last answer, the thread on it.
        case = await get_case(client, spec, case_id)
        assert case["state"] == "open" and case["claimed_by"] is None
        [provided] = [e for e in case["events"] if e["action"] == "info.provided"]
        given_at = datetime.fromisoformat(provided["created_at"])
        assert datetime.fromisoformat(case["due_at"]) == load_review_config().due_at(given_at, case["reasons"])
        [request] = case["info_requests"]
        assert (request["answer"], request["answered_by"]) == (ANSWER, d.who.subject)
        assert request["closed_at"] is not None and len(request["photo_ids"]) == 2  # the blurred one too
        assert case_id in [i["case_id"] for i in await whole_queue(client, spec, reason="human_requested")]
        assert (await claim(client, make.party(Role.SPECIALIST), case_id)).status_code == 200
        problem(await upload(client, d, slot, make.photo("cabinet_overview")), 409, "install/state-conflict")

        # Internal notes and who the specialist is never reach the customer, in any view.
        for headers in ({}, EN):
            _never_internal((await client.get(d.url, headers={**d.who.headers, **headers})).text, spec)
        _never_internal((await client.get("/mobile/v1/installs", headers=d.who.headers)).text, spec)
        assert NOTE in str(case["decisions"])  # specialists do see it

    async def test_question_only_returns_on_the_answer(self, client: AsyncClient, make: Factory) -> None:
        d, case_id, spec = await asked(client, make, question=QUESTION)
        seen = await install_of(client, d)
        assert codes(seen["next_actions"]) == [
            ("specialist_request", None),
            ("answer_question", None),
            ("ask_for_help", None),
        ]
        r = await message(client, d, ANSWER, **EN)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "in_review"
        assert f"You answered: {ANSWER}" in _texts(r.json())
        assert (await get_case(client, spec, case_id))["state"] == "open"
        again = await message(client, d, ANSWER)  # the retry after it went back: still the same answer
        assert again.status_code == 200 and again.json()["state"] == "in_review"
        events = await events_of(d.id)
        assert [e["event_type"] for e in events].count("install.escalated") == 2  # by help, then by the answer


class TestResumableExtraPhoto:
    async def test_an_extra_photo_in_two_requests(self, client: AsyncClient, make: Factory) -> None:
        d, case_id, spec = await asked(client, make, extra_photo=LABEL)
        slot = codes((await install_of(client, d))["next_actions"])[1][1]
        data = make.photo("cabinet_overview")
        half = len(data) // 2
        created = await create_ietf(client, d, slot, data[:half])  # the connection drops after half
        assert created.status_code == 201, created.text
        assert (await install_of(client, d))["state"] == "needs_retake"
        r = await append(client, created.headers["location"], d.who.headers, half, data[half:], True)
        assert r.status_code == 201, r.text
        assert r.json()["photo"]["slot"] == slot and r.json()["state"] == "in_review"
        [request] = (await get_case(client, spec, case_id))["info_requests"]
        assert request["photo_ids"] == [r.json()["photo"]["id"]] and request["closed_at"] is not None


class TestResubmit:
    async def test_unchanged_resubmit_is_refused(self, client: AsyncClient, make: Factory) -> None:
        d, case_id, spec = await asked(client, make)  # a request in words only: retake something
        seen = await install_of(client, d)
        assert codes(seen["next_actions"]) == [("specialist_request", None), ("ask_for_help", None)]
        problem(await submit(client, d), 409, "install/unchanged-resubmit")
        body = problem(await submit(client, d, **EN), 409, "install/unchanged-resubmit")
        assert body["detail"].startswith("Nothing changed since the specialist asked for more information")
        assert (await get_case(client, spec, case_id))["state"] == "waiting_customer"

        r = await upload(client, d, "cabinet_overview", make.photo("cabinet_overview"))
        assert r.status_code == 201, r.text
        assert ("submit", None) in codes((await install_of(client, d))["next_actions"])
        r = await submit(client, d)
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "in_review"
        assert (await get_case(client, spec, case_id))["state"] == "open"


class TestNothingAsked:
    async def test_a_message_without_a_question_is_refused(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        body = problem(await message(client, d, "Hallo?"), 409, "message/nothing-asked")
        assert "Vraag dan om hulp" in body["detail"]
        await helped(client, d)
        problem(await message(client, d, "Hallo?", **EN), 409, "message/nothing-asked")
        d2, _, _ = await asked(client, make, extra_photo=LABEL)  # a photo asked for, no question
        problem(await message(client, d2, "Hier is hij"), 409, "message/nothing-asked")

    async def test_asking_goes_only_with_request_info(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make)
        await helped(client, d)
        case_id = await case_id_of(d.id)
        spec = make.party(Role.SPECIALIST)
        view = await claimed(client, spec, case_id)
        r = await decide(client, spec, case_id, "reject", "not_eligible", view["version"], question=QUESTION)
        problem(r, 422, "review/ask-needs-request-info")
        assert (await get_case(client, spec, case_id))["state"] == "open"
