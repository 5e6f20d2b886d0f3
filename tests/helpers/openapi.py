"""The app's OpenAPI document and what it is generated from, for the contract tests."""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import msgspec.inspect as mi
from httpx import AsyncClient
from litestar import Litestar, Response
from litestar.handlers import HTTPRouteHandler
from litestar.response import File, Stream
from litestar.routes import HTTPRoute

from backend.app import create_app
from backend.settings import Settings

METHODS = ("get", "head", "put", "post", "delete", "patch")


async def fetch(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    return {
        op["operationId"]: (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


@asynccontextmanager
async def built_app(settings: Settings) -> AsyncIterator[Litestar]:
    """An app to read the handlers of (not served). Needs the `client` fixture (the pool)."""
    app = create_app(settings)
    try:
        yield app
    finally:
        await app.state.ctx.store.aclose()


def handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    """Every handler in the document."""
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            yield from (h for h in route.route_handlers if h.resolve_include_in_schema())


def returns_bytes(handler: HTTPRouteHandler) -> bool:
    """Whether the handler answers raw bytes (a stream, a file, bytes, Response[bytes]) rather than JSON."""
    returned = handler.parsed_fn_signature.return_type
    if returned.is_subclass_of(Response) and returned.inner_types:
        returned = returned.inner_types[0]
    return returned.is_subclass_of((Stream, File, bytes))


def wire_structs(app: Litestar) -> dict[str, type[msgspec.Struct]]:
    """Every msgspec Struct a handler reads or answers (nested ones included), by class name."""
    found: dict[str, type[msgspec.Struct]] = {}

    def visit(t: mi.Type) -> None:
        if isinstance(t, mi.StructType):
            if found.setdefault(t.cls.__name__, t.cls) is not t.cls:
                raise AssertionError(f"two wire Structs named {t.cls.__name__}")
            for f in t.fields:
                visit(f.type)
        elif isinstance(t, mi.Metadata):
            visit(t.type)
        elif isinstance(t, mi.UnionType):
            for member in t.types:
                visit(member)
        elif isinstance(t, (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)):
            visit(t.item_type)
        elif isinstance(t, mi.DictType):
            visit(t.value_type)

    def visit_annotation(annotation: Any) -> None:
        for candidate in (annotation, *typing.get_args(annotation)):  # Response[X], list[X], Annotated[X, ...]
            if isinstance(candidate, type) and issubclass(candidate, msgspec.Struct) or typing.get_args(candidate):
                visit(mi.type_info(candidate))

    for handler in handlers(app):
        signature = handler.parsed_fn_signature
        visit_annotation(signature.return_type.annotation)
        for parameter in signature.parameters.values():
            visit_annotation(parameter.annotation)
        for response in (handler.responses or {}).values():
            visit_annotation(response.data_container)
    return found
