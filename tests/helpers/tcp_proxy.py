"""A real TCP proxy in front of PostgreSQL that a test can cut and restore, so a server process can
lose its database without the machine's PostgreSQL server (shared with other runs) ever stopping."""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the upstream address, until told otherwise.

    `stop()` behaves like a stopped database server: every open connection is reset and new ones
    are refused. `partition()` behaves like a network that drops packets: connections stay open
    but nothing arrives, and new ones are accepted and then hang. `restore()` ends either."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._flowing = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._flowing.set()
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """The database is down: reset every connection, refuse new ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    def partition(self) -> None:
        """The network drops everything, in both directions, without closing anything."""
        self._flowing.clear()

    async def restore(self) -> None:
        """The database is back on the same address. Connections that lived through a partition are
        reset (as a firewall forgets them), so no request held back arrives late."""
        if not self._flowing.is_set():
            for writer in list(self._writers):
                writer.transport.abort()
            self._writers.clear()
        if self._server is None:
            await self._listen()
        self._flowing.set()

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.add(client_writer)
        try:
            await self._flowing.wait()
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
            except OSError:
                return
            self._writers.add(upstream_writer)
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer),
                self._pipe(upstream_reader, client_writer),
                return_exceptions=True,
            )
        finally:
            self._writers.discard(client_writer)
            client_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()  # a partition holds the bytes back
                writer.write(data)
                await writer.drain()
        finally:
            self._writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
