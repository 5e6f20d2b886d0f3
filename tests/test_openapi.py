"""The OpenAPI document is a contract: valid, every problem documented by rule, typed bodies, examples."""

from __future__ import annotations

import json
import uuid
from typing import Any

import msgspec
import pytest
from httpx import AsyncClient
from openapi_spec_validator import validate

from backend.admin.http import AssetIn
from backend.errors import MESSAGES
from backend.installs.evidence import ACCEPTED_CONTENT_TYPES
from backend.integrations.http import DeviceReportIn
from backend.openapi import PROBLEM_MEDIA_TYPE, RouteFacts, problem_statuses
from backend.principal import Role
from mobile_api.v1 import schemas as s
from tests.factories import Factory

METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    return {
        op["operationId"]: (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in METHODS
    }


def component(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    return spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]


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


class TestProblems:
    def test_every_error_answer_is_a_problem_with_an_example(self, spec: dict[str, Any]) -> None:
        problem = spec["components"]["schemas"]["Problem"]
        assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "request_id"}
        errors = 0
        for op_id, (_, _, op) in operations(spec).items():
            for status, response in op["responses"].items():
                if int(status) < 400:
                    continue
                errors += 1
                assert list(response["content"]) == [PROBLEM_MEDIA_TYPE], (op_id, status)
                media = response["content"][PROBLEM_MEDIA_TYPE]
                assert media["schema"] == {"$ref": "#/components/schemas/Problem"}, (op_id, status)
                (example,) = [e["value"] for e in media["examples"].values()]
                assert example["status"] == int(status) and example["code"] in MESSAGES, (op_id, status)
                assert example["type"].endswith(example["code"])
        assert errors > 200

    def test_litestars_default_400_shape_is_gone(self, spec: dict[str, Any]) -> None:
        text = json.dumps(spec)
        assert '"status_code"' not in text and "Validation Exception" not in text

    def test_statuses_follow_the_rule(self, spec: dict[str, Any]) -> None:
        def statuses(op_id: str) -> set[int]:
            return {int(s) for s in operations(spec)[op_id][2]["responses"] if int(s) >= 400}

        guarded = {401, 403, 429, 503}
        body = {400, 408, 413, 422}
        assert statuses("UploadPhoto") == guarded | body | {404, 409, 415}
        assert statuses("ImportAssets") == guarded | body | {409, 415}
        assert statuses("CreateInstall") == guarded | body | {409}
        assert statuses("ClaimConnection") == guarded | body | {409}  # 429 also for guessing: the README
        assert statuses("GetInstall") == guarded | {400, 404}
        assert statuses("ListSpecialistAgreement") == guarded
        assert statuses("SubmitInstall") == guarded | {400, 404, 409}
        assert statuses("Live") == statuses("Health") == set()
        assert statuses("Readiness") == {503}
        assert statuses("Metrics") == {401}

    def test_a_route_may_word_a_problem_itself(self, spec: dict[str, Any]) -> None:
        responses = operations(spec)["SubmitDeviceReport"][2]["responses"]
        assert responses["409"]["description"].startswith("This report_id was sent before")
        assert responses["409"]["content"][PROBLEM_MEDIA_TYPE]["schema"]["$ref"].endswith("/Problem")
        assert "200" in responses and "application/json" in responses["200"]["content"]

    def test_rule(self) -> None:
        def facts(**given: bool) -> RouteFacts:
            names = ("public", "admitted", "has_body", "raw_body", "has_parameters", "has_path_id", "state_changing")
            return RouteFacts(**{name: given.get(name, False) for name in names})

        assert problem_statuses(facts(public=True)) == set()
        assert problem_statuses(facts()) == {401, 403, 429}
        assert problem_statuses(facts(admitted=True, has_parameters=True, has_path_id=True)) == {
            400, 401, 403, 404, 429, 503,
        }  # fmt: skip
        upload = facts(admitted=True, has_body=True, raw_body=True, has_path_id=True, state_changing=True)
        assert problem_statuses(upload) == {400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503}

    @pytest.mark.parametrize("case", ["no-token", "not-found", "wrong-media-type", "bad-body"])
    async def test_real_answers_have_the_documented_shape(
        self, client: AsyncClient, make: Factory, spec: dict[str, Any], case: str
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        install = f"/mobile/v1/installs/{uuid.uuid4()}"
        if case == "no-token":
            r, status, op_id = await client.get(install), 401, "GetInstall"
        elif case == "not-found":
            r, status, op_id = await client.get(install, headers=customer.headers), 404, "GetInstall"
        elif case == "wrong-media-type":
            ean = await make.connection(owner=customer.subject)
            created = {"id": install.rsplit("/", 1)[-1], "connection_ean": ean, "asset_type": "smart_meter_1p"}
            assert (await client.post("/mobile/v1/installs", json=created, headers=customer.headers)).status_code == 201
            headers = {**customer.headers, "Content-Type": "application/pdf"}
            r = await client.put(f"{install}/photos/meter_label", content=b"%PDF", headers=headers)
            status, op_id = 415, "UploadPhoto"
        else:
            r = await client.post("/mobile/v1/installs", json={"id": "x"}, headers=customer.headers)
            status, op_id = 400, "CreateInstall"
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
        assert str(status) in operations(spec)[op_id][2]["responses"]
        problem = spec["components"]["schemas"]["Problem"]
        body = r.json()
        assert set(problem["required"]) <= set(body) <= set(problem["properties"]), body
        assert body["status"] == status and body["code"] in MESSAGES


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


# The wire Structs whose documented example must be a real value of them.
EXAMPLED = [
    s.CreateInstall,
    s.ScanLabel,
    s.ReportLocation,
    s.EnterReading,
    s.AskForHelp,
    s.CancelInstall,
    s.ClaimConnection,
    s.InstallView,
    s.InstallPage,
    s.PhotoUploaded,
    s.ClaimedConnection,
    DeviceReportIn,
]


class TestExamples:
    @pytest.mark.parametrize("struct", EXAMPLED, ids=lambda t: t.__name__)
    def test_each_component_example_decodes_as_its_struct(
        self, spec: dict[str, Any], struct: type[msgspec.Struct]
    ) -> None:
        (example,) = spec["components"]["schemas"][struct.__name__]["examples"]
        msgspec.json.decode(json.dumps(example), type=struct)  # raises if the example is not a real value

    def test_examples_show_realistic_values(self, spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]
        assert schemas["CreateInstall"]["examples"][0]["connection_ean"] == "871687000000000009"
        assert schemas["InstallView"]["examples"][0]["asset"]["serial"] == "MTR1-000001"
        assert schemas["ScanLabel"]["examples"][0]["payload"].startswith("SI1:K1:MTR1-000001:")
        assert schemas["Problem"]["examples"][0]["code"] == "install/not-found"
