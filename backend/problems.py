"""Maps every error once to RFC 9457 problem+json, in the language Accept-Language asks for (Dutch by default).

`title` is the code's (the same for every occurrence), `detail` says what happened this time.
msgspec's and Litestar's English refusals are read into Violations (field path + stable kind) and
worded from the catalog; a 401 carries RFC 6750's `WWW-Authenticate: Bearer`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from backend.errors import MAX_ROWS_IN_DETAIL, MESSAGES, ROW_TEXT, VALIDATOR_TEXT, DomainError, RowError
from backend.i18n import preferred_language, translate
from backend.logs import current_request_id

log = logging.getLogger("selfinstall")

PROBLEM_BASE = "https://selfinstall.example/problems/"
PROBLEM_JSON = "application/problem+json"
REALM = "selfinstall"  # of every 401's WWW-Authenticate (RFC 6750); /metrics has its own
# Members of an answer a client might send back (the view PUT again, a field copied over): refused by name,
# 422, where the request does not take them; any other unknown member is a 400.
SERVER_OWNED_FIELDS = frozenset(
    {
        *("state", "decision", "owner", "owner_subject", "reasons", "checks", "created_by", "created_at"),
        *("approved_at", "updated_at", "submitted_at", "decided_at", "version", "retake_count"),
        *("customer_subject", "installer_subject"),
    }
)
_STATUS_CODES = {
    400: "request/invalid",
    401: "auth/unauthenticated",
    403: "auth/forbidden",
    404: "request/not-found",
    405: "request/method-not-allowed",
    413: "request/too-large",
    429: "request/rate-limited",
}
LITESTAR_CSRF_REFUSAL = "CSRF token verification failed"  # litestar.middleware.csrf's words for a bad token
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


@dataclass(frozen=True)
class Violation:
    """One thing a request got wrong: where (`field`: a dotted path in the body, a parameter's name,
    or None for the body itself), what (`kind`, stable for apps), and the words to say it with."""

    kind: str
    field: str | None
    source: str
    sentence: str  # the VALIDATOR_TEXT key; usually `kind`
    words: dict[str, str]  # the sentence's parameters: VALIDATOR_TEXT keys, or literal numbers
    given: dict[str, Any]  # what Litestar put in the item (`key`, `source`): kept on the wire as it was

    def sentence_in(self, lang: str) -> str:
        """The refusal in one sentence, starting lower case (it follows the detail's colon)."""
        subject = "subject/whole-body" if self.field is None else f"subject/{self.source}"
        subject = subject if subject in VALIDATOR_TEXT else "subject/body"
        params = {**self.words, "subject": _say(subject, lang, field=self.field)}
        for name in ("comparison", "unit"):  # VALIDATOR_TEXT keys
            if name in self.words:
                params[name] = _say(self.words[name], lang)
        if "expected" in self.words:
            expected = self.words["expected"].split(" | ")  # msgspec's `int | null`
            params["expected"] = _say("type/or", lang).join(_type_in(t, lang) for t in expected)
            params["got"] = _type_in(self.words["got"], lang)
        return _say(self.sentence, lang, **params)

    def wire(self, lang: str) -> dict[str, Any]:
        """The item of the problem's `errors` member: machine-readable `field` and `kind`, and a sentence."""
        sentence = self.sentence_in(lang)
        return {
            "message": sentence[0].upper() + sentence[1:] + ".",
            **self.given,
            "field": self.field,
            "kind": self.kind,
        }


def _say(key: str, lang: str, **params: Any) -> str:
    return translate(lang, VALIDATOR_TEXT[key], **params)


def _type_in(name: str, lang: str) -> str:
    key = "type/duration" if name == "timedelta" else f"type/{name}"
    return _say(key if key in VALIDATOR_TEXT else "type/other", lang)


# msgspec's and Litestar's messages (after their ` - at `$.path`` suffix): pattern, kind, sentence.
_FORMS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(p), kind, sentence)
    for p, kind, sentence in [
        (r"Object missing required field `(?P<name>[^`]+)`", "missing", "missing"),
        (r"'data'$", "missing", "missing"),  # Litestar: no body at all
        (r"Missing required (?P<source>query|header|cookie|path) parameter '(?P<name>[^']+)'", "missing", "missing"),
        (r"Object contains unknown field `(?P<name>[^`]+)`", "unknown-field", "unknown-field"),
        (
            r"Expected `(?P<unit>str|bytes|array|object)` of (?:length <=|at most length) (?P<limit>\d+)",
            "too-long",
            "too-long",
        ),
        (
            r"Expected `(?P<unit>str|bytes|array|object)` of (?:length >=|at least length) (?P<limit>\d+)",
            "too-short",
            "too-short",
        ),
        (r"Expected `array` of length \d+", "wrong-length", "wrong-length"),
        (r"Expected `(?:int|float)` (?P<comparison><=|>=|<|>) (?P<limit>\S+)$", "out-of-range", "out-of-range"),
        (r"(?:Integer value|Number|Timestamp is|Duration is) out of range", "out-of-range", "out-of-range/unbounded"),
        (r"Expected `str` matching regex", "pattern", "pattern"),
        (r"Invalid (?:enum )?value ", "not-allowed", "not-allowed"),
        (r"Invalid RFC3339 encoded datetime", "datetime", "datetime"),
        (r"Expected `datetime` with a timezone component", "timezone", "timezone"),
        (r"Invalid UUID", "uuid", "uuid"),
        (r"JSON is malformed: .* \(byte (?P<byte>\d+)\)$", "malformed-json", "malformed-json/at"),
        (r"JSON is malformed|Input data was truncated", "malformed-json", "malformed-json"),
        (r"Expected `(?P<expected>[^`]+)`, got `(?P<got>[^`]+)`", "wrong-type", "wrong-type"),
    ]
]
MAX_FIELD_ECHO = 100
_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def violation(message: str, key: str | None = None, source: str | None = None) -> Violation:
    """What a msgspec or Litestar message says, as a Violation; an unknown form is kind `invalid`,
    still naming its field, so no English reaches the answer."""
    source = getattr(source, "value", source)  # Litestar's ParamType, a str enum
    given = {name: value for name, value in (("key", key), ("source", source)) if value is not None}
    field: str | None = None
    if at := _AT_PATH.search(message):
        message, field = message[: at.start()], at.group("path") or None
    if key is not None:  # Litestar's key: the body field's path ("data" is the body), or a parameter's name
        field = None if key == "data" and source in (None, "body") else key
    kind, sentence, words = "invalid", "invalid", {}
    for pattern, form_kind, form_sentence in _FORMS:
        if match := pattern.match(message):
            kind, sentence, words = form_kind, form_sentence, match.groupdict()
            break
    source = words.pop("source", None) or source or "body"
    if name := words.pop("name", None):  # the field named in the message is inside the one at `field`
        field = f"{field}.{name}" if field and source == "body" else name
    if "comparison" in words:
        words["comparison"] = f"comparison/{words['comparison']}"
    if "unit" in words:
        words["unit"] = f"unit/{words['unit']}"
    if field and len(field) > MAX_FIELD_ECHO:  # a client's unknown field name comes back to it, bounded
        field = field[:MAX_FIELD_ECHO] + "…"
    return Violation(kind, field, source if field else "body", sentence, words, given)


