"""The error answers of the OpenAPI document: the `Problem` schema (the problem+json of backend/problems.py),
what each status means here with a typical example, and the Retry-After header of 429 and 503.

Apart from the rule (backend/openapi.py): this is the part of the document that reads the message
catalog (backend/errors.py, Message(title, detail)); the examples are worded by it, as answers are."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Example, OpenAPIHeader, OpenAPIType, Reference, Schema

from backend.errors import MESSAGES
from backend.problems import PROBLEM_BASE

PROBLEM_MEDIA_TYPE = "application/problem+json"
EXAMPLE_REQUEST_ID = "5f0c2a9e8b7d4c1e9a3b6d2f4e8c1a7b"
# One refusal of a 400 as problems.py words it (English).
ERROR_400 = {
    "message": "The field 'payload' is required but missing.",
    "key": "data",
    "source": "body",
    "field": "payload",
    "kind": "missing",
}

# Every 429 and 503 carries Retry-After (backend/problems.py sets it from the error's `retry_after_s`).
RETRY_AFTER_STATUSES = frozenset({429, 503})
RETRY_AFTER = "RetryAfter"  # the components/headers entry
RETRY_AFTER_HEADER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1, examples=[3]),
    description="Seconds to wait before sending the request again (RFC 9110, 10.2.3); nothing was lost.",
    required=True,
)
RETRY_AFTER_REF = Reference(ref=f"#/components/headers/{RETRY_AFTER}")


class Problem(msgspec.Struct, kw_only=True):
    """An error, as RFC 9457 problem+json: a stable `code` to branch on and a `title` to show (Dutch, or
    English with Accept-Language: en). Some problems carry more fields (`errors`, `holder`, ...)."""

    type: Annotated[str, msgspec.Meta(examples=[PROBLEM_BASE + "install/not-found"])]
    title: Annotated[str, msgspec.Meta(examples=["Install not found"], description="stable per code and language")]
    status: Annotated[int, msgspec.Meta(ge=400, le=599, examples=[404])]
    detail: Annotated[str, msgspec.Meta(examples=["This install was not found."], description="this occurrence")]
    code: Annotated[str, msgspec.Meta(examples=["install/not-found"], description="stable: branch on this")]
    request_id: Annotated[
        str | None, msgspec.Meta(examples=[EXAMPLE_REQUEST_ID], description="the X-Request-Id of the answer")
    ]
    errors: Annotated[
        list[Any] | None,
        msgspec.Meta(
            description="400: each refusal {message, key, source, field, kind}; "
            "assets/invalid-batch: each bad row {line, field, kind, message}"
        ),
    ] = None
    holder: Annotated[str | None, msgspec.Meta(description="review/claimed-by-other: who holds the case")] = None
    lease_expires_at: Annotated[datetime | None, msgspec.Meta(description="review/claimed-by-other: until")] = None
    current_version: Annotated[int | None, msgspec.Meta(description="review/stale-version: reload this version")] = None
    limit: Annotated[str | None, msgspec.Meta(description="connection/claim-rate-limited: which limit")] = None
    expected_offset: Annotated[
        int | None, msgspec.Meta(description="upload/offset-mismatch: the offset the upload is at (the draft's)")
    ] = msgspec.field(default=None, name="expected-offset")
    provided_offset: Annotated[
        int | None, msgspec.Meta(description="upload/offset-mismatch: the offset the request gave (the draft's)")
    ] = msgspec.field(default=None, name="provided-offset")


@dataclass(frozen=True)
class _Status:
    description: str
    code: str  # the example's code
    params: dict[str, Any]


# What each status means here, and a typical problem of it (README "Errors"; codes in backend/errors.py).
STATUSES: dict[int, _Status] = {
    400: _Status(
        "Malformed: a body or parameter that does not decode (`request/invalid`, with `errors`).",
        "request/invalid",
        {"detail": "the field 'payload' is required but missing"},
    ),
    401: _Status("No valid bearer token (`auth/unauthenticated`).", "auth/unauthenticated", {}),
    403: _Status(
        "The token's role may not use this operation (`auth/forbidden`), or the caller may read the install "
        "but only its creator changes it (`install/not-creator`).",
        "auth/forbidden",
        {},
    ),
    404: _Status(
        "Not found, or not the caller's (`install/not-found`, `review/case-not-found`, ...).", "install/not-found", {}
    ),
    408: _Status(
        "The body did not arrive in time; send it again (`request/body-timeout`).",
        "request/body-timeout",
        {"timeout_s": 30},
    ),
    409: _Status(
        "Conflicts with the current state: reload and retry (`install/state-conflict`, `install/id-conflict`, ...).",
        "install/state-conflict",
        {"state": "approved"},
    ),
    412: _Status(
        "A precondition of the protocol is not met: tus without `Tus-Resumable: 1.0.0` (`upload/tus-version`).",
        "upload/tus-version",
        {"version": "1.0.0"},
    ),
    413: _Status(
        "The body is too large (`request/too-large`, `photo/too-large`, `photo/too-many-pixels`).",
        "request/too-large",
        {},
    ),
    415: _Status(
        "This Content-Type is not accepted (`request/unsupported-media-type`, `photo/unsupported-type`).",
        "request/unsupported-media-type",
        {"accepted": "application/json, text/csv"},
    ),
    422: _Status(
        "Well-formed but refused by a rule (`qr/forged`, `request/server-owned-field`, ...).", "qr/forged", {}
    ),
    429: _Status(
        "Too many requests; wait Retry-After seconds (`request/rate-limited`, `connection/claim-rate-limited`).",
        "request/rate-limited",
        {},
    ),
    503: _Status(
        "Busy or a dependency is down; nothing was lost, retry after Retry-After seconds "
        "(`service/busy`, `service/database-unavailable`, ...).",
        "service/busy",
        {"retry_after_s": 3},  # BUSY_RETRY_AFTER_S
    ),
}


def problem_example(status: int) -> dict[str, Any]:
    """A problem of `status` as the server sends it (English text)."""
    spec = STATUSES[status]
    message = MESSAGES[spec.code]
    example: dict[str, Any] = {
        "code": spec.code,
        "status": status,
        "type": PROBLEM_BASE + spec.code,
        "title": message.title_in("en"),
        "detail": message.detail_in("en", spec.params),
        "request_id": EXAMPLE_REQUEST_ID,
    }
    if status == 400:
        example["errors"] = [ERROR_400]
    return example


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """The problem+json answer of `status`, with its schema and an example."""
    return ResponseSpec(
        Problem,
        description=description or STATUSES[status].description,
        media_type=PROBLEM_MEDIA_TYPE,
        examples=[Example(summary=STATUSES[status].code, value=problem_example(status))],
        generate_examples=False,
    )
