"""Request ids, the access log and structured logs: one JSON object per line on stdout, the request's
id on every line written while serving it, in its X-Request-Id and in its problem+json."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx import AsyncClient
from litestar import Litestar, Request, get

from backend.access import observe_requests
from backend.logs import JsonFormatter, TextFormatter, bind_request_id, configure_logging, unbind_request_id
from backend.principal import Role
from tests.factories import Factory

HEX_ID = 32


def log_lines(out: str) -> list[dict]:
    """Every line the app wrote to stdout, each of which must be one JSON object."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def access_lines(out: str, path: str) -> list[dict]:
    return [e for e in log_lines(out) if e["logger"] == "selfinstall.access" and e["path"] == path]


class TestRequestId:
    async def test_every_answer_carries_a_new_id(self, client: AsyncClient) -> None:
        ids = set()
        for path in ("/health/live", "/health", "/no/such/route", "/mobile/v1/installs"):  # 200, 200, 404, 401
            r = await client.get(path)
            rid = r.headers["x-request-id"]
            assert len(rid) == HEX_ID and int(rid, 16) >= 0, path
            ids.add(rid)
        assert len(ids) == 4

    async def test_a_problem_names_its_request(self, client: AsyncClient) -> None:
        r = await client.get("/mobile/v1/installs")
        assert r.status_code == 401 and r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["request_id"] == r.headers["x-request-id"]

    @pytest.mark.parametrize(
        "incoming", ["4bf92f3577b34da6a3ce929d0e0e4736", "Root=1-67891233-abcdef012345678912345678"]
    )
    async def test_the_proxys_id_is_kept(self, client: AsyncClient, incoming: str) -> None:
        r = await client.get("/no/such/route", headers={"X-Request-Id": incoming})
        assert r.headers["x-request-id"] == incoming
        assert r.json()["request_id"] == incoming

    @pytest.mark.parametrize("incoming", ['{"level":"error"}', "a b", "x" * 129, "-leading-dash", ""])
    async def test_a_malformed_id_is_replaced(self, client: AsyncClient, incoming: str) -> None:
        r = await client.get("/health/live", headers={"X-Request-Id": incoming})
        assert r.headers["x-request-id"] != incoming and len(r.headers["x-request-id"]) == HEX_ID


class TestAccessLog:
    async def test_one_json_line_per_request_with_route_status_and_role(
        self, client: AsyncClient, make: Factory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        capsys.readouterr()
        r = await client.get("/mobile/v1/installs?limit=5", headers=customer.headers)
        assert r.status_code == 200, r.text
        (line,) = access_lines(capsys.readouterr().out, "/mobile/v1/installs")
        assert line["request_id"] == r.headers["x-request-id"]
        assert line["level"] == "info" and line["time"].endswith("+00:00")
        assert line["method"] == "GET" and line["status"] == 200 and line["route"] == "/mobile/v1/installs"
        assert line["role"] == "customer" and line["query"] == ["limit"]
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0

    async def test_no_query_values_tokens_or_subjects(
        self, client: AsyncClient, make: Factory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        secret_ean = "871687140000099999"
        capsys.readouterr()
        await client.get(f"/mobile/v1/installs?state=draft&cursor={secret_ean}", headers=customer.headers)
        out = "\n".join(json.dumps(e) for e in log_lines(capsys.readouterr().out) if e["logger"] != "httpx")
        (line,) = access_lines(out, "/mobile/v1/installs")  # (httpx's line is the test client's own)
        assert line["query"] == ["cursor", "state"]
        token = customer.headers["Authorization"].removeprefix("Bearer ")
        assert secret_ean not in out and token not in out and customer.subject not in out

    async def test_unrouted_and_refused_requests_are_logged_too(
        self, client: AsyncClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        capsys.readouterr()
        r = await client.get("/wp-admin/setup.php")
        (line,) = access_lines(capsys.readouterr().out, "/wp-admin/setup.php")
        assert (line["status"], line["route"], line["role"]) == (404, "unmatched", None)
        assert line["request_id"] == r.headers["x-request-id"]


@get("/inside", sync_to_thread=False)
def _logs_inside(request: Request) -> dict[str, str | None]:
    logging.getLogger("selfinstall.test").warning("working on it", extra={"step": 2})
    return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}


@pytest.fixture
async def small() -> AsyncIterator[AsyncClient]:
    """A tiny app behind the same wrapper, trusting a proxy at 127.0.0.1 (httpx's ASGI client address)."""
    app = observe_requests(Litestar([_logs_inside], logging_config=None), ("127.0.0.1",))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class TestLinesOfARequest:
    async def test_a_handlers_own_line_carries_the_request_id(
        self, small: AsyncClient, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging("json", "info")
        capsys.readouterr()
        r = await small.get("/inside")
        lines = [e for e in log_lines(capsys.readouterr().out) if e["request_id"] == r.headers["x-request-id"]]
        assert [e["logger"] for e in lines] == ["selfinstall.test", "selfinstall.access"]
        assert lines[0]["message"] == "working on it" and lines[0]["step"] == 2 and lines[0]["level"] == "warning"

    async def test_a_trusted_proxy_names_the_client_and_scheme(self, small: AsyncClient) -> None:
        forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        assert (await small.get("/inside", headers=forwarded)).json() == {"client": "203.0.113.7", "scheme": "https"}

    async def test_an_untrusted_peer_is_not_believed(self) -> None:
        app = observe_requests(Litestar([_logs_inside], logging_config=None), ("10.0.0.0/8",))
        transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answer = (await c.get("/inside", headers={"X-Forwarded-For": "203.0.113.7"})).json()
        assert answer == {"client": "192.0.2.1", "scheme": "http"}


def _record(msg: str, exc_info: object = None) -> logging.LogRecord:
    record = logging.LogRecord("selfinstall.x", logging.ERROR, __file__, 1, msg, None, exc_info)  # type: ignore[arg-type]
    record.install = "i-1"
    return record


class TestFormatters:
    def test_json_has_the_fields_and_the_traceback(self) -> None:
        try:
            raise ValueError("boom")
        except ValueError:
            record = _record("failed", sys.exc_info())
        rid, token = bind_request_id(None)
        try:
            entry = json.loads(JsonFormatter().format(record))
        finally:
            unbind_request_id(token)
        assert entry["request_id"] == rid and entry["level"] == "error" and entry["logger"] == "selfinstall.x"
        assert entry["message"] == "failed" and entry["install"] == "i-1"
        assert "ValueError: boom" in entry["exc"] and "\n" not in JsonFormatter().format(record)

    def test_outside_a_request_the_id_is_null(self) -> None:
        assert json.loads(JsonFormatter().format(_record("x")))["request_id"] is None

    def test_text_for_a_terminal(self) -> None:
        rid, token = bind_request_id("abc123")
        try:
            line = TextFormatter().format(_record("failed"))
        finally:
            unbind_request_id(token)
        assert "ERROR" in line and "failed" in line and "install=i-1" in line and line.endswith("[abc123]")
