"""The portal's session comes before any body is read (backend/console/sessions.SessionFirst): without a
customer's session a form is sent to sign in, and a resumable upload refused with `portal/signed-out`,
before a byte of its body is received or parsed; with one, the same body is read as before."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.console import sessions
from backend.portal.access import COOKIE
from backend.principal import Principal, Role
from tests.factories import Factory
from tests.mobile_api.helpers import new_install, problem
from tests.portal.helpers import portal_headers

# Not a multipart body: once parsed it answers 400, so a 303 to sign in means it was never parsed.
BROKEN_MULTIPART = {"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nno headers, no end"
# The forms that read a body, `{install}` the install they are about.
READING_FORMS = [
    "/portal/installs",
    "/portal/connections/claim",
    "/portal/installs/{install}/help",
    "/portal/installs/{install}/answer",
    "/portal/installs/{install}/answer/photo",
    "/portal/installs/{install}/objection",
    "/portal/installs/{install}/visit",
    "/portal/installs/{install}/guide/scan",
    "/portal/installs/{install}/guide/location",
    "/portal/installs/{install}/guide/reading",
    "/portal/installs/{install}/guide/photos/meter_label",
]
# The photo forms: their multipart body is refused with a 400 once it is parsed (the url-encoded forms
# read a broken one as no fields).
PHOTO_FORMS = ["/portal/installs/{install}/answer/photo", "/portal/installs/{install}/guide/photos/meter_label"]
SCRIPT = {"Accept": "application/problem+json, application/json"}  # as upload.js asks: a refusal as data


class _Body:
    """A request body that notes whether the server asked for it."""

    def __init__(self) -> None:
        self.read = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.read = True
        yield b"x" * 1000


async def _anonymous(client: httpx.AsyncClient) -> dict[str, str]:
    """A browser that has opened the sign-in page (its CSRF cookie) but holds no session."""
    csrf = (await client.get("/portal/login")).cookies["csrftoken"]
    return {"Cookie": f"csrftoken={csrf}"}


async def _staff_in_the_portals_cookie(client: httpx.AsyncClient) -> dict[str, str]:
    """A specialist's session, its cookie copied into the portal's, with the CSRF token."""
    csrf = (await client.get("/portal/login")).cookies["csrftoken"]
    now = datetime.now(UTC)
    who = Principal(subject="spec-copied", role=Role.SPECIALIST)
    session = await sessions.open_session(who, now, now + timedelta(hours=1))
    return {"Cookie": f"csrftoken={csrf}; {COOKIE}={session}", "x-csrftoken": csrf}


class TestFormsWithoutASession:
    @pytest.mark.parametrize("path", [*READING_FORMS, "/portal/installs/{install}/guide/submit"])
    async def test_a_broken_body_is_sent_to_sign_in_unparsed(self, client: httpx.AsyncClient, path: str) -> None:
        headers, body = BROKEN_MULTIPART
        url = path.format(install=uuid.uuid4())
        r = await client.post(url, content=body, headers={**headers, **await _anonymous(client)})
        assert r.status_code == 303 and r.headers["location"] == "/portal/login"

    @pytest.mark.parametrize("path", PHOTO_FORMS)
    async def test_the_same_body_with_a_session_is_parsed(
        self, client: httpx.AsyncClient, make: Factory, path: str
    ) -> None:
        headers, body = BROKEN_MULTIPART
        d = await new_install(client, make)
        session = await portal_headers(client, d.who.subject)
        r = await client.post(path.format(install=d.id), content=body, headers={**session, **headers})
        assert r.status_code == 400  # the control: this body is refused once it is read

    @pytest.mark.parametrize("who", ["none", "staff", "customer"])
    @pytest.mark.parametrize("path", READING_FORMS)
    async def test_a_body_is_received_only_on_a_customers_session(
        self, client: httpx.AsyncClient, make: Factory, path: str, who: str
    ) -> None:
        d = await new_install(client, make)
        headers = {
            "none": await _anonymous(client),
            "staff": await _staff_in_the_portals_cookie(client),
            "customer": await portal_headers(client, d.who.subject),
        }[who]
        body = _Body()
        sent = {**headers, "Content-Type": "multipart/form-data; boundary=x"}
        r = await client.post(path.format(install=d.id), content=body.chunks(), headers=sent)
        assert body.read is (who == "customer")
        assert (r.status_code == 303 and r.headers["location"] == "/portal/login") is (who != "customer")

    async def test_the_pages_send_to_sign_in_and_the_sign_in_pages_stay_open(self, client: httpx.AsyncClient) -> None:
        anonymous = await _anonymous(client)
        install = f"/portal/installs/{uuid.uuid4()}"
        for page in ("/portal/", install, f"{install}/guide"):
            r = await client.get(page, headers=anonymous)
            assert r.status_code == 303 and r.headers["location"] == "/portal/login", page
        assert (await client.get("/portal/login", headers=anonymous)).status_code == 200
        csrf = anonymous["Cookie"].removeprefix("csrftoken=")
        r = await client.post("/portal/logout", headers={**anonymous, "x-csrftoken": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/portal/login"


class TestUploadsWithoutASession:
    async def test_a_chunk_is_refused_in_words_unreceived(self, client: httpx.AsyncClient) -> None:
        body = _Body()
        anonymous = await _anonymous(client)
        chunk = {**SCRIPT, **anonymous, "Content-Type": "application/partial-upload", "Upload-Offset": "0"}
        r = await client.patch(f"/portal/uploads/{uuid.uuid4()}", content=body.chunks(), headers=chunk)
        problem(r, 403, "portal/signed-out")
        assert not body.read

    async def test_a_creation_without_a_token_is_signed_out_not_parsed(self, client: httpx.AsyncClient) -> None:
        """Without a session the CSRF middleware never runs: a multipart creation is not parsed for its token,
        and the answer is the signed-out one (as with a token), for the script and for a browser."""
        headers, body = BROKEN_MULTIPART
        anonymous = {**await _anonymous(client), **headers, "Upload-Length": "10"}
        url = f"/portal/installs/{uuid.uuid4()}/uploads/meter_label"
        problem(await client.post(url, content=body, headers={**SCRIPT, **anonymous}), 403, "portal/signed-out")
        page = await client.post(url, content=body, headers=anonymous)
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
        assert 'data-code="portal/signed-out"' in page.text
        offset = await client.head(f"/portal/uploads/{uuid.uuid4()}", headers=anonymous)
        assert offset.status_code == 403  # a HEAD's answer has no body
