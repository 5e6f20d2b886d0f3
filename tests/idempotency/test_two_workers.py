"""One Idempotency-Key across two worker processes: `selfinstall serve` with two granian workers on the
run's database, every POST operation sent with one key over several connections at once and then again:
it runs once, and every answer is that one answer (or 409 while it was still running)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.events.test_delivery_workers import _both_workers_started
from tests.factories import Factory
from tests.helpers.server import serving
from tests.idempotency.scenarios import SCENARIOS, Scenario
from tests.mobile_api.helpers import problem

AT_ONCE = 6  # one connection each: the kernel hands them to both workers
RETRIES = 50  # a bound on the answers still in flight, not a timing assertion


@pytest.fixture(scope="module")
async def served(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    folder = tmp_path_factory.mktemp("two-workers")
    log = folder / "server.log"
    async with serving({"WORKERS": "2", "DATA_DIR": str(folder)}, log) as url:
        await _both_workers_started(log)
        yield url


async def _send_once_more_until_answered(sc: Scenario, url: str, key: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for _ in range(RETRIES):
            r = await sc.call.send(http, sc.who, **key)
            if r.status_code != 409:
                return r
            problem(r, 409, "idempotency/in-flight")
            await asyncio.sleep(int(r.headers["retry-after"]))  # as a client does
    raise AssertionError("still in flight after every retry")


class TestTwoWorkers:
    @pytest.mark.parametrize("operation", sorted(SCENARIOS))
    async def test_one_key_runs_once_across_processes(self, served: str, make: Factory, operation: str) -> None:
        async with httpx.AsyncClient(base_url=served, timeout=30) as http:
            sc = await SCENARIOS[operation](http, make)
        key = {"Idempotency-Key": str(uuid.uuid4())}
        answers = await asyncio.gather(*(_send_once_more_until_answered(sc, served, key) for _ in range(AT_ONCE)))
        assert all(r.status_code < 300 for r in answers), [r.text for r in answers]
        assert len({(r.status_code, r.content) for r in answers}) == 1  # one answer, however often asked
        assert sum("idempotent-replayed" not in r.headers for r in answers) == 1  # the one that ran
        later = await _send_once_more_until_answered(sc, served, key)
        assert (later.status_code, later.content) == (answers[0].status_code, answers[0].content)
        assert later.headers["idempotent-replayed"] == "true"
        assert await sc.executions() == 1
