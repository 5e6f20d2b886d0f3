"""A real `selfinstall serve` process with its own environment (its own DATABASE_URL, say), started
and watched from the test's event loop, so an in-process TCP proxy keeps running meanwhile."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

START_WITHIN_S = 60  # a loaded 2-core machine imports slowly; this only fails a server that never starts


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
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


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
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _until_alive(url, proc, log_path)
            yield url
        finally:
            if proc.returncode is None:
                proc.terminate()
                await proc.wait()


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
