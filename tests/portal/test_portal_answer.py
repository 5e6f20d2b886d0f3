"""Answering a specialist's request for information with the extra photo they ask for, on the portal
without a browser: the photo goes to the request's own slot through the API's upload (its types, size
limit and checks) and the install goes back to the specialist once all that was asked is given; a photo
when none is asked, text when only a photo is, a photo too large or not a photo are refused in words;
only the customer, signed in, with the form's CSRF token, on their own install."""

from __future__ import annotations

from typing import Any

import httpx

from backend.principal import Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, decided, helped
from tests.mobile_api.helpers import Draft, new_install, ready_install
from tests.portal.helpers import form, portal_headers
from tests.portal.test_portal_pages import _portal

EN = {"Accept-Language": "en"}
ASKED = "een foto van de aardlekschakelaar"


async def _asked(client: httpx.AsyncClient, make: Factory, **asked: str) -> Draft:
    """An install of a customer's whose specialist asked for information (`extra_photo`, `question`)."""
    d = await new_install(client, make)
    await helped(client, d)
    await decided(client, make.party(Role.SPECIALIST), await case_id_of(d.id), "request_info", "photo_unclear", **asked)
    return d


async def _send(
    client: httpx.AsyncClient,
    d: Draft,
    headers: dict[str, str],
    data: bytes,
    name: str = "extra.jpg",
    kind: str = "image/jpeg",
) -> str:
    files = {"photo": (name, data, kind)}
    r = await client.post(f"/portal/installs/{d.id}/answer/photo", headers=headers, data=form(headers), files=files)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


async def _api(client: httpx.AsyncClient, d: Draft) -> dict[str, Any]:
    return (await client.get(f"/mobile/v1/installs/{d.id}", headers=d.who.headers)).json()


