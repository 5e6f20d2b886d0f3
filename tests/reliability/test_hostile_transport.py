"""Lying bodies over a real socket, against the real server (granian, as `selfinstall serve` runs it).

The server runs with BODY_READ_TIMEOUT_S=1, so a body that stops coming is answered within the test;
every read below waits at most READ_BOUND_S, a bound on failure, not a measured time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import msgspec
import pytest

from backend.principal import Role
from backend.settings import Settings
from tests.factories import Factory
from tests.helpers.server import serving_sync
from tests.mobile_api.helpers import new_install
from tests.reliability.hostile import orphans

READ_BOUND_S = 20.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after this answer (said so, or did)

    def problem(self) -> dict[str, object]:
        assert self.headers["content-type"].startswith("application/problem+json"), self.headers
        return msgspec.json.decode(self.body)


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    with serving_sync({"BODY_READ_TIMEOUT_S": "1"}) as url:
        yield int(url.rsplit(":", 1)[1])


async def exchange(port: int, raw: bytes, *, keep_sending: bool = False) -> list[Answer]:
    """Send `raw`, then read every answer until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    answers: list[Answer] = []
    try:
        while True:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_BOUND_S)
            status_line, *lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines if ": " in line)
            body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), READ_BOUND_S)
            closed = headers.get("connection") == "close"
            answers.append(Answer(int(status_line.split()[1]), headers, body, closed))
            if closed:
                break
    except asyncio.IncompleteReadError as eof:
        assert not eof.partial, eof.partial  # the connection ended between answers, never inside one
        if answers:
            answers[-1] = replace(answers[-1], closed=True)
    finally:
        writer.close()
    return answers


def request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class TestABodyThatStopsComing:
    async def test_a_json_body_shorter_than_its_length_is_answered_408(self, server: int, make: Factory) -> None:
        who = make.party(Role.CUSTOMER)
        raw = request(
            "POST",
            f"/mobile/v1/installs/{uuid.uuid4()}/help",
            {**who.headers, "Content-Type": "application/json", "Content-Length": "100"},
            b'{"message": ',  # and then nothing
        )
        (answer,) = await exchange(server, raw)
        assert answer.status == 408 and answer.problem()["code"] == "request/body-timeout"
        assert answer.closed

    async def test_a_chunked_body_without_its_last_chunk_is_answered_408(self, server: int, make: Factory) -> None:
        who = make.party(Role.CUSTOMER)
        raw = request(
            "POST",
            f"/mobile/v1/installs/{uuid.uuid4()}/help",
            {**who.headers, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            b'5\r\n{"mes\r\n',
        )
        (answer,) = await exchange(server, raw)
        assert answer.status == 408 and answer.problem()["code"] == "request/body-timeout"

    async def test_a_photo_that_stops_coming_is_answered_408_and_leaves_no_partial_file(
        self, server: int, client: httpx.AsyncClient, make: Factory, settings: Settings
    ) -> None:
        d = await new_install(client, make)
        photo = make.photo("cabinet_overview")
        leftovers = await orphans(settings.photo_dir)
        raw = request(
            "PUT",
            f"/mobile/v1/installs/{d.id}/photos/cabinet_overview",
            {**d.who.headers, "Content-Type": "image/jpeg", "Content-Length": str(len(photo))},
            photo[: len(photo) // 2],
        )
        (answer,) = await exchange(server, raw)
        assert answer.status == 408 and answer.problem()["code"] == "request/body-timeout"
        assert await orphans(settings.photo_dir) == leftovers
        view = (await client.get(d.url, headers=d.who.headers)).json()
        assert view["photos"] == [] and view["version"] == d.view["version"]


class TestFramingTheServerRefuses:
    async def test_content_length_with_chunked_cannot_smuggle_a_second_request(
        self, server: int, make: Factory
    ) -> None:
        """RFC 9112 6.3: chunked wins over Content-Length and the connection is closed after the answer,
        so bytes the Content-Length would have framed as a second request are never read as one."""
        who = make.party(Role.CUSTOMER)
        smuggled = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        body = b'{"message":"x"}'
        raw = request(
            "POST",
            f"/mobile/v1/installs/{uuid.uuid4()}/help",
            {**who.headers, "Content-Type": "application/json", "Content-Length": "4", "Transfer-Encoding": "chunked"},
            f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" + smuggled,
        )
        answers = await exchange(server, raw)
        assert [a.status for a in answers] == [404], answers  # the install is unknown; /metrics never answered
        assert answers[0].problem()["code"] == "install/not-found" and answers[0].closed

    @pytest.mark.parametrize(
        "framing",
        [
            {"Content-Length": "5", "Content-Length ": "6"},
            {"Content-Length": "-1"},
            {"Content-Length": "+5"},
            {"Content-Length": "5, 6"},
            {"Transfer-Encoding": "identity", "Content-Length": "5"},
            {"Transfer-Encoding": "gzip"},
        ],
        ids=["two lengths", "negative", "signed", "a list", "identity", "gzip only"],
    )
    async def test_ambiguous_framing_is_refused_400(self, server: int, framing: dict[str, str]) -> None:
        headers = [f"{k.strip()}: {v}" for k, v in framing.items()]
        raw = (
            "POST /mobile/v1/connections/claim HTTP/1.1\r\nHost: x\r\n" + "\r\n".join(headers) + "\r\n\r\nhello"
        ).encode()
        answers = await exchange(server, raw)
        assert [a.status for a in answers] == [400] and answers[0].closed

    async def test_the_server_still_answers_afterwards(self, server: int) -> None:
        (answer,) = await exchange(server, request("GET", "/health", {"Connection": "close"}))
        assert answer.status == 200
