"""BoundedPool: jobs beyond `threads` running and `queue` waiting are refused at once, never queued;
and the defaults of the bounds."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator

import pytest

from backend.errors import Unavailable
from backend.installs.cpu_pool import BoundedPool
from backend.settings import load_settings


def blocked(started: threading.Event, release: threading.Event) -> str:
    started.set()
    release.wait(timeout=30)
    return "done"


async def running(started: threading.Event) -> None:
    """Wait (off the loop) until a job is on a pool thread."""
    assert await asyncio.to_thread(started.wait, 30)


@pytest.fixture
def gate() -> Iterator[tuple[threading.Event, threading.Event]]:
    started, release = threading.Event(), threading.Event()
    yield started, release
    release.set()  # never leave a pool thread blocked after a failed assertion


class TestAdmission:
    async def test_a_job_past_the_bound_is_refused_with_a_retry_time(self, gate) -> None:
        started, release = gate
        pool = BoundedPool(threads=1, queue=1, retry_after_s=2)
        first = pool.run(blocked, started, release)
        await running(started)
        queued = pool.run(lambda: "queued")
        with pytest.raises(Unavailable) as refused:
            pool.run(lambda: "refused")
        assert (refused.value.code, refused.value.status, refused.value.params) == (
            "service/busy",
            503,
            {"retry_after_s": 2},
        )
        release.set()
        assert (await first, await queued) == ("done", "queued")
        assert await pool.run(lambda: "admitted again") == "admitted again"  # the slots came back
        pool.shutdown()

    async def test_a_queue_of_zero_admits_only_what_can_run(self, gate) -> None:
        started, release = gate
        pool = BoundedPool(threads=1, queue=0, retry_after_s=1)
        first = pool.run(blocked, started, release)
        await running(started)
        with pytest.raises(Unavailable):
            pool.run(lambda: "refused")
        release.set()
        assert await first == "done"
        assert await pool.run(lambda: 42) == 42
        pool.shutdown()

    async def test_a_job_whose_caller_gave_up_keeps_its_slot_until_it_ends(self, gate) -> None:
        """A cancelled request cannot stop a running decode: the core stays taken until it ends."""
        started, release = gate
        pool = BoundedPool(threads=1, queue=1, retry_after_s=1)
        abandoned = pool.run(blocked, started, release)
        await running(started)
        abandoned.cancel()
        with pytest.raises(asyncio.CancelledError):
            await abandoned
        behind = pool.run(lambda: "behind")  # the queue's one place
        with pytest.raises(Unavailable):  # the abandoned job still runs and holds the other
            pool.run(lambda: "refused")
        release.set()
        assert await behind == "behind"  # ran after the abandoned job ended...
        assert await pool.run(lambda: "free") == "free"  # ...and both slots are back
        pool.shutdown()

    async def test_errors_of_the_job_reach_the_caller_and_free_the_slot(self) -> None:
        pool = BoundedPool(threads=1, queue=0, retry_after_s=1)

        def fails() -> None:
            raise ValueError("undecodable")

        with pytest.raises(ValueError, match="undecodable"):
            await pool.run(fails)
        assert await pool.run(lambda: "next") == "next"
        pool.shutdown()

    def test_a_pool_needs_a_thread(self) -> None:
        with pytest.raises(ValueError):
            BoundedPool(threads=0, queue=1, retry_after_s=1)


class TestSettings:
    def test_the_cores_are_shared_out_over_the_workers(self) -> None:
        cores = os.cpu_count() or 1
        for workers in (1, 2, cores * 2):
            s = load_settings({"WORKERS": str(workers)})
            assert s.cpu_threads == max(1, cores // workers) and s.cpu_queue == s.cpu_threads
            assert s.max_requests_in_flight == s.cpu_threads
            assert (s.admission_wait_s, s.admission_queue) == (2.0, 4 * s.max_requests_in_flight)

    def test_each_bound_can_be_set(self) -> None:
        env = {"CPU_THREADS": "3", "CPU_QUEUE": "0", "MAX_REQUESTS_IN_FLIGHT": "0", "BUSY_RETRY_AFTER_S": "7"}
        s = load_settings({**env, "ADMISSION_WAIT_S": "0.5", "ADMISSION_QUEUE": "9"})
        assert (s.cpu_threads, s.cpu_queue, s.max_requests_in_flight, s.busy_retry_after_s) == (3, 0, 0, 7)
        assert (s.admission_wait_s, s.admission_queue) == (0.5, 9)