class TestExtraPhoto:
    async def test_the_asked_photo_goes_back_to_the_specialist(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await _asked(client, make, extra_photo=ASKED)
        headers = await portal_headers(client, d.who.subject)
        home = await client.get("/portal/", headers={**headers, **EN})
        assert f'href="/portal/installs/{d.id}#answer"' in home.text  # the request links to its form
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **EN})
        assert 'id="answer-photo"' in page.text and 'capture="environment"' in page.text and ASKED in page.text
        assert 'id="answer-text"' not in page.text  # no question asked
        assert f'href="/portal/installs/{d.id}/guide"' in page.text  # the draft's own steps are still to do
        location = await _send(client, d, headers, make.photo("cabinet_overview"))
        assert location.endswith("msg=answer_sent")
        view = await _api(client, d)
        assert view["state"] == "in_review" and [p["slot"] for p in view["photos"]][-1].startswith("extra_")
        page = await client.get(location, headers={**headers, **EN})
        assert "your answer is with the specialist" in page.text and 'id="answer-photo"' not in page.text

    async def test_the_guide_is_offered_only_with_a_step_of_its_own(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        """Every step done, a specialist's request is the one thing to do: the guide has no step for it (the
        install's page has the form), so "Continue step by step" is not offered."""
        d = await ready_install(client, make)
        await helped(client, d)
        await decided(
            client,
            make.party(Role.SPECIALIST),
            await case_id_of(d.id),
            "request_info",
            "photo_unclear",
            extra_photo=ASKED,
        )
        headers = await portal_headers(client, d.who.subject)
        home = await client.get("/portal/", headers={**headers, **EN})
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **EN})
        guide = f'href="/portal/installs/{d.id}/guide"'
        assert 'id="answer-photo"' in page.text and guide not in page.text and guide not in home.text

    async def test_a_blurred_photo_is_retaken_then_the_question_answered(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await _asked(client, make, extra_photo=ASKED, question="Wanneer is de meter geplaatst?")
        headers = await portal_headers(client, d.who.subject)
        location = await _send(client, d, headers, make.photo("cabinet_overview", blur_radius=12))
        assert location.endswith("msg=photo_in")
        page = await client.get(location, headers={**headers, **EN})
        assert "The specialist still asks for what is below." in page.text
        assert "Retake the photo" in page.text and 'id="answer-text"' in page.text
        assert (await _api(client, d))["state"] == "needs_retake"
        assert (await _send(client, d, headers, make.photo("cabinet_overview"))).endswith("msg=photo_in")
        page = await client.get(f"/portal/installs/{d.id}", headers={**headers, **EN})
        assert 'id="answer-photo"' not in page.text and 'id="answer-text"' in page.text
        r = await client.post(f"/portal/installs/{d.id}/answer", headers=headers, data=form(headers, text="Op 12 mei."))
        assert r.headers["location"].endswith("msg=answer_sent")
        assert (await _api(client, d))["state"] == "in_review"


class TestRefusedInWords:
    async def test_the_wrong_kind_of_answer(self, client: httpx.AsyncClient, make: Factory) -> None:
        question_only = await _asked(client, make, question="Wanneer is de meter geplaatst?")
        headers = await portal_headers(client, question_only.who.subject)
        location = await _send(client, question_only, headers, make.photo("cabinet_overview"))
        assert location.endswith("msg=answer/no-photo-asked#top")
        page = await client.get(location.removesuffix("#top"), headers={**headers, **EN})
        assert 'class="flash error"' in page.text and "No specialist asks you for a photo now." in page.text
        assert (await _api(client, question_only))["photos"] == []

        photo_only = await _asked(client, make, extra_photo=ASKED)
        headers = await portal_headers(client, photo_only.who.subject)
        r = await client.post(
            f"/portal/installs/{photo_only.id}/answer",
            headers={**headers, **EN},
            data=form(headers, text="Hier is hij."),
        )
        assert r.status_code == 409 and "No question of a specialist awaits your answer." in r.text
        assert (await _api(client, photo_only))["state"] == "needs_retake"

    async def test_too_large_not_a_photo_or_no_file(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await _asked(client, make, extra_photo=ASKED)
        big = make.photo("cabinet_overview") + bytes(1024 * 1024)  # past the limit while it streams in
        async with _portal({"MAX_PHOTO_BYTES": str(1024 * 1024)}) as portal:
            headers = await portal_headers(portal, d.who.subject)
            url = f"/portal/installs/{d.id}/answer/photo"
            for data, name, kind, status, words in (
                (big, "a.jpg", "image/jpeg", 413, "The photo is too large (at most 1 MB)."),
                (b"not a photo", "a.txt", "text/plain", 415, "send a JPEG, PNG or HEIC photo"),
                (b"\xff\xd8 not a jpeg", "a.jpg", "image/jpeg", 415, "send a JPEG, PNG or HEIC"),
            ):
                files = {"photo": (name, data, kind)}
                page = await portal.post(url, headers={**headers, **EN}, data=form(headers), files=files)
                assert page.status_code == status and 'class="flash error"' in page.text and words in page.text
                assert 'id="answer-photo"' in page.text  # the form to send another, at once
            r = await portal.post(url, headers=headers, data=form(headers))
            assert r.status_code == 422 and "Kies een foto of maak er een, en stuur hem dan." in r.text
        view = await _api(client, d)
        assert view["photos"] == [] and view["state"] == "needs_retake"


class TestWhoMayAnswer:
    async def test_only_the_customer_signed_in_on_their_own_install(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await _asked(client, make, extra_photo=ASKED)
        url = f"/portal/installs/{d.id}/answer/photo"
        files = {"photo": ("a.jpg", make.photo("cabinet_overview"), "image/jpeg")}
        headers = await portal_headers(client, d.who.subject)
        r = await client.post(url, headers={"Cookie": headers["Cookie"]}, files=files)  # no CSRF token
        assert r.status_code == 403
        csrf = {"Cookie": headers["Cookie"].split(";")[0], "x-csrftoken": headers["x-csrftoken"]}  # no session
        r = await client.post(url, headers=csrf, data=form(headers), files=files)
        assert r.status_code == 303 and r.headers["location"] == "/portal/login"
        for role in (Role.SPECIALIST, Role.INSTALLER):  # a bearer token opens no portal page
            staff = {**csrf, **make.party(role).headers}
            r = await client.post(url, headers=staff, data=form(headers), files=files)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", role
        other = await portal_headers(client, make.party(Role.CUSTOMER).subject)
        r = await client.post(url, headers=other, data=form(other), files=files)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"]
        assert (await _api(client, d))["photos"] == []
