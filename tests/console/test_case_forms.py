"""The case page's forms without a browser: a session is checked before any body is read, and each form
is read as the review API's own request Struct, so the console refuses what the API refuses (nothing cut
short, no line break in a one-line field) and stores only what the API would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from httpx import AsyncClient, Response

from backend.console import sessions
from backend.principal import Principal, Role
from tests.console.helpers import console_headers
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, decide, get_case, helped
from tests.mobile_api.helpers import new_install
from tests.quality.helpers import auto_approved, id_with_point, sample_case

SHIPPED_SHARE = 0.02  # the sample share of the shipped policy: below it an approval is sampled
# Not a multipart body: once parsed it answers 400, so a 303 to sign in means it was never parsed.
BROKEN_MULTIPART = {"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nno headers, no end"
FORM_ROUTES = ["/console/cases/1/decision", "/console/cases/1/visit", "/console/jobs/import", "/console/jobs"]


class _Body:
    """A request body that notes whether the server asked for it."""

    def __init__(self) -> None:
        self.read = False

    async def chunks(self) -> AsyncIterator[bytes]:
        self.read = True
        yield b"note=" + b"x" * 1000


class TestTheSessionComesBeforeTheBody:
    @pytest.mark.parametrize("path", FORM_ROUTES)
    async def test_an_anonymous_broken_body_is_sent_to_sign_in_unparsed(self, client: AsyncClient, path: str) -> None:
        headers, body = BROKEN_MULTIPART
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        anonymous = {**headers, "Cookie": f"csrftoken={csrf}"}
        r = await client.post(path, content=body, headers=anonymous)
        assert r.status_code == 303 and r.headers["location"] == "/console/login"

    async def test_the_same_body_with_a_session_is_parsed(self, client: AsyncClient, make: Factory) -> None:
        headers, body = BROKEN_MULTIPART
        session = await console_headers(client, make, Role.ADMIN)
        r = await client.post("/console/jobs/import", content=body, headers={**session, **headers})
        assert r.status_code == 400  # the control: this body is refused once it is read

    @pytest.mark.parametrize("session", [False, True])
    async def test_an_anonymous_body_is_never_received(self, client: AsyncClient, make: Factory, session: bool) -> None:
        body = _Body()
        headers = await console_headers(client, make, Role.SPECIALIST) if session else {}
        form = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
        r = await client.post("/console/cases/2000000000/verdict", content=body.chunks(), headers=form)
        assert body.read is session
        # Read with a session: the refused form answers the case page, and there is no such case (an id no
        # other test's case has: with case 1 in the database the form's own fault answered first).
        expected = (404, None) if session else (303, "/console/login")
        assert (r.status_code, r.headers.get("location")) == expected

    async def test_a_stale_session_cookie_is_sent_to_sign_in(self, client: AsyncClient) -> None:
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        r = await client.post(
            "/console/cases/1/claim",
            data={"_csrf_token": csrf},
            headers={"Cookie": f"csrftoken={csrf}; si_console=no-such-session"},
        )
        assert r.status_code == 303 and r.headers["location"] == "/console/login"

    @pytest.mark.parametrize("role", [Role.CUSTOMER, Role.INSTALLER])
    async def test_a_session_of_a_role_the_console_does_not_admit_is_sent_to_sign_in(
        self, client: AsyncClient, role: Role
    ) -> None:
        csrf = (await client.get("/console/login")).cookies["csrftoken"]
        now = datetime.now(UTC)
        session = await sessions.open_session(Principal(subject="copied", role=role), now, now + timedelta(hours=1))
        cookie = {"Cookie": f"csrftoken={csrf}; si_console={session}", "x-csrftoken": csrf}
        for r in (
            await client.get("/console/queue", headers=cookie),
            await client.get("/console/jobs", headers=cookie),
        ):
            assert r.status_code == 303 and r.headers["location"] == "/console/login"

    async def test_the_other_role_still_reads_the_403_page_in_its_language(
        self, client: AsyncClient, make: Factory
    ) -> None:
        headers = {**await console_headers(client, make, Role.ADMIN), "Accept-Language": "en"}
        r = await client.post("/console/cases/1/claim", headers=headers)
        assert r.status_code == 403 and "only for specialists; you are signed in as administrators" in r.text


async def _held_case(client: AsyncClient, make: Factory) -> tuple[Party, dict[str, str], int, int]:
    """An escalated case claimed through the console: the specialist, their console headers, the case id
    and its version."""
    spec = make.party(Role.SPECIALIST)
    headers = await console_headers(client, make, Role.SPECIALIST, spec.subject)
    d = await new_install(client, make)
    await helped(client, d)
    case_id = await case_id_of(d.id)
    r = await client.post(f"/console/cases/{case_id}/claim", headers=headers)
    assert r.headers["location"] == f"/console/cases/{case_id}?msg=claimed"
    return spec, headers, case_id, (await get_case(client, spec, case_id))["version"]


def _flash(page: str) -> str:
    """The message above a console page (base.html's flash)."""
    match = re.search(r'<div class="flash error" role="status">([^<]*)</div>', page)
    assert match, page
    return match.group(1)


def _refused(r: Response) -> None:
    """A form its request Struct refuses: the case page at once with the API's 400 and what to check, no redirect."""
    assert (r.status_code, r.headers.get("location")) == (400, None), r.text
    assert _flash(r.text).startswith("Er is niets opgeslagen: een veld van dit formulier")


class TestDecisionForm:
    @pytest.mark.parametrize(
        "extra",
        [
            {"extra_photo": "een foto\nvan de meterkast"},  # a label is one line
            {"note": "x" * 4001},  # refused, not cut to 4000
            {"message_to_customer": "x" * 2001},
            {"question": "x" * 2001},
            {"extra_photo": "x" * 201},
            {"reason_code": "x" * 41},
            {"note": "nul\x00"},
            {"verdict": "agree"},  # a field a decision does not have
        ],
    )
    async def test_what_the_api_refuses_the_console_refuses(
        self, client: AsyncClient, make: Factory, extra: dict[str, str]
    ) -> None:
        spec, headers, case_id, version = await _held_case(client, make)
        fields = {"outcome": "request_info", "reason_code": "photo_unclear", "version": str(version), **extra}
        r = await client.post(f"/console/cases/{case_id}/decision", data=fields, headers=headers)
        _refused(r)
        api = await decide(client, spec, case_id, **{**fields, "version": version})
        assert (api.status_code, api.json()["code"]) == (400, "request/invalid"), api.text
        after = await get_case(client, spec, case_id)
        assert (after["state"], after["version"], after["info_requests"]) == ("open", version, [])

    @pytest.mark.parametrize("version", ["", "²", "0", "2147483648", "one"])
    async def test_a_version_the_api_refuses(self, client: AsyncClient, make: Factory, version: str) -> None:
        spec, headers, case_id, before = await _held_case(client, make)
        fields = {"outcome": "approve", "reason_code": "evidence_sufficient", "version": version}
        r = await client.post(f"/console/cases/{case_id}/decision", data=fields, headers=headers)
        _refused(r)
        after = await get_case(client, spec, case_id)
        assert (after["state"], after["version"]) == ("open", before)

    async def test_a_form_at_the_apis_bounds_is_recorded_as_the_api_would(
        self, client: AsyncClient, make: Factory
    ) -> None:
        spec, headers, case_id, version = await _held_case(client, make)
        fields = {
            "outcome": "request_info",
            "reason_code": "photo_unclear",
            "version": str(version),
            "note": "n" * 4000,
            "message_to_customer": "Graag nog één foto.\r\nDank u.",  # prose keeps its line break
            "extra_photo": "  een foto van de meterkast  ",  # a form's field is trimmed
            "question": "",  # empty: not asked
            "_csrf_token": headers["x-csrftoken"],  # the form's own field, not the decision's
        }
        r = await client.post(f"/console/cases/{case_id}/decision", data=fields, headers=headers)
        assert r.headers["location"] == f"/console/cases/{case_id}?msg=decided"
        after = await get_case(client, spec, case_id)
        [asked] = after["info_requests"]
        assert (asked["photo_label"], asked["question"]) == ("een foto van de meterkast", None)
        mine = [x for x in after["decisions"] if x["decided_by"] == spec.subject]
        assert [(x["note"], x["message"]) for x in mine] == [("n" * 4000, fields["message_to_customer"])]


class TestVerdictForm:
    async def test_an_over_long_note_is_refused_not_cut(self, client: AsyncClient, make: Factory) -> None:
        spec = make.party(Role.SPECIALIST)
        headers = await console_headers(client, make, Role.SPECIALIST, spec.subject)
        d = await auto_approved(client, make, id_with_point(below=SHIPPED_SHARE))
        case_id = await sample_case(d.id)
        await client.post(f"/console/cases/{case_id}/claim", headers=headers)
        version = (await get_case(client, spec, case_id))["version"]
        fields = {"verdict": "agree", "version": str(version), "note": "x" * 4001}
        r = await client.post(f"/console/cases/{case_id}/verdict", data=fields, headers=headers)
        _refused(r)
        api = await client.post(
            f"/review/v1/cases/{case_id}/verdict", json={**fields, "version": version}, headers=spec.headers
        )
        assert api.status_code == 400, api.text
        r = await client.post(f"/console/cases/{case_id}/verdict", data={**fields, "note": "x" * 4000}, headers=headers)
        assert r.headers["location"] == f"/console/cases/{case_id}?msg=verdict"


class TestVisitForm:
    @pytest.mark.parametrize(
        "extra",
        [
            {"visit_installer": "i" * 129},  # refused, not cut to 128
            {"visit_installer": "inst\tjoost"},  # one line
            {"visit_note": "x" * 2001},
            {"start_1": "2026-12-08T08:00"},  # half a window
        ],
    )
    async def test_what_the_api_refuses_the_console_refuses(
        self, client: AsyncClient, make: Factory, extra: dict[str, str]
    ) -> None:
        spec, headers, case_id, version = await _held_case(client, make)
        r = await client.post(f"/console/cases/{case_id}/visit", data=extra, headers=headers)
        _refused(r)
        after = await get_case(client, spec, case_id)
        assert (after["state"], after["version"]) == ("open", version)

    async def test_no_window_typed_is_the_planning_rules(self, client: AsyncClient, make: Factory) -> None:
        spec, headers, case_id, _ = await _held_case(client, make)
        fields = {"start_1": "", "end_1": "", "visit_installer": " inst-joost ", "visit_note": "Kelder."}
        r = await client.post(f"/console/cases/{case_id}/visit", data=fields, headers=headers)
        assert r.headers["location"] == f"/console/cases/{case_id}?msg=visit_offered"
        assert (await get_case(client, spec, case_id))["state"] == "visit"


class TestARefusalIsSaidInFull:
    """A refused case action answers the case page at once, with the refusal's status and its detail worded with
    every parameter (a redirect's `?msg=` could carry none of them); only a success redirects."""

    @pytest.mark.parametrize(
        ("lang", "said"),
        [
            ("nl", "Deze zaak is al geclaimd door {holder} (tot "),
            ("en", "This case is already claimed by {holder} (until "),
        ],
    )
    async def test_claiming_a_case_another_holds_names_the_holder(
        self, client: AsyncClient, make: Factory, lang: str, said: str
    ) -> None:
        holder, _, case_id, version = await _held_case(client, make)
        other = {**await console_headers(client, make, Role.SPECIALIST), "Accept-Language": lang}
        r = await client.post(f"/console/cases/{case_id}/claim", headers=other)
        assert r.status_code == 409 and "location" not in r.headers
        assert said.format(holder=holder.subject) in _flash(r.text) and "…" not in _flash(r.text)
        assert (await get_case(client, holder, case_id))["version"] == version  # still the holder's

    @pytest.mark.parametrize(("lang", "said"), [("nl", "Onbekende redencode"), ("en", "Unknown reason code")])
    async def test_a_decision_the_domain_refuses_names_what_was_wrong(
        self, client: AsyncClient, make: Factory, lang: str, said: str
    ) -> None:
        spec, headers, case_id, version = await _held_case(client, make)
        fields = {"outcome": "approve", "reason_code": "no_such_code", "version": str(version)}
        r = await client.post(
            f"/console/cases/{case_id}/decision", data=fields, headers={**headers, "Accept-Language": lang}
        )
        text = _flash(r.text)
        assert r.status_code == 422 and said in text and "no_such_code" in text and "…" not in text
        assert (await get_case(client, spec, case_id))["version"] == version

    async def test_a_problem_code_in_the_address_is_not_filled_from_it(
        self, client: AsyncClient, make: Factory
    ) -> None:
        _, headers, case_id, _ = await _held_case(client, make)
        url = f"/console/cases/{case_id}?msg=review/claimed-by-other&holder=mallory-xyz&until=never-xyz"
        r = await client.get(url, headers=headers)
        assert r.status_code == 200 and "mallory-xyz" not in r.text and "never-xyz" not in r.text
        assert 'class="flash' not in r.text  # a problem code is never a redirect's message