# Where a person's browser reads the answers (the customers' portal): a problem there is a page in words,
# rendered by the app's `problem_pages` state, (path prefix, page) pairs; problem+json everywhere else.
ProblemPage = Callable[[Request[Any, Any, Any], "LocalizedProblem"], Response[Any]]


class LocalizedProblem(ProblemDetailsException):
    """A problem whose human text is chosen per request from the message catalog: the code's stable
    `title`, and the `detail` of this occurrence."""

    def __init__(
        self,
        code: str,
        status: int,
        params: dict[str, Any],
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        violations: list[Violation] | None = None,
        rows: tuple[RowError, ...] = (),
    ) -> None:
        super().__init__(status_code=status, type_=PROBLEM_BASE + code, headers=headers, extra=extra)
        self.code = code
        self.params = params
        self.violations = violations or []
        self.rows = rows

    def worded(self, lang: str) -> tuple[str, str]:
        """The title and the detail in `lang` (a violation's or a bad line's words also into `extra`)."""
        params = self.params
        if self.violations:
            params = {**params, "detail": "; ".join(v.sentence_in(lang) for v in self.violations)}
            self.extra = {**(self.extra or {}), "errors": [v.wire(lang) for v in self.violations]}
        if self.rows:
            worded = [row_wire(row, lang) for row in self.rows]
            params = {**params, "errors": "; ".join(w["message"] for w in worded[:MAX_ROWS_IN_DETAIL])}
            self.extra = {**(self.extra or {}), "errors": worded}
        return MESSAGES[self.code].title_in(lang), MESSAGES[self.code].detail_in(lang, params)

    def to_response(self, request: Request[Any, Any, Any]) -> Response[Any]:
        pages: tuple[tuple[str, ProblemPage], ...] = getattr(request.app.state, "problem_pages", ())
        path = request.url.path
        page = next((render for prefix, render in pages if path == prefix or path.startswith(prefix + "/")), None)
        # A person's browser reads it: the problem as a page in words. A page's own script (the portal's
        # upload.js) asks for problem+json and says its detail itself.
        if page is not None and PROBLEM_JSON not in request.headers.get("accept", ""):
            return page(request, self)
        lang = preferred_language(request.headers.get("accept-language"))
        self.title, self.detail = self.worded(lang)
        response = super().to_response(request)
        # request_id: the X-Request-Id of the answer and of every log line about it (backend/access.py)
        response.content = {"code": self.code, **response.content, "request_id": current_request_id()}
        response.headers["Content-Language"] = lang
        if self.status_code == 401 and not any(h.lower() == "www-authenticate" for h in response.headers):
            response.headers["WWW-Authenticate"] = bearer_challenge(request.headers.get("authorization"))
        return response


