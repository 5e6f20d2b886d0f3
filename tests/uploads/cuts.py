"""A phone losing its signal mid-upload, over real loopback HTTP: a request whose body stops part way."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from httpx import AsyncClient

SETTLED_WITHIN_S = 20.0  # the server notices a dropped connection in moments; this only fails one that never does


def cut(url: str, method: str, headers: dict[str, str], body: bytes, send: int) -> None:
    """Send the request with `send` bytes of its `body` (its Content-Length says all of them), then close
    the connection with the rest unsent."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"{method} {parts.path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    with socket.create_connection((host, port)) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body[:send])


async def offset_once_settled(http: AsyncClient, url: str, headers: dict[str, str], expected: int) -> int:
    """The offset a HEAD reports once the server has handled the cut request (the cut request may not even
    have reached the handler when the first HEAD does): every byte the server received is reported."""
    deadline = asyncio.get_running_loop().time() + SETTLED_WITHIN_S
    while True:
        r = await http.head(url, headers=headers)
        assert r.status_code in (200, 204), r.status_code
        offset = int(r.headers["Upload-Offset"])
        if offset == expected or asyncio.get_running_loop().time() > deadline:
            return offset
        await asyncio.sleep(0.05)
