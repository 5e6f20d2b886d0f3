"""Hostile input never makes a 5xx, and nothing is stored from a refused request.

Every route of the app is listed in tests/reliability/routes.py (checked here against the app):
integer path ids past what the database holds, and every field of every JSON body poisoned in turn
(NUL and control characters, one character too many, numbers past the columns, NaN, times that
overflow UTC), JSON nested 100k deep, bodies that are not JSON or not UTF-8. Each answer: a 4xx
problem+json with a stable code, and the same rows (every table) and files as before.
"""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
from litestar.params import CookieParameter, HeaderParameter, ParameterKwarg

from backend.app import create_app
from backend.bounds import MAX_INT4
from backend.principal import Role
from backend.settings import Settings
from mobile_api.v1 import schemas as s
from tests.reliability.hostile import INPUT_CODES, poisons, refused, stored
from tests.reliability.routes import INSTALL, PLACEHOLDER, ROUTES, World, make_world, samples, send


@pytest.fixture(scope="module")
async def world(client: httpx.AsyncClient, settings: Settings) -> World:
    return await make_world(client, settings)


def app_routes() -> dict[tuple[str, str], Any]:
    """(method, path) -> handler of every route of the app, HEAD and OPTIONS aside."""
    return {
        (method, route.path): entry[0] if isinstance(entry, tuple) else entry
        for route in create_app().routes
        for method, entry in getattr(route, "route_handler_map", {}).items()
        if method not in ("HEAD", "OPTIONS")
    }


def query_names(handler: Any, path: str) -> set[str]:
    names, dependencies = set(), handler.resolve_dependencies()
    for name, param in handler.parsed_fn_signature.parameters.items():
        kind = param.kwarg_definition
        if name in dependencies or f"{{{name}:" in path or not isinstance(kind, ParameterKwarg):
            continue
        if not isinstance(kind, HeaderParameter | CookieParameter):
            names.add(kind.name or name)
    return names


class TestEveryRouteIsCovered:
    def test_every_route_is_listed(self) -> None:
        routes = app_routes()
        assert routes.keys() - ROUTES.keys() == set(), "new routes: add them to ROUTES and attack them"
        assert ROUTES.keys() - routes.keys() == set(), "routes gone: remove them from ROUTES"

    def test_every_json_body_and_query_parameter_is_attacked(self) -> None:
        for key, handler in app_routes().items():
            data = handler.parsed_fn_signature.parameters.get("data")
            schema = data.annotation if data is not None else None
            if isinstance(schema, type) and issubclass(schema, msgspec.Struct):
                assert ROUTES[key].schema is schema, f"{key}: list its body schema {schema.__name__}"
            elif schema is not None:  # a form: attacked by its own tests
                assert ROUTES[key].elsewhere, f"{key}: its body needs hostile cases"
            assert query_names(handler, key[1]) == set(ROUTES[key].query), f"{key}: list its query parameters"


ID_ROUTES = [key for key in ROUTES if ":int}" in key[1]]
HOSTILE_IDS = {"2**31": 2**31, "2**63": 2**63, "2**64": 2**64, "0": 0, "-1": -1, "-2**63-1": -(2**63) - 1}


class TestIntegerPathIds:
    @pytest.mark.parametrize("value", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
    @pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
    async def test_an_id_no_row_can_have_is_not_found(
        self, client: httpx.AsyncClient, world: World, settings: Settings, method: str, path: str, value: int
    ) -> None:
        before = await stored(settings.photo_dir)
        ids = {
            name: value
            for name in ("case_id", "photo_id", "known_answer_id", "job_id", "delivery_id", "subscription_id")
        }
        url, role = world.url(path, **ids), ROUTES[method, path].role
        if path.startswith("/console"):  # a browser reads the console: the problem is a page in words
            page = await send(client, world, method, url, role, json={})
            assert page.status_code == 404 and 'data-code="request/id-out-of-range"' in page.text
        # The same as problem+json for a client asking for it (the console's own scripts, any API client).
        r = await send(client, world, method, url, role, json={}, headers={"Accept": "application/problem+json"})
        body = refused(r, "request/id-out-of-range")
        assert r.status_code == 404 and str(MAX_INT4) in body["detail"]
        assert await stored(settings.photo_dir) == before

    async def test_an_id_in_range_still_reaches_the_domain(self, client: httpx.AsyncClient, world: World) -> None:
        r = await send(client, world, "GET", f"/review/v1/cases/{MAX_INT4}", Role.SPECIALIST)
        refused(r, "review/case-not-found")


JSON_ROUTES = [(key, r.schema) for key, r in ROUTES.items() if r.schema is not None]
POISONS = [(key, p.name) for key, schema in JSON_ROUTES for p in poisons(schema, samples(PLACEHOLDER)[schema])]


class TestJsonBodies:
    @pytest.mark.parametrize(("key", "poison"), POISONS, ids=[f"{k[0]} {k[1]} {p}" for k, p in POISONS])
    async def test_a_poisoned_field_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, world: World, settings: Settings, key: tuple[str, str], poison: str
    ) -> None:
        schema = ROUTES[key].schema
        assert schema is not None
        case = next(p for p in poisons(schema, samples(world)[schema]) if p.name == poison)
        before = await stored(settings.photo_dir)
        r = await send(
            client,
            world,
            key[0],
            world.url(key[1], case_id=1, known_answer_id=1),
            ROUTES[key].role,
            content=case.body,
            headers={"Content-Type": "application/json"},
        )
        body = refused(r, *INPUT_CODES)
        if case.field is not None:  # refused for the poisoned field, not for something else
            named = [e.get(k) for e in body.get("errors", []) for k in ("key", "field")] + [body.get("field")]
            # the field itself, or (a list's) element of it: 'moments[0]'
            within = [n for n in named if n == case.field or str(n).startswith(case.field + "[")]
            assert within or f"'{case.field}'" in body["detail"], body
        assert await stored(settings.photo_dir) == before

    @pytest.mark.parametrize(
        "raw",
        [b"[" * 100_000, b'{"a":' * 50_000, b"[{" * 40_000, b"hello", b'{"message": "\xff\xfe"}', b"", b"[]", b'"x"'],
        ids=["100k [", "50k {", "80k [{", "not JSON", "not UTF-8", "empty", "a list", "a string"],
    )
    @pytest.mark.parametrize(("key", "schema"), JSON_ROUTES, ids=[f"{k[0]} {k[1]}" for k, _ in JSON_ROUTES])
    async def test_a_body_that_is_no_such_object_is_refused(
        self,
        client: httpx.AsyncClient,
        world: World,
        settings: Settings,
        key: tuple[str, str],
        schema: type,
        raw: bytes,
    ) -> None:
        before = await stored(settings.photo_dir)
        r = await send(
            client,
            world,
            key[0],
            world.url(key[1], case_id=1, known_answer_id=1),
            ROUTES[key].role,
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        refused(r, *INPUT_CODES)
        assert await stored(settings.photo_dir) == before

    async def test_the_samples_are_valid(self, client: httpx.AsyncClient, world: World) -> None:
        """The poisoned bodies differ from an accepted one in the poisoned field alone."""
        for schema, sample in samples(world).items():
            msgspec.convert(sample, schema, strict=False)  # raises if the sample itself is refused
        r = await send(
            client,
            world,
            "POST",
            world.url(INSTALL + "/location"),
            Role.CUSTOMER,
            json=samples(world)[s.ReportLocation],
        )
        assert r.status_code == 200, r.text
