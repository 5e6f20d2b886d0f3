"""The portal's resumable photo path (backend/portal/uploads.py) without a browser: chunks on the customer's
portal session that continue from the server's offset after a cut and end on the form path's page (the guide's
checks; for a specialist's extra photo, the install's page after the answer, the request settled as the form
settles it); who may do what (only the customer's own install and a slot it asks for, never a staff session,
never without the CSRF header), each refusal problem+json in words; the API's photo limit, not the form's 32 MB."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from backend.console import sessions
from backend.portal.access import COOKIE
from backend.portal.guide import PHOTO_FORM_BYTES
from backend.principal import Principal, Role
from tests.factories import Factory
from tests.helpers.static import hashed
from tests.mobile_api.helpers import Draft, new_install, problem
from tests.portal.helpers import form, portal_headers
from tests.portal.test_portal_answer import ASKED, _asked, _send
from tests.portal.test_portal_pages import _portal

SLOT = "meter_label"
EN = {"Accept-Language": "en"}
PARTIAL = {"Content-Type": "application/partial-upload"}
SCRIPT = {"Accept": "application/problem+json, application/json"}  # as upload.js asks: a refusal as data


async def _create(
    client: httpx.AsyncClient, d: Draft, headers: dict[str, str], size: int, slot: str = SLOT
) -> httpx.Response:
    extra = {"Content-Type": "image/jpeg", "Upload-Length": str(size), "Upload-Complete": "?0"}
    return await client.post(f"/portal/installs/{d.id}/uploads/{slot}", headers={**SCRIPT, **headers, **extra})


async def _append(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], offset: int, body: bytes, last: bool
) -> httpx.Response:
    fields = {**PARTIAL, "Upload-Offset": str(offset), "Upload-Complete": "?1" if last else "?0"}
    return await client.patch(url, headers={**SCRIPT, **headers, **fields}, content=body)


async def _photos(client: httpx.AsyncClient, d: Draft) -> list[dict[str, object]]:
    return (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()["photos"]


class TestResumablePhoto:
    async def test_a_cut_continues_from_the_servers_offset_and_ends_in_the_forms_checks(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        serial, payload = await make.asset()
        headers = await portal_headers(client, d.who.subject)
        guide = f"/portal/installs/{d.id}/guide"
        await client.post(f"{guide}/scan", headers=headers, data=form(headers, payload=payload))
        page = await client.get(guide, headers=headers)  # the photo step offers the resumable path to the script
        assert f'data-upload="/portal/installs/{d.id}/uploads/{SLOT}"' in page.text
        assert f'<script src="{hashed("/portal/static/upload.js")}" defer></script>' in page.text
        assert 'data-retrying="Verbinding weg, we proberen het opnieuw… (poging {attempt} van {tries})"' in page.text
        english = await client.get(guide, headers={**headers, **EN})  # the script's words come with the page
        assert 'data-retrying="Connection lost, we are trying again… (try {attempt} of {tries})"' in english.text
        data = make.photo(SLOT, payload=payload, serial=serial, blur_radius=12)
        r = await _create(client, d, headers, len(data))
        assert r.status_code == 201, r.text
        url = r.headers["Location"]
        assert url.startswith("/portal/uploads/") and r.headers["Upload-Offset"] == "0"

        half = len(data) // 2
        r = await _append(client, url, headers, 0, data[:half], last=False)
        assert r.status_code == 204 and r.headers["Upload-Offset"] == str(half)
        # The script lost that answer and sends the chunk again from 0: the server says where it is.
        body = problem(await _append(client, url, headers, 0, data[:half], last=False), 409, "upload/offset-mismatch")
        assert body["expected-offset"] == half
        r = await client.head(url, headers=headers)
        assert r.status_code == 204 and r.headers["Upload-Offset"] == str(half) and r.headers["Upload-Complete"] == "?0"
        r = await _append(client, url, headers, half, data[half:], last=True)
        assert r.status_code == 200, r.text
        sent = r.json()
        assert sent["page"] == f"{guide}?msg=photo_checked&photo={sent['photo']}#step"
        assert r.headers["Upload-Complete"] == "?1" and r.headers["Page-Location"] == sent["page"]
        # An offset query after a lost final answer finds the same page.
        assert (await client.head(url, headers=headers)).headers["Page-Location"] == sent["page"]

        # The form path with the same bytes is the same photo and the same page of checks.
        files = {"photo": ("label.jpg", data, "image/jpeg")}
        r = await client.post(f"{guide}/photos/{SLOT}", headers=headers, data=form(headers), files=files)
        assert r.status_code == 303 and r.headers["location"] == sent["page"]
        page = await client.get(sent["page"], headers={**headers, **EN})
        assert "The checks of your photo" in page.text and "Not good yet" in page.text
        assert re.search(r"\d of \d+ checks are good", page.text) and "Retake the photo" in page.text
        photos = await _photos(client, d)
        assert [p["id"] for p in photos] == [sent["photo"]]
        assert any(c["status"] != "pass" for c in photos[0]["checks"])  # type: ignore[union-attr]

    async def test_the_limit_is_the_apis_photo_limit_not_the_forms(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        async with _portal({"MAX_PHOTO_BYTES": "4096"}) as portal:
            headers = await portal_headers(portal, d.who.subject)
            problem(await _create(portal, d, headers, 4097), 413, "photo/too-large")
            r = await _create(portal, d, headers, 4096)
            assert r.status_code == 201 and "max-size=4096" in r.headers["Upload-Limit"]
            url = r.headers["Location"]
            problem(await _append(portal, url, headers, 0, b"x" * 4097, last=False), 400, "upload/inconsistent-length")
        above_the_form = PHOTO_FORM_BYTES + 1  # the form's bound (the CSRF middleware reads a form) is not this path's
        async with _portal({"MAX_PHOTO_BYTES": str(2 * PHOTO_FORM_BYTES)}) as portal:
            headers = await portal_headers(portal, d.who.subject)
            r = await _create(portal, d, headers, above_the_form)
            assert r.status_code == 201 and r.headers["Upload-Length"] == str(above_the_form)


class TestRefusals:
    async def test_only_the_customers_own_install_and_upload(self, client: httpx.AsyncClient, make: Factory) -> None:
        theirs = await new_install(client, make)
        data = make.photo(SLOT)
        r = await _create(client, theirs, await portal_headers(client, theirs.who.subject), len(data))
        url = r.headers["Location"]
        other = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        problem(await _create(client, theirs, {**other, **EN}, len(data)), 404, "install/not-found")
        assert (await client.head(url, headers=other)).status_code == 404  # a HEAD's answer has no body
        problem(await _append(client, url, other, 0, data, last=True), 404, "upload/not-found")
        assert await _photos(client, theirs) == []

    async def test_a_staff_session_or_none_is_refused_in_words(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        csrf = (await client.get("/portal/login")).cookies["csrftoken"]
        now = datetime.now(UTC)
        for role in (Role.SPECIALIST, Role.INSTALLER, Role.ADMIN):  # a staff session in the portal's cookie
            staff_member = Principal(subject=f"staff-{role.value}", role=role)
            session = await sessions.open_session(staff_member, now, now + timedelta(hours=1))
            staff = {"Cookie": f"csrftoken={csrf}; {COOKIE}={session}", "x-csrftoken": csrf}
            body = problem(await _create(client, d, staff, 10), 403, "portal/signed-out")
            assert "Log opnieuw in" in body["detail"]  # Dutch by default
        none = {"Cookie": f"csrftoken={csrf}", "x-csrftoken": csrf, **EN}
        body = problem(await _create(client, d, none, 10), 403, "portal/signed-out")
        assert body["detail"].startswith("You are not signed in as a customer")

    async def test_without_the_csrf_header_nothing_moves(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        no_token = {"Cookie": headers["Cookie"]}
        problem(await _create(client, d, no_token, 10), 403, "request/form-expired")
        # A browser's form (no Accept for problem+json) gets the portal's page in words instead.
        r = await client.post(f"/portal/installs/{d.id}/uploads/{SLOT}", headers=no_token)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        data = make.photo(SLOT)
        url = (await _create(client, d, headers, len(data))).headers["Location"]
        problem(await _append(client, url, no_token, 0, data, last=True), 403, "request/form-expired")
        assert (await client.head(url, headers=headers)).headers["Upload-Offset"] == "0"
        assert await _photos(client, d) == []

    async def test_a_slot_the_install_does_not_ask_for(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        headers = await portal_headers(client, d.who.subject)
        body = problem(await _create(client, d, {**headers, **EN}, 10, slot="selfie"), 422, "photo/slot-unknown")
        assert "selfie" in body["detail"]
        text = {**SCRIPT, **headers, "Content-Type": "text/plain", "Upload-Length": "10", "Upload-Complete": "?0"}
        r = await client.post(f"/portal/installs/{d.id}/uploads/{SLOT}", headers=text)
        problem(r, 415, "photo/unsupported-type")


async def _asked_slot(client: httpx.AsyncClient, d: Draft, headers: dict[str, str]) -> str:
    """The slot the install's page names for the asked photo's script (the request's own, `extra_<id>`)."""
    page = await client.get(f"/portal/installs/{d.id}", headers=headers)
    assert f'<script src="{hashed("/portal/static/upload.js")}" defer></script>' in page.text
    found = re.search(rf'data-upload="/portal/installs/{d.id}/uploads/(extra_\d+)" data-install="{d.id}"', page.text)
    assert found is not None, page.text
    return found.group(1)


async def _in_chunks(client: httpx.AsyncClient, d: Draft, headers: dict[str, str], slot: str, data: bytes) -> str:
    """The photo in two chunks into `slot`, the first answer lost (the offset asked): the page it ends on."""
    r = await _create(client, d, headers, len(data), slot)
    assert r.status_code == 201, r.text
    url, half = r.headers["Location"], len(data) // 2
    assert (await _append(client, url, headers, 0, data[:half], last=False)).status_code == 204
    r = await client.head(url, headers=headers)
    assert r.headers["Upload-Offset"] == str(half) and "Page-Location" not in r.headers
    r = await _append(client, url, headers, half, data[half:], last=True)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert r.headers["Page-Location"] == sent["page"]
    assert (await client.head(url, headers=headers)).headers["Page-Location"] == sent["page"]  # a lost answer's
    return str(sent["page"])


class TestAskedPhoto:
    """The extra photo a specialist asks for (backend/portal/answer.py), in chunks into the request's own slot."""

    async def test_it_settles_the_request_as_the_form_does(self, client: httpx.AsyncClient, make: Factory) -> None:
        chunked, posted = await _asked(client, make, extra_photo=ASKED), await _asked(client, make, extra_photo=ASKED)
        headers = await portal_headers(client, chunked.who.subject)
        slot = await _asked_slot(client, chunked, headers)
        data = make.photo("cabinet_overview")
        page = await _in_chunks(client, chunked, headers, slot, data)
        form_headers = await portal_headers(client, posted.who.subject)
        assert page == f"/portal/installs/{chunked.id}?msg=answer_sent"
        assert await _send(client, posted, form_headers, data) == f"/portal/installs/{posted.id}?msg=answer_sent"
        settled = []
        for d in (chunked, posted):  # back with the specialist, the photo in the request's own slot
            view = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
            settled.append((view["state"], [p["slot"].startswith("extra_") for p in view["photos"]]))
            assert "upload_extra_photo" not in {a["code"] for a in view["next_actions"]}, view["next_actions"]
        assert settled == [("in_review", [True])] * 2
        view = (await client.get(f"/mobile/v1/installs/{chunked.id}", headers=chunked.who.headers)).json()
        assert [p["slot"] for p in view["photos"]] == [slot]
        shown = await client.get(page, headers={**headers, **EN})
        assert "your answer is with the specialist" in shown.text and 'id="answer-photo"' not in shown.text

    async def test_a_retake_or_a_question_still_asked_is_said(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await _asked(client, make, extra_photo=ASKED, question="Wanneer is de meter geplaatst?")
        headers = await portal_headers(client, d.who.subject)
        slot = await _asked_slot(client, d, headers)
        page = await _in_chunks(client, d, headers, slot, make.photo("cabinet_overview", blur_radius=12))
        assert page == f"/portal/installs/{d.id}?msg=photo_in"
        shown = await client.get(page, headers={**headers, **EN})
        assert "The specialist still asks for what is below." in shown.text and "Retake the photo" in shown.text
        view = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert view["state"] == "needs_retake"

    async def test_only_the_customers_own_open_request(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await _asked(client, make, extra_photo=ASKED)
        headers = await portal_headers(client, d.who.subject)
        slot = await _asked_slot(client, d, headers)
        data = make.photo("cabinet_overview")
        other = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        problem(await _create(client, d, {**other, **EN}, len(data), slot), 404, "install/not-found")
        url = (await _create(client, d, headers, len(data), slot)).headers["Location"]
        assert (await client.head(url, headers=other)).status_code == 404
        problem(await _append(client, url, other, 0, data, last=True), 404, "upload/not-found")
        # A slot no open request asks for is refused in words: problem+json for the script, else a page.
        unasked = "extra_999999"
        body = problem(await _create(client, d, {**headers, **EN}, len(data), unasked), 422, "photo/not-asked")
        assert body["detail"] == "No specialist asks for this photo now; the install's page says what is asked."
        plain = {**headers, **EN, "Content-Type": "image/jpeg", "Upload-Length": "10", "Upload-Complete": "?0"}
        r = await client.post(f"/portal/installs/{d.id}/uploads/{unasked}", headers=plain)
        assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
        assert "No photo asked" in r.text and unasked not in r.text
        # Once the answer is in, the install is the specialist's again: nothing more is taken, in words.
        assert (await _append(client, url, headers, 0, data, last=True)).status_code == 200
        body = problem(await _create(client, d, {**headers, **EN}, len(data), slot), 409, "install/state-conflict")
        assert body["detail"] == "This is not possible in the install's current state (in review)."  # not its id
        view = (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()
        assert [p["slot"] for p in view["photos"]] == [slot]
