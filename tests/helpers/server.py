"""A real `selfinstall serve` process with its own environment (its own DATABASE_URL, say), started
and watched from the test's event loop, so an in-process TCP proxy keeps running meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

START_WITHIN_S = 60  # a loaded 2-core machine imports slowly; this only fails a server that never starts
STOP_WITHIN_S = 20  # SIGTERM: granian drains and stops its workers well within this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_sync(env: dict[str, str]) -> Iterator[str]:
    """`serving` for synchronous fixtures (the server's output discarded); yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "selfinstall"), "serve", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WITHIN_S
    try:
        while True:  # wait for liveness: fails only a server that never comes up, asserts no speed
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_WITHIN_S)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()


async def run_cli(env: dict[str, str], *args: str) -> None:
    """Run `selfinstall <args>` to completion in `env` (on top of the test's environment)."""
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "selfinstall"), *args, env={**os.environ, **env}
    )
    assert await proc.wait() == 0, f"selfinstall {' '.join(args)} failed"


@asynccontextmanager
async def serving(env: dict[str, str], log_path: Path) -> AsyncIterator[str]:
    """A server on a free port; yields its base URL once /health (liveness) answers."""
    port = free_port()
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "selfinstall"),
            "serve",
            "--port",
            str(port),
            env={**os.environ, **env},
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: a stuck worker can be killed with it
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _until_alive(url, proc, log_path)
            yield url
        finally:
            if proc.returncode is None:
                proc.terminate()
                try:
                    await asyncio.wait_for(proc.wait(), STOP_WITHIN_S)
                except TimeoutError:
                    _kill_group(proc.pid)
                    await proc.wait()


def _kill_group(pid: int) -> None:
    """A server that did not stop when asked (granian can miss a worker that was still starting):
    kill it and its workers, and say so instead of hanging the suite."""
    warnings.warn(f"the server (pid {pid}) did not stop within {STOP_WITHIN_S:g} s; killed", stacklevel=2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


async def _until_alive(url: str, proc: asyncio.subprocess.Process, log_path: Path) -> None:
    deadline = asyncio.get_running_loop().time() + START_WITHIN_S
    async with httpx.AsyncClient(timeout=1) as client:
        while True:
            try:
                if (await client.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the server did not start; its output:\n{log_path.read_text()}")
            await asyncio.sleep(0.1)
