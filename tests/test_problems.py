"""Language negotiation and the problem+json answers: a stable title per code, the occurrence in the
detail, validator text in the caller's language, and the Bearer challenge of every 401."""

from __future__ import annotations

import re
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from httpx import AsyncClient, Response

from backend.errors import MESSAGES, VALIDATOR_TEXT
from backend.i18n import preferred_language, translate
from backend.principal import Role
from backend.problems import violation
from backend.settings import Settings
from backend.words import JOB_STATE_WORDS, stated
from tests.factories import Factory
from tests.helpers.tokens import customer_token
from tests.mobile_api.helpers import new_install, scan

INSTALLS = "/mobile/v1/installs"
LANGUAGES = ("nl", "en")
# msgspec's and Litestar's English vocabulary: none of it may reach a Dutch answer's human text.
ENGLISH = re.compile(
    r"\b(Expected|got|Object|missing|required|unknown|contains|Invalid|invalid|malformed|length|matching|"
    r"regex|enum|encoded|field|must|Missing|parameter for|truncated)\b"
)


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(f"/problems/{code}")
    assert body["title"] in {MESSAGES[code].title_in(lang) for lang in LANGUAGES}, body  # the code's own title
    assert body["detail"] and body["detail"] != body["title"]
    return body


def human_text(body: dict[str, Any]) -> str:
    """Everything of a problem a person reads: title, detail and each error's message."""
    return " | ".join([body["title"], body["detail"], *(e["message"] for e in body.get("errors", []))])


def install_body(**changes: Any) -> dict[str, Any]:
    """A CreateInstall body with `changes`; a change to `...` leaves the field out."""
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "connection_ean": "871687000000000001", "asset_type": "x"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not ...}


class TestPreferredLanguage:
    @pytest.mark.parametrize(
        ("header", "lang"),
        [
            ("en", "en"),
            ("EN", "en"),
            ("en-GB,nl;q=0.5", "en"),
            ("nl,en;q=0.9", "nl"),
            ("nl-NL", "nl"),
            ("fr", "nl"),
            ("fr,en;q=0.8", "en"),
            ("de-DE,de;q=0.9,nl;q=0.8,en;q=0.7", "nl"),
            ("en;q=0.4,nl;q=0.6", "nl"),
            ("nl;q=0.5,en;q=0.5", "nl"),
            ("en;q=0.5,nl;q=0.5", "en"),
            ("en;q=0", "nl"),
            ("*", "nl"),
            ("", "nl"),
            (None, "nl"),
            ("en;q=abc", "nl"),
            ("en;q=abc,fr", "nl"),
            (";;;,,,", "nl"),
            ("en;q=", "nl"),
        ],
    )
    async def test_cases(self, header: str | None, lang: str) -> None:
        assert preferred_language(header) == lang


