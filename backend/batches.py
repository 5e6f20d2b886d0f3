"""Batches an admin loads (warehouse assets, dispatch jobs): a JSON list or a CSV file, each line read as
the same request Struct, every bad line reported by its number before anything is stored.

Line numbers are 1-based: a JSON item's position, or a CSV line counting its header as line 1. A
batch's faults are raised together as one `Invalid(code, rows=...)`, worded where the problem is answered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import msgspec

from backend.errors import BadRequest, Invalid, RowError, Said, Unsupported

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")

JSON, CSV = "application/json", "text/csv"


def read_batch(
    content_type: str, body: bytes, item: type[S], columns: tuple[str, ...], code: str
) -> list[tuple[int, S]]:
    """The batch's items with their line numbers: a JSON list of `item`s, or UTF-8 CSV whose header starts
    with `columns` (an empty field is an absent one); 400/415 for a body that is no batch at all, 422 for
    one without a line (an admin who sent a header only, or the wrong file, is told: nothing was done)."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == JSON:
        items = _json_items(body, item, code)
    elif media_type == CSV:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadRequest("request/invalid", detail=Said("csv-not-utf8")) from None
        items = csv_items(text, item, columns, code)
    else:
        raise Unsupported("request/unsupported-media-type", accepted=f"{JSON}, {CSV}")
    if not items:
        raise Invalid(code, rows=[RowError(1, "empty-batch")])
    return items


def _json_items(body: bytes, item: type[S], code: str) -> list[tuple[int, S]]:
    """Each list item is checked on its own, so every bad one is reported by its position."""
    try:
        raws = msgspec.json.decode(body, type=list[msgspec.Raw])
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise BadRequest("request/invalid", detail=Said("not-a-batch")) from None
    except RecursionError:  # msgspec follows nesting only as deep as the interpreter's recursion limit
        raise BadRequest("request/too-deeply-nested") from None
    decoder = msgspec.json.Decoder(item)
    return _checked(enumerate(raws, start=1), decoder.decode, code)


def csv_items(text: str, item: type[S], columns: tuple[str, ...], code: str) -> list[tuple[int, S]]:
    """The CSV's lines as `item`s (fields by `columns`, blank lines skipped); the header is line 1."""
    reader = csv.reader(io.StringIO(text))
    try:
        lines = _csv_lines(reader, columns, code)
    except csv.Error as exc:  # e.g. a field past csv.field_size_limit(): the file is broken, not us
        raise Invalid(code, rows=[RowError(reader.line_num, "broken-file", params={"reason": str(exc)})]) from None
    return _checked(lines, lambda fields: msgspec.convert(fields, item, strict=False), code)  # text to numbers, times


def _csv_lines(reader: Iterator[list[str]], columns: tuple[str, ...], code: str) -> list[tuple[int, dict[str, str]]]:
    header = [h.strip().lower() for h in next(reader, [])]
    if tuple(header[: len(columns)]) != columns:
        raise Invalid(code, rows=[RowError(1, "header", params={"header": ",".join(columns)})])
    lines: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for line, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        # Fewer fields than the columns asked for, or more than the header names (an unquoted comma in a
        # field shifts every field after it into the wrong column): the line is refused, never read askew.
        if not len(columns) <= len(fields) <= len(header):
            expected = len(columns) if len(fields) < len(columns) else len(header)
            errors.append(RowError(line, "field-count", params={"expected": expected, "count": len(fields)}))
            continue
        # An empty field is an absent one: the Struct's default applies (or `missing` is reported).
        lines.append((line, {name: v.strip() for name, v in zip(columns, fields, strict=False) if v.strip()}))
    if errors:
        raise Invalid(code, rows=errors)
    return lines


def _checked(lines: Iterable[tuple[int, T]], decode: Callable[[T], S], code: str) -> list[tuple[int, S]]:
    """Every line decoded, or every line's fault raised together."""
    items: list[tuple[int, S]] = []
    errors: list[RowError] = []
    for line, payload in lines:
        try:
            items.append((line, decode(payload)))
        except msgspec.ValidationError as exc:
            errors.append(RowError(line, "invalid", validator=str(exc)))  # worded by backend/problems.py
    if errors:
        raise Invalid(code, rows=errors)
    return items
