"""Every error answer of the OpenAPI document is a documented problem: by rule, with an example, the
Retry-After header on 429 and 503, and the shape the server really sends."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from backend.errors import MESSAGES
from backend.idempotency import takes_key
from backend.openapi import RouteFacts, problem_statuses
from backend.openapi_problems import PROBLEM_MEDIA_TYPE, RETRY_AFTER_STATUSES
from backend.principal import Role
from tests.factories import Factory
from tests.helpers.openapi import fetch, operations


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    return await fetch(client)


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
        assert statuses("SubmitInstall") == guarded | {400, 404, 409, 422}  # 400/409/422: its Idempotency-Key
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
            names = (
                "public", "admitted", "has_body", "raw_body", "has_parameters", "has_path_id", "state_changing",
                "idempotent",
            )  # fmt: skip
            return RouteFacts(**{name: given.get(name, False) for name in names})

        assert problem_statuses(facts(public=True)) == set()
        assert problem_statuses(facts()) == {401, 403, 429}
        assert problem_statuses(facts(admitted=True, has_parameters=True, has_path_id=True)) == {
            400, 401, 403, 404, 429, 503,
        }  # fmt: skip
        upload = facts(admitted=True, has_body=True, raw_body=True, has_path_id=True, state_changing=True)
        assert problem_statuses(upload) == {400, 401, 403, 404, 408, 409, 413, 415, 422, 429, 503}
        claim = facts(admitted=True, has_path_id=True, has_parameters=True, state_changing=True, idempotent=True)
        assert problem_statuses(claim) == {400, 401, 403, 404, 409, 422, 429, 503}  # a key's 400, 409, 422

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
        media = operations(spec)[op_id][2]["responses"][str(status)]["content"][PROBLEM_MEDIA_TYPE]
        (documented,) = [e["value"] for e in media["examples"].values()]
        assert set(documented) == set(body), (documented, body)  # the example has the fields a real one has
        if status == 400:
            assert set(documented["errors"][0]) == set(body["errors"][0])


RETRY_AFTER = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
IN_FLIGHT = {"Retry-After": {"$ref": "#/components/headers/RetryAfterInFlight"}}


class TestRetryAfter:
    def test_the_header_is_a_component_of_whole_seconds(self, spec: dict[str, Any]) -> None:
        header = spec["components"]["headers"]["RetryAfter"]
        assert header["schema"]["type"] == "integer" and header["schema"]["minimum"] == 1
        assert header["required"] is True and "name" not in header and "in" not in header

    def test_every_429_and_503_declares_it_and_only_an_idempotent_409_too(self, spec: dict[str, Any]) -> None:
        declared = 0
        for op_id, (method, path, op) in operations(spec).items():
            for status, response in op["responses"].items():
                headers = response.get("headers") or {}
                if int(status) in RETRY_AFTER_STATUSES:
                    assert headers == RETRY_AFTER, (op_id, status)
                    declared += 1
                elif int(status) == 409 and takes_key(method.upper(), path):  # idempotency/in-flight
                    assert headers == IN_FLIGHT, (op_id, status)
                else:
                    assert "Retry-After" not in headers, (op_id, status)
        assert declared > 50  # every guarded operation has 429, every admitted one 503

    async def test_a_real_429_sends_it(self, client: AsyncClient, make: Factory, spec: dict[str, Any]) -> None:
        customer = make.party(Role.CUSTOMER)
        ean = await make.connection(house_number=14)
        claim = {"ean": ean, "postcode": "6811AL"}
        for attempt in range(5):  # five wrong guesses, then the limit
            r = await client.post(
                "/mobile/v1/connections/claim", json={**claim, "house_number": 1000 + attempt}, headers=customer.headers
            )
            assert r.status_code == 422, r.text
        r = await client.post(
            "/mobile/v1/connections/claim", json={**claim, "house_number": 14}, headers=customer.headers
        )
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) >= spec["components"]["headers"]["RetryAfter"]["schema"]["minimum"]
        assert operations(spec)["ClaimConnection"][2]["responses"]["429"]["headers"] == RETRY_AFTER
