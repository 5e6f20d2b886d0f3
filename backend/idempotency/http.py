"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header, with Stripe's semantics) for every POST of
the JSON APIs, as ASGI middleware after the bearer middleware and the rate limit.

A request without the header passes straight through: no query, nothing read. With it, the key is per
principal, and the request is fingerprinted (SHA-256 of method, path, query and body):
- an answer stored under the key: the same request gets it again (status, headers, body) with
  `Idempotent-Replayed: true`; another request 422 idempotency/key-reused;
- a request still running under the key: 409 idempotency/in-flight with Retry-After (422 if another);
- otherwise it runs, holding the key under a lease (IDEMPOTENCY_LEASE_S) taken only once its body has
  been read (hashed chunk by chunk as the handler reads it, so nothing is held twice and a slow upload
  holds no key), and its answer is stored before it is sent (service.kept says which: not 5xx, 429,
  400, 401, 403, 408, 413), so a retry arriving right after it never runs it again. An answer not
  kept frees the key. A worker that dies mid-request leaves a lease that simply runs out.
An operation that reads no body is fingerprinted without one (a body sent to it is ignored, by it too).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.idempotency import service, takes_key
from backend.openapi import reads_body
from backend.principal import Principal

if TYPE_CHECKING:
    from backend.installs.context import InstallContext

log = logging.getLogger("selfinstall")

HEADER = b"idempotency-key"
REPLAYED = (b"idempotent-replayed", b"true")  # Stripe's name for it; the draft names none


class IdempotencyKeys:
    """ASGI middleware: the Idempotency-Key of every POST that `takes_key`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not takes_key(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        values = [value for name, value in scope["headers"] if name == HEADER]
        who = scope.get("user")
        if not values or not isinstance(who, Principal):  # every such route is guarded: who is known
            await self.app(scope, receive, send)
            return
        name = service.key_hash(who, service.parse_key(values))
        await _Exchange(self.app, scope, name).run(receive, send)


class _Exchange:
    """One request with a key: replayed, refused, or run holding the key."""

    def __init__(self, app: ASGIApp, scope: Scope, name: str) -> None:
        self.app = app
        self.scope = scope
        self.name = name
        self.ctx: InstallContext = scope["litestar_app"].state.ctx  # its clock and settings (tests move the clock)
        handler = scope["route_handler"]
        self.reads_body = reads_body(handler)
        self.max_body = handler.resolve_request_max_body_size()
        self.hash = service.request_hash(scope["method"], scope["path"], scope["query_string"])
        self.token: str | None = None

    async def run(self, receive: Receive, send: Send) -> None:
        row = await service.earlier(self.name, self.ctx.clock())
        if row is not None:
            if self.reads_body:
                await self._drain(receive)
            await _replay(send, service.replay(row, self.hash.hexdigest()))
            return
        if not self.reads_body:
            await self._hold()
        sent: list[Message] = []

        async def keep(message: Message) -> None:
            sent.append(message)

        try:
            await self.app(self.scope, self._receiving(receive) if self.reads_body else receive, keep)
        except BaseException:
            if self.token is not None:
                await self._settle(None)
            raise
        if self.token is not None:
            await self._settle(_answer(sent))
        for message in sent:
            await send(message)

    async def _hold(self) -> None:
        settings = self.ctx.settings
        self.token = await service.hold(
            self.name,
            self.hash.hexdigest(),
            self.ctx.clock(),
            settings.idempotency_lease_s,
            settings.idempotency_ttl_s,
        )

    def _receiving(self, receive: Receive) -> Receive:
        """`receive` hashing the body as the handler reads it; the key is held once the body is complete."""

        async def receiving() -> Message:
            message = await receive()
            if message["type"] == "http.request" and self.token is None:
                self.hash.update(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._hold()
            return message

        return receiving  # type: ignore[return-value]

    async def _drain(self, receive: Receive) -> None:
        """Hash the body the handler would read, keeping none of it; no more than the route accepts."""
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away: whatever is answered reaches no one
            chunk = message.get("body", b"")
            size += len(chunk)
            if self.max_body is not None and size > self.max_body:
                raise RequestEntityTooLarge
            self.hash.update(chunk)
            if not message.get("more_body", False):
                return

    async def _settle(self, answer: service.Answer | None) -> None:
        """Store the answer or free the key; a database failure here must not cost the client its answer
        (the lease then runs out, and a retry runs again)."""
        assert self.token is not None
        try:
            if answer is not None and service.kept(answer.status):
                ttl_s = self.ctx.settings.idempotency_ttl_s
                if not await service.record(self.name, self.token, answer, self.ctx.clock(), ttl_s):
                    log.warning("idempotency key's lease ran out before its answer was stored")
            else:
                await service.let_go(self.name, self.token)
        except Exception:
            log.exception("idempotency key not settled; it is free again when its lease ends")


def _answer(sent: list[Message]) -> service.Answer:
    """The response the app sent, as stored (its Content-Length is made again on replay)."""
    start = next(m for m in sent if m["type"] == "http.response.start")
    given = start.get("headers", ())
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in given if k.lower() != b"content-length"]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return service.Answer(start["status"], headers, body)


async def _replay(send: Send, answer: service.Answer) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers += [(b"content-length", str(len(answer.body)).encode()), REPLAYED]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})
