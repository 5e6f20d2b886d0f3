"""The OpenAPI document is a contract: valid, summaries and security, typed request bodies, and success
bodies in the media types the server really answers. Problems: test_openapi_problems.py; Struct
examples: test_openapi_schemas.py."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from httpx import AsyncClient, Response
from openapi_spec_validator import validate

from backend.admin.http import AssetIn
from backend.idempotency import takes_key
from backend.installs.evidence import ACCEPTED_CONTENT_TYPES
from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.helpers.openapi import built_app, fetch, handlers, operations, returns_bytes
from tests.quality.helpers import mark, specialist_decided


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    return await fetch(client)


class TestDocument:
    def test_it_passes_the_openapi_validator(self, spec: dict[str, Any]) -> None:
        validate(spec)  # raises on the first violation (it did: securitySchemes.BearerToken carried `name`)
        assert spec["openapi"].startswith("3.1")

    def test_every_operation_has_a_summary_and_its_docstring(self, spec: dict[str, Any]) -> None:
        ops = operations(spec)
        assert len(ops) >= 30
        for op_id, (_, _, op) in ops.items():
            assert op.get("summary") and op.get("description"), op_id
        assert ops["AskForHelp"][2]["summary"] == "Ask for help"
        assert ops["SubmitInstall"][2]["description"] == "Check all evidence together and decide."

    def test_bearer_scheme_is_http_without_name(self, spec: dict[str, Any]) -> None:
        scheme = spec["components"]["securitySchemes"]["BearerToken"]
        assert scheme == {k: scheme[k] for k in ("type", "scheme", "bearerFormat", "description")}
        assert (scheme["type"], scheme["scheme"].lower()) == ("http", "bearer")

    def test_public_routes_ask_no_token_and_guarded_ones_do(self, spec: dict[str, Any]) -> None:
        ops = operations(spec)
        assert spec["security"] == [{"BearerToken": []}]
        for op_id in ("Live", "Health", "Readiness", "Metrics"):
            assert ops[op_id][2]["security"] == [], op_id
        assert "security" not in ops["CreateInstall"][2]  # inherits the document's bearer token


class TestRequestBodies:
    def test_the_photo_is_binary_in_every_accepted_media_type(self, spec: dict[str, Any]) -> None:
        body = operations(spec)["UploadPhoto"][2]["requestBody"]
        assert body["required"] is True
        assert set(body["content"]) == ACCEPTED_CONTENT_TYPES
        for media in body["content"].values():
            assert media["schema"] == {"type": "string", "format": "binary"}

    def test_the_asset_batch_is_json_or_csv(self, spec: dict[str, Any]) -> None:
        content = operations(spec)["ImportAssets"][2]["requestBody"]["content"]
        assert set(content) == {"application/json", "text/csv"}
        items = content["application/json"]["schema"]["items"]
        assert items["required"] == ["serial", "asset_type"] and items["additionalProperties"] is False
        rows = [{k: v["examples"][0] for k, v in items["properties"].items()}]
        assert msgspec.json.decode(json.dumps(rows), type=list[AssetIn])  # the documented shape is the real one
        assert content["text/csv"]["schema"]["examples"][0].startswith("serial,asset_type\n")

    def test_every_json_body_route_documents_its_body(self, spec: dict[str, Any]) -> None:
        for op_id, (method, _, op) in operations(spec).items():
            if method in ("post", "put") and {"408", "413"} <= set(op["responses"]):
                assert op["requestBody"]["content"], op_id


def success_media_types(op: dict[str, Any]) -> list[str]:
    """The media types of the operation's (first) success answer; none for a 204."""
    first = min(status for status in op["responses"] if status.startswith("2"))
    return list(op["responses"][first].get("content") or {})


def not_json(spec: dict[str, Any]) -> set[str]:
    """The operations whose success answer has a body that is not JSON."""
    return {
        op_id
        for op_id, (_, _, op) in operations(spec).items()
        if (types := success_media_types(op)) and "application/json" not in types
    }


def media_type(value: str) -> tuple[str, frozenset[str]]:
    """'text/plain; version=0.0.4; charset=utf-8' -> ('text/plain', {'version=0.0.4', 'charset=utf-8'})."""
    kind, *params = (p.strip().lower() for p in value.split(";"))
    return kind, frozenset(p.replace(" ", "") for p in params if p)


def documented(answer: str, listed: list[str]) -> bool:
    """The answer's Content-Type is a listed one (with at least the listed parameters)."""
    kind, params = media_type(answer)
    return any(kind == k and p <= params for k, p in map(media_type, listed))


# The first bytes of each body type the server answers, so the Content-Type is also the truth.
SIGNATURES = {
    "image/png": b"\x89PNG\r\n\x1a\n",
    "image/jpeg": b"\xff\xd8\xff",
    "image/svg+xml": b"<",
    "text/plain": b"#",
}


