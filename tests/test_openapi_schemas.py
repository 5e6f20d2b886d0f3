"""Every schema component of the OpenAPI document comes from a wire Struct and carries an example that
is a real value of it (decodes with the Struct's own constraints); the examples read like real data."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from httpx import AsyncClient

from backend.settings import Settings
from tests.helpers.openapi import built_app, fetch, wire_structs


@pytest.fixture(scope="module")
async def spec(client: AsyncClient) -> dict[str, Any]:
    return await fetch(client)


@pytest.fixture(scope="module")
async def structs(client: AsyncClient, settings: Settings) -> dict[str, type[msgspec.Struct]]:
    async with built_app(settings) as app:
        return wire_structs(app)


class TestExamples:
    def test_every_component_is_a_wire_struct_with_an_example_of_it(
        self, spec: dict[str, Any], structs: dict[str, type[msgspec.Struct]]
    ) -> None:
        components = spec["components"]["schemas"]
        assert len(components) >= 40
        for name, schema in components.items():
            struct = structs.get(name)
            assert struct is not None, f"component {name} is no Struct a handler reads or answers"
            fields = {f.encode_name for f in mi.type_info(struct).fields}  # type: ignore[attr-defined]
            assert set(schema["properties"]) == fields, name  # the component is this Struct
            assert schema.get("examples"), f"{name} has no example"
            for example in schema["examples"]:
                msgspec.json.decode(json.dumps(example), type=struct)  # raises if it is no real value

    def test_examples_show_realistic_values(self, spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]
        example = {name: schema["examples"][0] for name, schema in schemas.items()}
        assert example["CreateInstall"]["connection_ean"] == "871687000000000009"
        assert example["InstallView"]["asset"]["serial"] == "MTR1-000001"
        assert example["ScanLabel"]["payload"].startswith("SI1:K1:MTR1-000001:")
        assert example["Problem"]["code"] == "install/not-found"
        case = example["CaseView"]
        assert case["reasons"] == ["suspected_fraud"] and case["fixes"][0]["mocked"] is True
        assert case["install"]["state"] == "in_review" and case["connection"]["ean"] == "871687000000000009"
        assert case["claimed_by"] == "specialist-7" and case["lease_remaining_s"] > 0
        decision = example["DecisionIn"]
        assert (decision["outcome"], decision["reason_code"]) == ("request_info", "label_not_visible")
        assert example["QueueView"]["items"][0]["case_id"] == case["case_id"]
        assert example["DeviceReportView"]["outcomes"] == ["confirmed"]
