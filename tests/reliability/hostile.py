"""What the hostile-input suite shares: the refusal every case must get, a fingerprint of everything
stored, hostile values derived from a route's own request schema, and a signed-in console."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
from msgspec import inspect as mi

from backend.installs.tables import Install, Photo
from backend.piccolo_conf import APP_REGISTRY
from backend.principal import Role
from tests.factories import Factory
from tests.helpers.photo_store import stored_originals

# Refusals because of the input itself (not because of state, ownership or a missing row).
INPUT_CODES = frozenset(
    {"request/invalid", "request/timestamp-out-of-range", "request/too-deeply-nested", "request/invalid-encoding"}
)


def refused(r: httpx.Response, *codes: str) -> dict[str, Any]:
    """A 4xx problem+json with a stable code (one of `codes` if given); its body."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
    body = r.json()
    assert body["code"] and body["type"].endswith("/problems/" + body["code"]), body
    assert body["title"], body
    if codes:
        assert body["code"] in codes, body
    return body


async def stored(photo_dir: Path) -> tuple[Any, ...]:
    """Row counts of every table, the version sums that any update bumps, every file on disk and every
    original in the photo store (the same files in the folder store; the bucket's objects with S3)."""
    tables = [t for app in APP_REGISTRY.app_configs.values() for t in app.table_classes]
    parts = [f'(SELECT count(*) FROM "{t._meta.tablename}")' for t in tables]
    parts += [
        f'(SELECT coalesce(sum(version), 0) FROM "{t._meta.tablename}")'
        for t in tables
        if any(c._meta.name == "version" for c in t._meta.columns)
    ]
    row = (await Install.raw("SELECT " + ", ".join(parts)))[0]
    files = sorted(str(p.relative_to(photo_dir)) for p in photo_dir.rglob("*") if p.is_file())
    return (*row.values(), *files, *await stored_originals())


# --- hostile values, by the kind of field they are sent in -----------------------------------------
RAW = "\x01raw\x01"  # stands for a JSON token json.dumps cannot write (NaN, 1e400)

STRINGS = {"nul": "a\u0000b", "escape": "\u001b[2J", "c1": "a\u0085b", "bell": "\u0007"}
INTS = {"2**31": 2**31, "2**63": 2**63, "2**64": 2**64, "-2**63-1": -(2**63) - 1, "1e100": 10**100}
FLOATS = {
    "NaN": RAW + "NaN",
    "Infinity": RAW + "Infinity",
    "1e400": RAW + "1e400",
    "a 5000-digit integer": RAW + "1" + "0" * 5000,
    "-1e308": -1e308,
    "1e308": 1e308,
}
TIMES = {
    "9999-12-31 at -23:59": "9999-12-31T23:59:59-23:59",
    "0001-01-01 at +23:59": "0001-01-01T00:00:00+23:59",
    "-infinity": "-infinity",
    "infinity": "infinity",
    "year 0": "0000-01-01T00:00:00Z",
    "1999": "1999-12-31T23:59:59Z",
    "2100": "2100-01-01T00:00:00Z",
    "epoch 0": 0,
    "epoch 1e20": 1e20,
    "naive": "2024-05-01T10:00:00",
}


def dumps(body: Any) -> bytes:
    """JSON, with RAW-marked strings written as bare tokens."""
    return _RAW_TOKEN.sub(r"\1", json.dumps(body)).encode()


_RAW_TOKEN = re.compile(r'"\\u0001raw\\u0001([^"]*)"')


@dataclass(frozen=True)
class Poison:
    name: str  # e.g. "$.note: nul"
    field: str | None  # the (dotted) field the refusal names; None: refused by the JSON decoder, before fields
    body: bytes


def poisons(schema: type[msgspec.Struct], sample: dict[str, Any]) -> list[Poison]:
    """Every hostile value for every field of `schema`, each in an otherwise valid `sample`."""
    out: list[Poison] = []
    for path, info in _fields(mi.type_info(schema), ()):
        for label, value in _hostile(info):
            named = None if isinstance(value, str) and value.startswith(RAW) else ".".join(path)
            out.append(Poison(f"$.{'.'.join(path)}: {label}", named, dumps(_put(sample, path, value))))
    return out


def _fields(info: mi.Type, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], mi.Type]]:
    found = []
    for f in info.fields:  # type: ignore[attr-defined]
        kind = _unwrap(f.type)
        if isinstance(kind, mi.StructType):
            found += _fields(kind, (*prefix, f.encode_name))
        else:
            found.append(((*prefix, f.encode_name), kind))
    return found


def _unwrap(info: mi.Type) -> mi.Type:
    if isinstance(info, mi.Metadata):  # a description or JSON-schema extra around the real type
        info = info.type
    if isinstance(info, mi.UnionType):
        return _unwrap(next(t for t in info.types if not isinstance(t, mi.NoneType)))
    return info


def _hostile(info: mi.Type) -> list[tuple[str, Any]]:
    if isinstance(info, mi.StrType):
        values = list(STRINGS.items())
        if info.max_length is not None:
            values.append((f"{info.max_length + 1} characters", "x" * (info.max_length + 1)))
        return values
    if isinstance(info, mi.IntType):
        return [*INTS.items(), ("1.5", 1.5), ("a word", "one")]
    if isinstance(info, mi.FloatType):
        return list(FLOATS.items())
    if isinstance(info, mi.DateTimeType):
        return list(TIMES.items())
    if isinstance(info, mi.UUIDType):
        return [("not a uuid", "not-a-uuid"), ("nul", "\u0000")]
    return [("nul", "\u0000"), ("nested list", [[["x"]]])]  # literals, bools


def _put(sample: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(sample))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return body


async def console_session(client: httpx.AsyncClient, make: Factory, role: Role = Role.SPECIALIST) -> dict[str, str]:
    """Headers of a signed-in operator in the console (its cookies sent by hand: they are Secure)."""
    csrf = (await client.get("/console/login")).cookies["csrftoken"]
    token = make.party(role).headers["Authorization"].removeprefix("Bearer ")
    r = await client.post(
        "/console/login",
        data={"token": token, "_csrf_token": csrf},
        headers={"Cookie": f"csrftoken={csrf}"},
    )
    assert r.status_code == 303, r.text
    return {"Cookie": f"csrftoken={csrf}; si_console={r.cookies['si_console']}", "x-csrftoken": csrf}


async def orphans(photo_dir: Path) -> list[str]:
    """Partial uploads, and stored originals no photo row refers to: what a refused upload must not leave."""
    rows = {r["sha256"] for r in await Photo.select(Photo.sha256)}
    parts = [str(p) for p in photo_dir.rglob("*.part")]
    originals = [sha256 for sha256 in await stored_originals() if sha256 not in rows]
    return parts + originals
