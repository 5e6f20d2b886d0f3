"""The OpenAPI document as a contract a generated client can use, built once for every surface.

- `ApiContract`, a route plugin: which problems an operation can answer follows from a rule
  (`problem_statuses`) over what the route is (public or guarded, body, path ids, method), so no route
  lists them by hand; a route's own 4xx/5xx `ResponseSpec` only adds a status or words it better.
  It also words each summary from the operation id, leaves public routes without security, declares
  Retry-After on every 429 and 503, and documents a success body of raw bytes in its media types.
- `raw_body` / `binary_body`: the `operation_class` of a route that reads its body itself (photo, CSV
  batch), so its request body is documented with the media types it accepts.
- `answers`: the `opt` of a route whose success body is raw bytes (a photo, a label), naming its media types.
- Every POST that takes an Idempotency-Key (backend/idempotency) documents the header, its problems (400 a
  bad key, 409 in flight with Retry-After, 422 the key of another request) and `Idempotent-Replayed`.

The problem answers themselves are in backend/openapi_problems.py, Struct schemas and their examples in
backend/openapi_schemas.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar.constants import RESERVED_KWARGS
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import (
    Components,
    Example,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from backend.admission import EXEMPT_PREFIXES
from backend.idempotency import takes_key
from backend.openapi_problems import (
    RETRY_AFTER,
    RETRY_AFTER_HEADER,
    RETRY_AFTER_REF,
    RETRY_AFTER_STATUSES,
    problem_response,
)
from backend.openapi_schemas import BINARY, StructExamples

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANSWERS = "openapi_answers"  # the `opt` key `answers` sets

IDEMPOTENCY_KEY = "IdempotencyKey"  # components/parameters
IDEMPOTENCY_KEY_PARAMETER = Parameter(
    name="Idempotency-Key",
    param_in="header",
    schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=257),  # 255 characters, or quoted
    description="Makes a retry safe: the same key with the same request answers the first answer again for "
    "24 h (`Idempotent-Replayed: true`), never running it twice; per principal. 1-255 visible ASCII "
    'characters, bare or as a quoted string (`"…"`); a new UUID per operation. With the key of another request '
    "422 `idempotency/key-reused`; while that request still runs 409 `idempotency/in-flight` with Retry-After.",
    required=False,
    examples={"uuid": Example(value="8e03978e-40d5-43e8-bc93-6894a57f9324")},
)
IDEMPOTENT_REPLAYED = "IdempotentReplayed"  # components/headers
IDEMPOTENT_REPLAYED_HEADER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING, enum=["true"]),
    description="Present when this is the stored answer to an earlier request with the same Idempotency-Key.",
)
RETRY_AFTER_IN_FLIGHT = "RetryAfterInFlight"  # components/headers: 409 idempotency/in-flight only
RETRY_AFTER_IN_FLIGHT_HEADER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1, examples=[1]),
    description="With `idempotency/in-flight`: seconds after which the same request gets its answer.",
)
IDEMPOTENT_WORDS = {
    400: " A malformed Idempotency-Key: `idempotency/invalid-key`.",
    409: " The same Idempotency-Key is still being answered: `idempotency/in-flight` (Retry-After).",
    422: " The Idempotency-Key of another request: `idempotency/key-reused`.",
}


@dataclass(frozen=True)
class RouteFacts:
    """What the rule needs to know of an operation."""

    public: bool  # excluded from authentication (probes, metrics)
    admitted: bool  # under the in-flight bound (backend/admission.py), so it can be busy
    has_body: bool
    raw_body: bool  # read by the handler itself: its media types are checked (415)
    has_parameters: bool
    has_path_id: bool
    state_changing: bool
    idempotent: bool  # takes an Idempotency-Key (backend/idempotency)


def problem_statuses(facts: RouteFacts) -> set[int]:
    """The problems an operation can answer, by rule (README "Errors"):

    guarded → 401, 403 and 429 (the rate limiter covers every guarded route); a state change → 409;
    a path id → 404; a body or parameters → 400; a body → 408, 413, 422; a raw body → 415;
    under the in-flight bound → 503 (busy, or a dependency down); an Idempotency-Key → 400, 409, 422."""
    statuses: set[int] = set()
    if not facts.public:
        statuses |= {401, 403, 429}
        if facts.state_changing:
            statuses.add(409)
    if facts.has_path_id:
        statuses.add(404)
    if facts.has_body or facts.has_parameters:
        statuses.add(400)
    if facts.has_body:
        statuses |= {408, 413, 422}
    if facts.raw_body:
        statuses.add(415)
    if facts.admitted:
        statuses.add(503)
    if facts.idempotent:
        statuses |= {400, 409, 422}
    return statuses


def route_facts(route: HTTPRoute, handler: Any) -> RouteFacts:
    """The facts of one handler of `route`."""
    signature = handler.parsed_fn_signature.parameters
    dependencies = set(handler.resolve_dependencies())
    path_params = set(route.path_parameters)  # names
    query = set(signature) - RESERVED_KWARGS - dependencies - path_params
    raw = _raw_body(handler)
    return RouteFacts(
        public=bool(handler.opt.get("exclude_from_auth")),
        admitted=not route.path.startswith(EXEMPT_PREFIXES),
        has_body=reads_body(handler),
        raw_body=raw,
        has_parameters=bool(query or path_params),
        has_path_id=bool(path_params),
        state_changing=bool(STATE_CHANGING & set(handler.http_methods)),
        idempotent=any(takes_key(method, route.path) for method in handler.http_methods),
    )


def _raw_body(handler: Any) -> bool:
    return getattr(handler.operation_class, "raw_body", None) is not None


def reads_body(handler: Any) -> bool:
    """Whether a route handler reads the request body: a `data` parameter, or a raw body it reads itself."""
    return "data" in handler.parsed_fn_signature.parameters or _raw_body(handler)


def raw_body(body: RequestBody) -> type[Operation]:
    """The `operation_class` of a route that reads its body itself, documenting it as `body`."""

    @dataclass
    class RawBodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = body

    RawBodyOperation.raw_body = body  # type: ignore[attr-defined]  # read by route_facts
    return RawBodyOperation


def binary_body(media_types: Iterable[str], description: str) -> RequestBody:
    """A body of raw bytes in any of `media_types`."""
    content = {m: OpenAPIMediaType(schema=BINARY) for m in sorted(media_types)}
    return RequestBody(content=content, description=description, required=True)


def answers(*media_types: str) -> dict[str, Any]:
    """The `opt` of a route whose success body is raw bytes in one of `media_types` (by its Content-Type)."""
    return {ANSWERS: tuple(sorted(set(media_types)))}


def _finished(
    base: type[Operation], success: str, public: bool, media_types: tuple[str, ...], idempotent: bool
) -> type[Operation]:
    """`base` (Litestar's Operation, or a raw_body one) with what ResponseSpec cannot say: no security on
    a public route, the Retry-After header of 429 and 503, a binary success body in several media types,
    and the Idempotency-Key with its headers."""

    @dataclass
    class ContractOperation(base):  # type: ignore[valid-type, misc]
        def __post_init__(self) -> None:
            if hasattr(base, "__post_init__"):
                base.__post_init__(self)  # type: ignore[attr-defined]
            if public:
                self.security = []
            for status, response in (self.responses or {}).items():
                if not isinstance(response, OpenAPIResponse):
                    continue
                if int(status) in RETRY_AFTER_STATUSES:
                    response.headers = {**(response.headers or {}), "Retry-After": RETRY_AFTER_REF}
                if status == success and media_types:
                    response.content = {m: OpenAPIMediaType(schema=BINARY) for m in media_types}
                if idempotent and int(status) < 400:
                    response.headers = {**(response.headers or {}), "Idempotent-Replayed": _ref(IDEMPOTENT_REPLAYED)}
                if idempotent and int(status) == 409:
                    response.headers = {**(response.headers or {}), "Retry-After": _ref(RETRY_AFTER_IN_FLIGHT)}
            if idempotent:
                key = Reference(ref=f"#/components/parameters/{IDEMPOTENCY_KEY}")
                self.parameters = [*(self.parameters or []), key]

    ContractOperation.contract = True  # type: ignore[attr-defined]
    return ContractOperation


def _ref(header: str) -> Reference:
    return Reference(ref=f"#/components/headers/{header}")


def _summary(operation_id: str) -> str:
    """'AskForHelp' -> 'Ask for help'."""
    words = re.findall(r"[A-Z][a-z0-9]*", operation_id)
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else operation_id


class ApiContract(ReceiveRoutePlugin):
    """Applies the rule to every route as it is registered: problem responses, summary, operation class."""

    def receive_route(self, route: Any) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            if getattr(handler.operation_class, "contract", False):
                continue  # a handler mounted on a second route: already done
            facts = route_facts(route, handler)
            declared = dict(handler.responses or {})
            problems = {s: problem_response(s) for s in sorted(problem_statuses(facts))}
            for status, spec in list(declared.items()):
                if status >= 400:  # the route's own words for a problem it answers
                    problems[status] = problem_response(status, spec.description)
                    del declared[status]
            if facts.idempotent:
                for status, words in IDEMPOTENT_WORDS.items():
                    problems[status] = problem_response(status, (problems[status].description or "") + words)
            handler.responses = {**declared, **problems} or None
            if handler.summary is None and isinstance(handler.operation_id, str):
                handler.summary = _summary(handler.operation_id)
            handler.operation_class = _finished(
                handler.operation_class,
                str(handler.status_code),
                facts.public,
                handler.opt.get(ANSWERS, ()),
                facts.idempotent,
            )


def contract_plugins() -> tuple[ApiContract, StructExamples]:
    """The app's OpenAPI plugins (listed before Litestar's own, so StructExamples handles Structs)."""
    return ApiContract(), StructExamples()


def openapi_config() -> OpenAPIConfig:
    """The document at /schema/openapi.json (Swagger UI at /schema/swagger)."""
    return OpenAPIConfig(
        title="selfinstall",
        version="1.0.0",
        description="Self-install API of the grid operator. Every error is application/problem+json "
        "(`Problem`) with a stable `code`; texts are Dutch, or English with `Accept-Language: en`.",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        use_handler_docstrings=True,  # each handler's one-line docstring is its OpenAPI description
        components=Components(
            headers={
                RETRY_AFTER: RETRY_AFTER_HEADER,
                IDEMPOTENT_REPLAYED: IDEMPOTENT_REPLAYED_HEADER,
                RETRY_AFTER_IN_FLIGHT: RETRY_AFTER_IN_FLIGHT_HEADER,
            },
            parameters={IDEMPOTENCY_KEY: IDEMPOTENCY_KEY_PARAMETER},
        ),
    )