def row_wire(row: RowError, lang: str) -> dict[str, Any]:
    """A bad line of a batch as an item of the problem's `errors`: its line, field and kind, and words."""
    if row.validator is None:
        return {"line": row.line, "field": row.field, "kind": row.kind, "message": row.text(lang)}
    said = violation(row.validator)
    text = translate(lang, ROW_TEXT["line"], line=row.line, text=said.sentence_in(lang))
    return {"line": row.line, "field": said.field, "kind": said.kind, "message": text}


def bearer_challenge(authorization: str | None) -> str:
    """RFC 6750's challenge of a 401: `invalid_token` when a bearer token was sent and refused."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return f'Bearer realm="{REALM}", error="invalid_token"'
    return f'Bearer realm="{REALM}"'


def _from_domain(exc: DomainError) -> LocalizedProblem:
    headers = dict(exc.headers)
    if "retry_after_s" in exc.params:
        headers["Retry-After"] = str(exc.params["retry_after_s"])
    return LocalizedProblem(exc.code, exc.status, exc.params, exc.extra or None, headers or None, rows=exc.rows)


def _from_http(exc: HTTPException) -> LocalizedProblem:
    if exc.status_code >= 500:
        log.error("server error: %s", exc.detail)
        return LocalizedProblem("request/error", exc.status_code, {})
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    if exc.status_code == 403 and exc.detail == LITESTAR_CSRF_REFUSAL:
        # A page left open past its session, or a form posted from elsewhere: not "no access", but reload.
        return LocalizedProblem("request/form-expired", 403, {}, headers=exc.headers)
    code = _STATUS_CODES.get(exc.status_code, "request/invalid")
    if code == "request/invalid":  # malformed JSON, a bad Content-Length, ...: Litestar's words, translated
        return LocalizedProblem(code, exc.status_code, {}, headers=exc.headers, violations=[violation(exc.detail)])
    return LocalizedProblem(code, exc.status_code, {}, headers=exc.headers)


def _from_validation(exc: ValidationException) -> LocalizedProblem:
    items = [e for e in exc.extra if isinstance(e, dict)] if isinstance(exc.extra, list) else []
    for item in items:
        match = _UNKNOWN_FIELD.search(str(item.get("message", "")))
        if match and match.group(1) in SERVER_OWNED_FIELDS:
            return LocalizedProblem("request/server-owned-field", 422, {"field": match.group(1)})
    violations = [violation(str(e.get("message", "")), e.get("key"), e.get("source")) for e in items]
    return LocalizedProblem("request/invalid", 400, {}, violations=violations or [violation(exc.detail)])


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return LocalizedProblem("request/error", 500, {}).to_response(request)


def problem_details_plugin() -> ProblemDetailsPlugin:
    """The plugin that renders DomainError and every HTTPException as localized problem+json."""
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=True,
            exception_to_problem_detail_map={DomainError: _from_domain, HTTPException: _from_http},
        )
    )


UNEXPECTED_HANDLERS = {Exception: _unexpected}
