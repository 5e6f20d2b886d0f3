"""Schemas of wire types for the OpenAPI document: each msgspec Struct component with an example composed
from its fields' `Meta(examples=...)` (`StructExamples`), msgspec's own JSON schema of a type for a body
the handler reads itself (`json_schema`), and raw bytes (`BINARY`)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import msgspec.inspect as mi

# Private, but Litestar 2.x (pinned <3) exposes no public Struct schema plugin to extend (checked on 2.25).
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

EXAMPLE_TIME = "2026-05-12T09:41:00+02:00"
EXAMPLE_UUID = "0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10"
BINARY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)


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
