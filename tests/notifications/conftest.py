"""A real SMTP server (aiosmtpd) on a free local port, and the sender pointed at it."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from backend.notifications.sender import channels_from, send_round
from backend.settings import Settings


class Inbox:
    """What the SMTP server accepted, in order: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.raw: list[tuple[list[str], bytes]] = []  # as it came over the wire

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        self.raw.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def raw_to(self, address: str) -> list[bytes]:
        return [raw for rcpt, raw in self.raw if address in rcpt]

    def to(self, address: str) -> list[EmailMessage]:
        """The messages whose envelope named `address`."""
        return [m for rcpt, m in self.received if address in rcpt]


class SmtpServer:
    """aiosmtpd on one port, stopped and started again on the same port (the server away, then back)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()  # returns once the server answers

    def stop(self) -> None:
        assert self.controller is not None
        self.controller.stop()
        self.controller = None


class Mail:
    """The sender as the lifespan runs it, one round at a time, against the local server."""

    def __init__(self, settings: Settings, server: SmtpServer) -> None:
        self.server = server
        self.settings = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=server.port)
        self.channels = channels_from(self.settings)

    async def drain(self, now: datetime | None = None) -> list[str]:
        """Rounds until nothing is due at `now` (default: the present); what each round reported."""
        said = []
        for _ in range(1000):  # bounded: every round finishes the rows it takes, so this ends long before
            report = await send_round(self.settings, self.channels, lambda: now or datetime.now(UTC))
            if report is None:
                return said
            said.append(report)
        raise AssertionError(f"the sender never ran dry: {said[-3:]}")


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox())
    server.start()
    yield server
    if server.controller is not None:
        server.stop()


@pytest.fixture
def inbox(smtp_server: SmtpServer) -> Inbox:
    return smtp_server.inbox


@pytest.fixture
def mail(settings: Settings, smtp_server: SmtpServer) -> Mail:
    if smtp_server.controller is None:  # a test that stopped it failed before starting it again
        smtp_server.start()
    return Mail(settings, smtp_server)