class TestSuccessMediaTypes:
    async def test_every_bytes_answer_is_documented_in_its_own_media_types(
        self, client: AsyncClient, settings: Settings, spec: dict[str, Any]
    ) -> None:
        async with built_app(settings) as app:
            answering_bytes = {h.operation_id for h in handlers(app) if returns_bytes(h)}
        assert not_json(spec) == answering_bytes == {
            "GetAssetLabel", "IssueAssetLabel", "GetPhoto", "GetOriginalPhoto", "GetCalibrationPhoto", "Metrics",
        }  # fmt: skip
        ops = operations(spec)
        assert success_media_types(ops["GetAssetLabel"][2]) == ["image/png", "image/svg+xml"]
        assert success_media_types(ops["IssueAssetLabel"][2]) == ["image/png", "image/svg+xml"]
        assert success_media_types(ops["GetPhoto"][2]) == ["image/jpeg"]  # re-encoded, whatever was uploaded
        assert set(success_media_types(ops["GetOriginalPhoto"][2])) == {"image/heic", "image/jpeg", "image/png"}
        for op_id in not_json(spec) - {"Metrics"}:
            for media in ops[op_id][2]["responses"]["200"]["content"].values():
                assert media["schema"] == {"type": "string", "format": "binary"}, op_id

    async def test_real_answers_carry_a_documented_content_type(
        self, client: AsyncClient, make: Factory, spec: dict[str, Any]
    ) -> None:
        answers: dict[str, list[Response]] = {}

        async def call(op_id: str, url: str, headers: dict[str, str], **params: str) -> None:
            answers.setdefault(op_id, []).append(await client.get(url, headers=headers, params=params))

        admin = make.party(Role.ADMIN)
        serial, _ = await make.asset()
        label = f"/admin/v1/assets/{serial}/label"
        answers["IssueAssetLabel"] = [
            await client.post(label, headers=admin.headers, params=params) for params in ({}, {"format": "svg"})
        ]  # issued: GET reads it again
        await call("GetAssetLabel", label, admin.headers)
        await call("GetAssetLabel", label, admin.headers, format="svg")

        # A decided case with photos: the customer's rendition, the specialist's original, and (once
        # marked as a known answer) the same original served blind to another specialist.
        d, case_id, _ = await specialist_decided(client, make)
        photo = (await client.get(d.url, headers=d.who.headers)).json()["photos"][0]
        await call("GetPhoto", photo["url"], d.who.headers)
        other = make.party(Role.SPECIALIST)
        case = (await client.get(f"/review/v1/cases/{case_id}", headers=other.headers)).json()
        await call("GetOriginalPhoto", case["photos"][0]["original_url"], other.headers)
        known = await mark(client, admin, case_id)
        assert known.status_code == 201, known.text
        item = await client.get(f"/review/v1/calibration/{known.json()['id']}", headers=other.headers)
        await call("GetCalibrationPhoto", item.json()["photos"][0]["original_url"], other.headers)
        await call("Metrics", "/metrics", {})

        ops = operations(spec)
        assert set(answers) == not_json(spec)  # each one called for real
        for op_id, responses in answers.items():
            for r in responses:
                assert r.status_code == 200, (op_id, r.text)
                listed = list(ops[op_id][2]["responses"]["200"]["content"])
                content_type = r.headers["content-type"]
                assert documented(content_type, listed), (op_id, content_type, listed)
                assert r.content.startswith(SIGNATURES[media_type(content_type)[0]]), (op_id, r.content[:16])
        for op_id in ("GetAssetLabel", "IssueAssetLabel"):
            assert [media_type(r.headers["content-type"])[0] for r in answers[op_id]] == ["image/png", "image/svg+xml"]


class TestIdempotencyKey:
    def test_every_post_of_the_apis_takes_the_key_and_says_when_it_replayed(self, spec: dict[str, Any]) -> None:
        key = {"$ref": "#/components/parameters/IdempotencyKey"}
        replayed = {"$ref": "#/components/headers/IdempotentReplayed"}
        posts = 0
        for op_id, (method, path, op) in operations(spec).items():
            takes = takes_key(method.upper(), path)
            assert (key in op.get("parameters", [])) is takes, op_id
            for status, response in op["responses"].items():
                if int(status) < 400:
                    assert ((response.get("headers") or {}).get("Idempotent-Replayed") == replayed) is takes, op_id
            if takes:
                posts += 1
                for status, code in ((400, "invalid-key"), (409, "in-flight"), (422, "key-reused")):
                    assert f"`idempotency/{code}`" in op["responses"][str(status)]["description"], (op_id, status)
        assert posts >= 16

    def test_the_key_is_an_optional_header_of_at_most_255_characters(self, spec: dict[str, Any]) -> None:
        parameter = spec["components"]["parameters"]["IdempotencyKey"]
        assert (parameter["name"], parameter["in"], parameter["required"]) == ("Idempotency-Key", "header", False)
        assert parameter["schema"]["maxLength"] == 257  # 255 characters, or those quoted (`"…"`)
