"""The resumable upload routes in the OpenAPI contract: their fields, bodies and problems."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient

from tests.helpers.openapi import fetch, operations


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    return await fetch(client)


def header_names(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}


class TestUploadOperations:
    def test_the_draft_fields_are_documented_where_they_are_read_and_sent(self, spec: dict[str, Any]) -> None:
        ops = operations(spec)
        assert {"Upload-Complete", "Upload-Length"} <= header_names(ops["UploadPhoto"][2])
        assert {"Upload-Complete", "Upload-Offset", "Upload-Length"} <= header_names(ops["AppendUpload"][2])
        offset = ops["GetUploadOffset"][2]["responses"]["204"]["headers"]
        assert {"Upload-Offset", "Upload-Complete", "Upload-Length", "Upload-Limit"} <= set(offset)
        assert "Location" in ops["UploadPhoto"][2]["responses"]["201"]["headers"]

    def test_append_bodies_are_binary_in_their_protocols_media_type(self, spec: dict[str, Any]) -> None:
        ops = operations(spec)
        assert set(ops["AppendUpload"][2]["requestBody"]["content"]) == {"application/partial-upload"}
        assert set(ops["AppendTusUpload"][2]["requestBody"]["content"]) == {"application/offset+octet-stream"}

    def test_their_problems(self, spec: dict[str, Any]) -> None:
        ops = operations(spec)

        def statuses(op_id: str) -> set[int]:
            return {int(s) for s in ops[op_id][2]["responses"] if int(s) >= 400}

        assert {400, 404, 409, 413, 415} <= statuses("AppendUpload")
        assert "upload/offset-mismatch" in ops["AppendUpload"][2]["responses"]["409"]["description"]
        for op_id in ("CreateTusUpload", "GetTusOffset", "AppendTusUpload", "TerminateTusUpload"):
            assert 412 in statuses(op_id), op_id
        problem = spec["components"]["schemas"]["Problem"]["properties"]
        assert {"expected-offset", "provided-offset"} <= set(problem)
