"""The OpenAPI document as a contract a generated client can use, built once for every surface.

- `Problem`: the problem+json every error is (backend/problems.py), with an example per status.
- `ApiContract`, a route plugin: which problems an operation can answer follows from a rule
  (`problem_statuses`) over what the route is (public or guarded, body, path ids, method), so no route
  lists them by hand; a route's own 4xx/5xx `ResponseSpec` only adds a status or words it better.
  It also words each summary from the operation id and leaves public routes without security.
- `raw_body`: the `operation_class` of a route that reads its body itself (photo, CSV batch), so its
  request body is documented with the media types it accepts.
- `StructExamples`: each msgspec Struct component gets an example composed from its fields'
  `Meta(examples=...)`, when every required field has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.constants import RESERVED_KWARGS
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Example, OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import HTTPRoute

from backend.admission import EXEMPT_PREFIXES
from backend.errors import MESSAGES
from backend.problems import PROBLEM_BASE

PROBLEM_MEDIA_TYPE = "application/problem+json"
EXAMPLE_REQUEST_ID = "5f0c2a9e8b7d4c1e9a3b6d2f4e8c1a7b"
EXAMPLE_TIME = "2026-05-12T09:41:00+02:00"
EXAMPLE_UUID = "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10"


class Problem(msgspec.Struct, kw_only=True):
    """An error, as RFC 9457 problem+json: a stable `code` to branch on and a `title` to show (Dutch, or
    English with Accept-Language: en). Some problems carry more fields (`errors`, `holder`, ...)."""

    type: Annotated[str, msgspec.Meta(examples=[PROBLEM_BASE + "install/not-found"])]
    title: Annotated[str, msgspec.Meta(examples=["This install was not found."])]
    status: Annotated[int, msgspec.Meta(ge=400, le=599, examples=[404])]
    detail: Annotated[str, msgspec.Meta(examples=["This install was not found."])]
    code: Annotated[str, msgspec.Meta(examples=["install/not-found"], description="stable: branch on this")]
    request_id: Annotated[
        str | None, msgspec.Meta(examples=[EXAMPLE_REQUEST_ID], description="the X-Request-Id of the answer")
    ]
    errors: Annotated[
        list[Any] | None, msgspec.Meta(description="400: each decoding error; assets/invalid-batch: each bad row")
    ] = None
    holder: Annotated[str | None, msgspec.Meta(description="review/claimed-by-other: who holds the case")] = None
    lease_expires_at: Annotated[datetime | None, msgspec.Meta(description="review/claimed-by-other: until")] = None
    current_version: Annotated[int | None, msgspec.Meta(description="review/stale-version: reload this version")] = None
    limit: Annotated[str | None, msgspec.Meta(description="connection/claim-rate-limited: which limit")] = None


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
        {"detail": "Object missing required field `payload`"},
    ),
    401: _Status("No valid bearer token (`auth/unauthenticated`).", "auth/unauthenticated", {}),
    403: _Status("The token's role may not use this operation (`auth/forbidden`).", "auth/forbidden", {}),
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
        {"retry_after_s": 2},
    ),
}
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _english(code: str, params: dict[str, Any]) -> tuple[str, str]:
    """The English (title, detail) of `code`: a catalog entry is a Message(title, detail) of (nl, en)
    pairs, or (while backend/errors.py moves to that) one (nl, en) pair serving as both."""
    message = MESSAGES[code]
    if hasattr(message, "detail_in"):
        return message.title_in("en"), message.detail_in("en", params)
    text = message[1].format(**params)
    return text, text


def problem_example(status: int) -> dict[str, Any]:
    """A problem of `status` as the server sends it (English text)."""
    spec = STATUSES[status]
    title, detail = _english(spec.code, spec.params)
    example: dict[str, Any] = {
        "code": spec.code,
        "status": status,
        "type": PROBLEM_BASE + spec.code,
        "title": title,
        "detail": detail,
        "request_id": EXAMPLE_REQUEST_ID,
    }
    if status == 400:
        example["errors"] = [{"message": spec.params["detail"], "key": "payload", "source": "body"}]
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


def problem_statuses(facts: RouteFacts) -> set[int]:
    """The problems an operation can answer, by rule (README "Errors"):

    guarded → 401, 403 and 429 (the rate limiter covers every guarded route); a state change → 409;
    a path id → 404; a body or parameters → 400; a body → 408, 413, 422; a raw body → 415;
    under the in-flight bound → 503 (busy, or a dependency down)."""
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
    return statuses


def route_facts(route: HTTPRoute, handler: Any) -> RouteFacts:
    """The facts of one handler of `route`."""
    signature = handler.parsed_fn_signature.parameters
    dependencies = set(handler.resolve_dependencies())
    path_params = set(route.path_parameters)  # names
    query = set(signature) - RESERVED_KWARGS - dependencies - path_params
    raw = getattr(handler.operation_class, "raw_body", None) is not None
    return RouteFacts(
        public=bool(handler.opt.get("exclude_from_auth")),
        admitted=not route.path.startswith(EXEMPT_PREFIXES),
        has_body="data" in signature or raw,
        raw_body=raw,
        has_parameters=bool(query or path_params),
        has_path_id=bool(path_params),
        state_changing=bool(STATE_CHANGING & set(handler.http_methods)),
    )


@dataclass
class _PublicOperation(Operation):
    """An operation outside authentication: no bearer token asked."""

    def __post_init__(self) -> None:
        self.security = []


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
    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    content = {m: OpenAPIMediaType(schema=binary) for m in sorted(media_types)}
    return RequestBody(content=content, description=description, required=True)


def json_schema(type_: Any) -> Schema:
    """msgspec's JSON schema of `type_` (the wire type's own constraints), inlined, as an OpenAPI Schema."""
    raw = msgspec.json.schema(type_)
    definitions = raw.pop("$defs", {})

    def convert(node: Any) -> Any:
        if isinstance(node, list):
            return [convert(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return convert(definitions[node["$ref"].rsplit("/", 1)[-1]])
        kwargs = {}
        for key, value in node.items():
            name = re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()  # minLength -> min_length
            if key == "properties":
                value = {k: convert(v) for k, v in value.items()}
            elif key in ("items", "anyOf", "oneOf", "allOf"):
                value = convert(value)
            kwargs[name] = value
        return Schema(**kwargs)

    return convert(raw)  # type: ignore[no-any-return]


def _summary(operation_id: str) -> str:
    """'AskForHelp' -> 'Ask for help'."""
    words = re.findall(r"[A-Z][a-z0-9]*", operation_id)
    return " ".join([words[0], *(w.lower() for w in words[1:])]) if words else operation_id


class ApiContract(ReceiveRoutePlugin):
    """Applies the rule to every route as it is registered: problem responses, summary, public security."""

    def receive_route(self, route: Any) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for handler in route.route_handlers:
            facts = route_facts(route, handler)
            declared = dict(handler.responses or {})
            problems = {s: problem_response(s) for s in sorted(problem_statuses(facts))}
            for status, spec in list(declared.items()):
                if status >= 400:  # the route's own words for a problem it answers
                    problems[status] = problem_response(status, spec.description)
                    del declared[status]
            handler.responses = {**declared, **problems} or None
            if handler.summary is None and isinstance(handler.operation_id, str):
                handler.summary = _summary(handler.operation_id)
            if facts.public and handler.operation_class is Operation:
                handler.operation_class = _PublicOperation


_MISSING = object()


def _example(t: mi.Type, depth: int = 0) -> Any:
    """A value of type `t` from its `Meta(examples=...)`, a stand-in for self-explaining types, or _MISSING."""
    if depth > 8:
        return _MISSING
    if isinstance(t, mi.Metadata):
        examples = (t.extra_json_schema or {}).get("examples")
        return examples[0] if examples else _example(t.type, depth)
    if isinstance(t, mi.StructType):
        return _struct_example(t, depth + 1)
    if isinstance(t, mi.ListType):
        item = _example(t.item_type, depth + 1)
        return [] if item is _MISSING else [item]
    if isinstance(t, mi.UnionType):
        for member in t.types:
            if not isinstance(member, mi.NoneType) and (value := _example(member, depth)) is not _MISSING:
                return value
        return None if any(isinstance(m, mi.NoneType) for m in t.types) else _MISSING
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    stand_ins = {mi.DateTimeType: EXAMPLE_TIME, mi.UUIDType: EXAMPLE_UUID, mi.BoolType: False, mi.DictType: {}}
    return stand_ins.get(type(t), None if isinstance(t, mi.NoneType) else _MISSING)


def _struct_example(t: mi.StructType, depth: int) -> Any:
    example: dict[str, Any] = {}
    for f in t.fields:
        value = _example(f.type, depth)
        if value is _MISSING or (value is None and f.required):  # the document drops nulls from examples
            if f.required:
                return _MISSING
            value = msgspec.to_builtins(f.default) if f.default is not msgspec.NODEFAULT else _MISSING
        if value is not _MISSING:
            example[f.encode_name] = value
    return example


def struct_example(cls: type[msgspec.Struct]) -> dict[str, Any] | None:
    """The example of a Struct composed from its fields' examples; None when a required field has none."""
    value = _example(mi.type_info(cls))
    return None if value is _MISSING else value


class StructExamples(StructSchemaPlugin):
    """Litestar's Struct schemas, each with the example its fields compose (`struct_example`)."""

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        if not schema.examples and (example := struct_example(field_definition.type_)) is not None:
            schema.examples = [example]
        return schema


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
    )
