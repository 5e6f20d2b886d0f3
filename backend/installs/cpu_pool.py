"""A thread pool with a bounded queue: at most `threads` jobs run and `queue` more wait.

Photo validation is CPU-bound. With an unbounded queue a burst of uploads waited up to 15 s for a
core; beyond the bound a job is now refused at once with `Unavailable("service/busy")` (503 +
Retry-After), and the mobile app sends the upload again (uploads are idempotent). The bound is per
worker process, like the cores it shares out.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from backend.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")


class BoundedPool:
    """CPU-bound work off the event loop, refused rather than queued without end."""

    def __init__(self, threads: int, queue: int, retry_after_s: int) -> None:
        if threads < 1 or queue < 0:
            raise ValueError("a pool needs at least one thread and a queue of zero or more")
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cpu")
        # A slot is taken before a job is submitted and given back when the job has finished (not
        # when its caller stops waiting: a cancelled request's job may still be running).
        self._slots = threading.BoundedSemaphore(threads + queue)
        self.retry_after_s = retry_after_s

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> asyncio.Future[T]:
        """`fn(*args, **kwargs)` on a pool thread, to be awaited; `Unavailable("service/busy")` at once
        when the queue is full (decided by the call itself, not when it is awaited)."""
        if not self._slots.acquire(blocking=False):
            raise Unavailable("service/busy", retry_after_s=self.retry_after_s)
        try:
            future = self._executor.submit(fn, *args, **kwargs)
        except BaseException:  # the pool is shut down
            self._slots.release()
            raise
        future.add_done_callback(self._release)
        return asyncio.wrap_future(future)

    def _release(self, _: Future[object]) -> None:
        self._slots.release()

    def shutdown(self) -> None:
        """Stop taking jobs; queued ones are dropped, running ones finish on their own."""
        self._executor.shutdown(wait=False, cancel_futures=True)
