"""Maps every error once to RFC 9457 problem+json, in Dutch by default or English on request."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin

from backend.errors import MESSAGES, DomainError
from backend.logs import current_request_id

log = logging.getLogger("selfinstall")

PROBLEM_BASE = "https://selfinstall.example/problems/"
SERVER_OWNED_FIELDS = frozenset(
    {"state", "decision", "owner", "owner_subject", "reasons", "checks", "created_by", "created_at", "approved_at"}
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
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def preferred_language(accept_language: str | None) -> str:
    """'en' when the client prefers English over Dutch, else 'nl' (the default)."""
    best, best_q = "nl", 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, q_part = part.strip().partition(";")
        lang = tag.strip().lower()[:2]
        try:
            q = float(q_part.strip().removeprefix("q=")) if q_part else 1.0
        except ValueError:
            continue
        q -= position * 1e-6  # equal weights: the first listed wins
        if lang in ("nl", "en") and q > best_q:
            best, best_q = lang, q
    return best


class LocalizedProblem(ProblemDetailsException):
    """A problem whose human text is chosen per request from the message catalog."""

    def __init__(
        self,
        code: str,
        status: int,
        params: dict[str, Any],
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status_code=status, type_=PROBLEM_BASE + code, headers=headers, extra=extra)
        self.code = code
        self.params = params

    def to_response(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        lang = preferred_language(request.headers.get("accept-language"))
        nl, en = MESSAGES[self.code]
        template = en if lang == "en" else nl
        self.title = template.format(**self.params)
        self.detail = self.title
        response = super().to_response(request)
        # request_id: the X-Request-Id of the answer and of every log line about it (backend/access.py)
        response.content = {"code": self.code, **response.content, "request_id": current_request_id()}
        response.headers["Content-Language"] = lang
        return response


def _from_domain(exc: DomainError) -> LocalizedProblem:
    headers = dict(exc.headers)
    if "retry_after_s" in exc.params:
        headers["Retry-After"] = str(exc.params["retry_after_s"])
    return LocalizedProblem(exc.code, exc.status, exc.params, exc.extra or None, headers or None)


def _from_http(exc: HTTPException) -> LocalizedProblem:
    if exc.status_code >= 500:
        log.error("server error: %s", exc.detail)
        return LocalizedProblem("request/error", exc.status_code, {})
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    code = _STATUS_CODES.get(exc.status_code, "request/invalid")
    params = {"detail": exc.detail} if code == "request/invalid" else {}
    return LocalizedProblem(code, exc.status_code, params, headers=exc.headers)


def _from_validation(exc: ValidationException) -> LocalizedProblem:
    errors = exc.extra if isinstance(exc.extra, list) else []
    messages = [str(e.get("message", "")) for e in errors if isinstance(e, dict)]
    for message in messages:
        match = _UNKNOWN_FIELD.search(message)
        if match and match.group(1) in SERVER_OWNED_FIELDS:
            return LocalizedProblem("request/server-owned-field", 422, {"field": match.group(1)})
    detail = "; ".join(m for m in messages if m) or exc.detail
    return LocalizedProblem("request/invalid", 400, {"detail": detail}, {"errors": errors})


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
