"""Language negotiation and the problem+json answers for routing errors."""

from __future__ import annotations

import uuid

import pytest
from httpx import AsyncClient

from backend.principal import Role
from backend.problems import preferred_language
from tests.factories import Factory


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith(f"/problems/{code}")
    assert body["title"] and body["detail"] == body["title"]
    return body


class TestPreferredLanguage:
    @pytest.mark.parametrize(
        ("header", "lang"),
        [
            ("en", "en"),
            ("EN", "en"),
            ("en-GB,nl;q=0.5", "en"),
            ("nl,en;q=0.9", "nl"),
            ("nl-NL", "nl"),
            ("fr", "nl"),
            ("fr,en;q=0.8", "en"),
            ("de-DE,de;q=0.9,nl;q=0.8,en;q=0.7", "nl"),
            ("en;q=0.4,nl;q=0.6", "nl"),
            ("nl;q=0.5,en;q=0.5", "nl"),
            ("en;q=0.5,nl;q=0.5", "en"),
            ("en;q=0", "nl"),
            ("*", "nl"),
            ("", "nl"),
            (None, "nl"),
            ("en;q=abc", "nl"),
            ("en;q=abc,fr", "nl"),
            (";;;,,,", "nl"),
            ("en;q=", "nl"),
        ],
    )
    async def test_cases(self, header: str | None, lang: str) -> None:
        assert preferred_language(header) == lang


class TestRoutingProblems:
    async def test_unknown_route_is_a_problem(self, client: AsyncClient) -> None:
        body = assert_problem(await client.get("/no/such/route"), 404, "request/not-found")
        assert body["title"] == "Deze pagina of route bestaat niet."

    async def test_unknown_route_in_english(self, client: AsyncClient) -> None:
        response = await client.get("/no/such/route", headers={"Accept-Language": "en-GB,nl;q=0.5"})
        body = assert_problem(response, 404, "request/not-found")
        assert body["title"] == "This route does not exist."
        assert response.headers["content-language"] == "en"

    async def test_dutch_by_default_with_content_language(self, client: AsyncClient) -> None:
        response = await client.get("/no/such/route", headers={"Accept-Language": "fr"})
        assert response.headers["content-language"] == "nl"

    async def test_wrong_method_is_a_problem(self, client: AsyncClient, make: Factory) -> None:
        customer = make.party(Role.CUSTOMER)
        response = await client.delete(f"/mobile/v1/installs/{uuid.uuid4()}", headers=customer.headers)
        assert_problem(response, 405, "request/method-not-allowed")

    async def test_wrong_method_in_english(self, client: AsyncClient) -> None:
        response = await client.patch("/health", headers={"Accept-Language": "en"})
        body = assert_problem(response, 405, "request/method-not-allowed")
        assert body["title"] == "This method is not allowed here."