class TestRoutingProblems:
    async def test_unknown_route_is_a_problem(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/no/such/route"), 404, "request/not-found")
        assert (body["title"], body["detail"]) == ("Niet gevonden", "Deze pagina of route bestaat niet.")

    async def test_unknown_route_in_english(self, client: AsyncClient) -> None:
        response = await client.get("/no/such/route", headers={"Accept-Language": "en-GB,nl;q=0.5"})
        body = assert_problem(response, 404, "request/not-found")
        assert (body["title"], body["detail"]) == ("Not found", "This route does not exist.")
        assert response.headers["content-language"] == "en"

    async def test_dutch_by_default_with_content_language(self, client: AsyncClient) -> None:
        response = await client.get("/no/such/route", headers={"Accept-Language": "fr"})
        assert response.headers["content-language"] == "nl"

    async def test_wrong_method_is_a_problem(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        response = await client.delete(f"{INSTALLS}/{uuid.uuid4()}", headers=customer.headers)
        assert_problem(response, 405, "request/method-not-allowed")

    async def test_wrong_method_in_english(self, client: AsyncClient) -> None:
        response = await client.patch("/health", headers={"Accept-Language": "en"})
        body = assert_problem(response, 405, "request/method-not-allowed")
        assert (body["title"], body["detail"]) == ("Method not allowed", "This method is not allowed here.")


class TestCatalog:
    def test_every_code_has_a_title_and_a_detail_in_both_languages(self) -> None:
        for code, message in MESSAGES.items():
            titles = [message.title_in(lang) for lang in LANGUAGES]
            assert all(titles) and all(translate(lang, message.detail) for lang in LANGUAGES), code
            assert titles[0] != titles[1], code  # the Dutch one is translated

    def test_a_title_has_no_placeholder_so_it_cannot_vary(self) -> None:
        placeholders = {
            code: [name for _, name, _, _ in string.Formatter().parse(text) if name]
            for code, message in MESSAGES.items()
            for text in (message.title_in(lang) for lang in LANGUAGES)
        }
        assert {code: names for code, names in placeholders.items() if names} == {}

    def test_a_title_is_not_its_detail(self) -> None:
        assert [code for code, m in MESSAGES.items() if m.title == m.detail] == []


class TestStableTitle:
    async def test_same_code_two_occurrences_same_title_different_detail(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        bodies = []
        for asset_type in ("toaster", "kettle"):
            r = await client.post(
                INSTALLS, json=install_body(connection_ean=ean, asset_type=asset_type), headers=customer.headers
            )
            bodies.append(assert_problem(r, 422, "install/asset-type-unknown"))
        assert [b["title"] for b in bodies] == ["Onbekend type installatie"] * 2
        assert [b["detail"] for b in bodies] == [
            "Onbekend type installatie: 'toaster'.",
            "Onbekend type installatie: 'kettle'.",
        ]

    async def test_invalid_requests_share_one_title_whatever_the_field(
        self, client: AsyncClient, make: Factory
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        wrong_type = await client.post(INSTALLS, json=install_body(id=5), headers=customer.headers)
        missing = await client.post(INSTALLS, json=install_body(asset_type=...), headers=customer.headers)
        one, two = assert_problem(wrong_type, 400, "request/invalid"), assert_problem(missing, 400, "request/invalid")
        assert one["title"] == two["title"] == "Ongeldig verzoek"
        assert "'id'" in one["detail"] and "'asset_type'" in two["detail"]

    async def test_title_in_english_is_stable_too(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(owner=customer.subject)
        r = await client.post(
            INSTALLS,
            json=install_body(connection_ean=ean, asset_type="toaster"),
            headers={**customer.headers, "Accept-Language": "en"},
        )
        body = assert_problem(r, 422, "install/asset-type-unknown")
        assert (body["title"], body["detail"]) == ("Unknown asset type", "Unknown asset type: 'toaster'.")

    async def test_extra_members_stay(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        r = await client.post(INSTALLS, json=install_body(state="approved"), headers=customer.headers)
        body = assert_problem(r, 422, "request/server-owned-field")
        assert set(body) == {"code", "status", "type", "title", "detail", "request_id"}
        assert body["request_id"] == r.headers["x-request-id"]
        assert "'state'" in body["detail"]


class TestWordsNotIds:
    """A detail names a role, an asset type or a state in the reader's words, never its id; the problem's
    machine-readable members stay as they were (the code; no parameter becomes a member)."""

    @pytest.mark.parametrize(
        ("lang", "words"),
        [
            ("nl", "Een klant mag een slimme meter (3-fase) niet zelf installeren."),
            ("en", "A customer may not self-install a smart meter (three phase)."),
        ],
    )
    async def test_role_and_asset_type(self, client: AsyncClient, make: Factory, lang: str, words: str) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(capacity="3x25A", owner=customer.subject)
        body = install_body(connection_ean=ean, asset_type="smart_meter_3p")
        r = await client.post(INSTALLS, json=body, headers={**customer.headers, "Accept-Language": lang})
        problem = assert_problem(r, 403, "install/self-install-not-allowed")
        assert problem["detail"] == words
        assert set(problem) == {"code", "status", "type", "title", "detail", "request_id"}

    async def test_a_label_of_another_type(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make, "home_battery")
        _serial, payload = await make.asset("smart_meter_1p")
        for lang, words in (
            (
                "nl",
                "Dit label hoort bij een slimme meter (1-fase), maar deze installatie is voor een thuisbatterij 5 kW.",
            ),
            ("en", "This label belongs to a smart meter (single phase), but this install is for a home battery 5 kW."),
        ):
            headers = {**d.who.headers, "Accept-Language": lang}
            r = await client.post(f"{d.url}/scan", json={"payload": payload}, headers=headers)
            assert assert_problem(r, 422, "qr/type-mismatch")["detail"] == words

    async def test_states(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        _serial, retired = await make.asset(status="retired")
        r = await scan(client, d, retired)
        assert assert_problem(r, 422, "qr/asset-unavailable")["detail"].endswith("(status: buiten gebruik).")
        assert (await client.post(f"{d.url}/cancel", json={}, headers=d.who.headers)).status_code == 200
        for lang, words in (
            ("nl", "Dit kan niet in de huidige status (ingetrokken) van de installatie."),
            ("en", "This is not possible in the install's current state (withdrawn)."),
        ):
            headers = {**d.who.headers, "Accept-Language": lang}
            r = await client.post(f"{d.url}/reading", json={"value": 1.0}, headers=headers)
            assert assert_problem(r, 409, "install/state-conflict")["detail"] == words

    async def test_a_literal_brace_reads_as_one(self, client: AsyncClient, make: Factory) -> None:
        installer = make.party(Role.INSTALLER)
        r = await client.post(INSTALLS, json=install_body(), headers={**installer.headers, "Accept-Language": "en"})
        detail = assert_problem(r, 403, "install/installer-needs-job")["detail"]
        assert detail == "An installer starts an install from a job: POST /mobile/v1/jobs/{id}/install."

    def test_no_detail_shows_a_doubled_brace(self) -> None:
        for code, message in MESSAGES.items():
            for lang in LANGUAGES:
                assert "{{" not in message.detail_in(lang, {}) and "}}" not in message.detail_in(lang, {}), code

    def test_a_worded_parameter_is_worded_in_the_readers_language(self) -> None:
        message = MESSAGES["job/state-conflict"]
        state = stated(JOB_STATE_WORDS, "in_progress")
        assert message.detail_in("nl", {"state": state}) == "De opdracht is bezig; dat kan nu niet."
        assert message.detail_in("en", {"state": state}) == "The job is in progress; this is not possible now."
        assert stated(JOB_STATE_WORDS, "someday") == "someday"  # a state without words yet: its code, not lost


# name: (method, path, body, field, kind); each body is refused by the validator before any handler runs
INVALID: dict[str, tuple[str, str, Any, str | None, str]] = {
    "wrong type": ("POST", INSTALLS, install_body(id=5), "id", "wrong-type"),
    "null for text": (
        "POST",
        INSTALLS,
        install_body(connection_ean=None),
        "connection_ean",
        "wrong-type",
    ),
    "missing field": ("POST", INSTALLS, install_body(asset_type=...), "asset_type", "missing"),
    "unknown field": ("POST", INSTALLS, install_body(colour="red"), "colour", "unknown-field"),
    "too long": ("POST", INSTALLS, install_body(asset_type="a" * 41), "asset_type", "too-long"),
    "wrong form": ("POST", INSTALLS, install_body(connection_ean="12"), "connection_ean", "pattern"),
    "bad datetime": ("POST", INSTALLS, install_body(started_at="yesterday"), "started_at", "datetime"),
    "no time zone": ("POST", INSTALLS, install_body(started_at="2026-12-01T10:00:00"), "started_at", "timezone"),
    "bad uuid": ("POST", INSTALLS, install_body(id="not-a-uuid"), "id", "uuid"),
    "out of range": (
        "POST",
        "/mobile/v1/connections/claim",
        {"ean": "871687000000000001", "postcode": "6811AL", "house_number": 0},
        "house_number",
        "out-of-range",
    ),
    "bad enum": (
        "POST",
        f"{INSTALLS}/{uuid.uuid4()}/location",
        {"lat": 52.0, "lon": 5.9, "accuracy_m": 5, "captured_at": "2026-12-01T10:00:00Z", "provider": "satellite"},
        "provider",
        "not-allowed",
    ),
    "float above its bound": (
        "POST",
        f"{INSTALLS}/{uuid.uuid4()}/location",
        {"lat": 91.0, "lon": 5.9, "accuracy_m": 5, "captured_at": "2026-12-01T10:00:00Z"},
        "lat",
        "out-of-range",
    ),
    "malformed JSON": ("POST", INSTALLS, b'{"id": ', None, "malformed-json"),
    "not an object": ("POST", INSTALLS, [], None, "wrong-type"),
    "no body": ("POST", INSTALLS, b"", None, "missing"),
    "query parameter of the wrong type": ("GET", f"{INSTALLS}?limit=many", None, "limit", "wrong-type"),
    "query parameter out of range": ("GET", f"{INSTALLS}?limit=100000", None, "limit", "out-of-range"),
}


async def send_invalid(client: AsyncClient, case: str, headers: dict[str, str]) -> Response:
    method, path, body, _, _ = INVALID[case]
    if isinstance(body, bytes):
        return await client.request(method, path, content=body, headers={**headers, "Content-Type": "application/json"})
    return await client.request(method, path, json=body, headers=headers)


class TestValidatorTextInDutch:
    @pytest.mark.parametrize("case", INVALID)
    async def test_no_english_and_the_field_is_named(self, client: AsyncClient, make: Factory, case: str) -> None:
        _, _, _, field, kind = INVALID[case]
        r = await send_invalid(client, case, make.party(Role.CUSTOMER).headers)
        body = assert_problem(r, 400, "request/invalid")
        assert r.headers["content-language"] == "nl"
        assert body["title"] == "Ongeldig verzoek"
        assert body["detail"].startswith("Het verzoek is ongeldig: ")
        assert not ENGLISH.search(human_text(body)), human_text(body)
        named = f"'{field}'" if field else "de inhoud van het verzoek"
        assert named in body["detail"] and named in body["errors"][0]["message"].lower()
        assert (body["errors"][0]["field"], body["errors"][0]["kind"]) == (field, kind)

    async def test_the_bound_is_given_in_words(self, client: AsyncClient, make: Factory) -> None:
        r = await send_invalid(client, "too long", make.party(Role.CUSTOMER).headers)
        assert r.json()["detail"] == "Het verzoek is ongeldig: het veld 'asset_type' is te lang: hoogstens 40 tekens."
        r = await send_invalid(client, "out of range", make.party(Role.CUSTOMER).headers)
        assert r.json()["detail"] == "Het verzoek is ongeldig: het veld 'house_number' moet minstens 1 zijn."

    async def test_errors_keep_litestars_key_and_source(self, client: AsyncClient, make: Factory) -> None:
        r = await send_invalid(client, "query parameter of the wrong type", make.party(Role.CUSTOMER).headers)
        error = r.json()["errors"][0]
        assert (error["key"], error["source"]) == ("limit", "query")
        assert error["message"] == "De parameter 'limit' moet een geheel getal zijn, niet tekst."


class TestValidatorTextInEnglish:
    @pytest.mark.parametrize("case", ["wrong type", "missing field", "unknown field", "bad enum", "malformed JSON"])
    async def test_english_on_request_same_field_and_kind(self, client: AsyncClient, make: Factory, case: str) -> None:
        _, _, _, field, kind = INVALID[case]
        headers = {**make.party(Role.CUSTOMER).headers, "Accept-Language": "en"}
        r = await send_invalid(client, case, headers)
        body = assert_problem(r, 400, "request/invalid")
        assert r.headers["content-language"] == "en"
        assert body["title"] == "Invalid request"
        assert body["detail"].startswith("The request is invalid: ")
        assert (f"the field '{field}'" if field else "the request body") in body["detail"]
        assert (body["errors"][0]["field"], body["errors"][0]["kind"]) == (field, kind)
        assert "`" not in human_text(body)  # worded by us, not msgspec's text passed through

    async def test_wrong_type_in_english(self, client: AsyncClient, make: Factory) -> None:
        headers = {**make.party(Role.CUSTOMER).headers, "Accept-Language": "en"}
        r = await send_invalid(client, "wrong type", headers)
        assert r.json()["detail"] == "The request is invalid: the field 'id' must be a UUID, not an integer."


class TestViolation:
    """The forms msgspec and Litestar word a refusal in, read without a request."""

    def test_a_nested_path_names_the_whole_path(self) -> None:
        v = violation("Expected `int`, got `str` - at `$.items[0].count`")
        assert (v.field, v.kind) == ("items[0].count", "wrong-type")
        assert v.sentence_in("nl") == "het veld 'items[0].count' moet een geheel getal zijn, niet tekst"

    def test_a_missing_field_inside_an_object(self) -> None:
        v = violation("Object missing required field `lat`", key="location", source="body")
        assert (v.field, v.kind) == ("location.lat", "missing")

    def test_a_union_is_worded(self) -> None:
        v = violation("Expected `int | null`, got `str`", key="limit", source="query")
        assert v.sentence_in("nl") == "de parameter 'limit' moet een geheel getal of null zijn, niet tekst"
        assert v.sentence_in("en") == "the parameter 'limit' must be an integer or null, not text"

    def test_a_missing_query_parameter(self) -> None:
        v = violation("Missing required query parameter 'since' for path /x?y=1")
        assert (v.field, v.kind, v.sentence_in("nl")) == (
            "since",
            "missing",
            "de parameter 'since' is verplicht maar ontbreekt",
        )

    def test_an_unknown_form_is_a_generic_dutch_sentence_naming_the_field(self) -> None:
        v = violation("Some future msgspec wording about things", key="postcode", source="body")
        assert (v.kind, v.sentence_in("nl")) == ("invalid", "het veld 'postcode' is ongeldig")
        assert violation("Invalid content-length: 'x'").sentence_in("nl") == "de inhoud van het verzoek is ongeldig"

    def test_an_absurd_field_name_is_echoed_bounded(self) -> None:
        v = violation(f"Object contains unknown field `{'x' * 10_000}`")
        assert v.field is not None and len(v.field) <= 101

    def test_every_sentence_key_exists_in_both_languages(self) -> None:
        for key, msgid in VALIDATOR_TEXT.items():
            assert all(translate(lang, msgid) for lang in LANGUAGES), key


PLAIN = 'Bearer realm="selfinstall"'
REFUSED = 'Bearer realm="selfinstall", error="invalid_token"'
NOW = datetime.now(UTC)


class TestWwwAuthenticate:
    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", INSTALLS), ("POST", INSTALLS), ("GET", "/review/v1/queue"), ("POST", "/admin/v1/assets")],
    )
    async def test_no_token_gets_the_plain_challenge(self, client: AsyncClient, method: str, path: str) -> None:
        r = await client.request(method, path)
        assert_problem(r, 401, "auth/unauthenticated")
        assert r.headers["www-authenticate"] == PLAIN

    @pytest.mark.parametrize(
        "token",
        [
            lambda s: "not-a-jwt",
            lambda s: customer_token(s, secret="another-secret-of-at-least-32-bytes!!"),
            lambda s: customer_token(
                s, iat=int((NOW - timedelta(hours=3)).timestamp()), exp=int((NOW - timedelta(hours=2)).timestamp())
            ),
            lambda s: customer_token(s, extras={"role": "janitor"}),
        ],
        ids=["garbage", "wrong signature", "expired", "no known role"],
    )
    async def test_a_refused_token_is_an_invalid_token(self, client: AsyncClient, settings: Settings, token) -> None:
        encoded = token(settings)
        r = await client.get(INSTALLS, headers={"Authorization": f"Bearer {encoded}"})
        assert_problem(r, 401, "auth/unauthenticated")
        assert r.headers["www-authenticate"] == REFUSED
        assert encoded not in r.text and encoded not in r.headers["www-authenticate"]

    async def test_another_scheme_is_no_bearer_token(self, client: AsyncClient) -> None:
        r = await client.get(INSTALLS, headers={"Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
        assert r.status_code == 401 and r.headers["www-authenticate"] == PLAIN

    async def test_in_english_too(self, client: AsyncClient) -> None:
        r = await client.get("/review/v1/queue", headers={"Authorization": "Bearer x", "Accept-Language": "en"})
        body = assert_problem(r, 401, "auth/unauthenticated")
        assert body["title"] == "Not signed in" and r.headers["www-authenticate"] == REFUSED

    async def test_forbidden_is_no_challenge(self, client: AsyncClient, make: Factory) -> None:
        r = await client.get("/review/v1/queue", headers=make.party(Role.CUSTOMER).headers)
        assert_problem(r, 403, "auth/forbidden")
        assert "www-authenticate" not in r.headers

    async def test_an_accepted_token_gets_no_challenge(self, client: AsyncClient, make: Factory) -> None:
        r = await client.get(INSTALLS, headers=make.party(Role.CUSTOMER).headers)
        assert r.status_code == 200 and "www-authenticate" not in r.headers
