"""Webhooks outside development go only over https to public addresses (SSRF): refused when made (422
`webhook/url-not-allowed`), and not sent when the name resolves to this machine or an internal network
(the delivery records the refusal). Development and the tests keep their local http receivers."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from httpx import AsyncClient

from backend.app import create_app
from backend.events.delivery import deliver_due
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery, WebhookSubscription
from backend.events.targets import pinned, public_address, refusal
from backend.installs.service import transaction
from backend.principal import Role
from backend.settings import Settings, load_settings
from tests.factories import Factory
from tests.helpers.webhooks import SECRET, Receiver
from tests.mobile_api.helpers import problem
from tests.test_settings import PRODUCTION_ENV

HOOKS = "/admin/v1/webhooks"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://registry.example/hooks", None),
        ("https://93.184.216.34/hooks", None),
        ("http://registry.example/hooks", "https"),
        ("https://localhost/hooks", "address"),
        ("https://api.localhost./hooks", "address"),
        ("https://127.0.0.1:8000/admin", "address"),
        ("https://10.1.2.3/", "address"),
        ("https://192.168.1.1/", "address"),
        ("https://172.16.0.9/", "address"),
        ("https://169.254.169.254/latest/meta-data", "address"),  # cloud metadata
        ("https://100.64.0.1/", "address"),  # shared (carrier-grade NAT)
        ("https://0.0.0.0/", "address"),
        ("https://[::1]/", "address"),
        ("https://[fe80::1]/", "address"),
        ("https://[fd00::1]/", "address"),
        ("https://[::ffff:127.0.0.1]/", "address"),
    ],
)
def test_what_may_be_a_webhook_outside_development(url: str, why: str | None) -> None:
    assert refusal(url) == why


async def test_a_name_resolving_to_this_machine_is_refused() -> None:
    assert "not a public address" in str(await public_address("https://localhost/hooks"))


@pytest.mark.parametrize("url", [f"https://{'a' * 64}.example/h", "https://a..example/h", "https://x.example:abc/h"])
async def test_a_name_or_port_no_delivery_can_reach_is_refused_not_raised(url: str) -> None:
    """Refused when made, and at delivery (a row made before) said in words instead of stopping the round."""
    assert refusal(url) == "address"
    assert "is not a name or port a delivery can reach" in str(await public_address(url))


async def test_a_public_address_literal_is_its_own_answer() -> None:
    assert str(await public_address("https://93.184.216.34/hooks")) == "93.184.216.34"


@pytest.mark.parametrize(
    ("url", "address", "sent_to", "host"),
    [
        ("https://registry.example/hooks?x=1", "93.184.216.34", "https://93.184.216.34/hooks?x=1", "registry.example"),
        ("https://registry.example:8443/h", "93.184.216.34", "https://93.184.216.34:8443/h", "registry.example:8443"),
        ("https://registry.example/h", "2606:2800:220:1::1", "https://[2606:2800:220:1::1]/h", "registry.example"),
    ],
)
def test_a_request_is_pinned_to_the_address_checked(url: str, address: str, sent_to: str, host: str) -> None:
    """The URL's host stays in Host and in the TLS server name (the certificate is checked against it)."""
    # ... and the connection is not kept for another name on the same address (httpx pools by address)
    headers = {"Host": host, "Connection": "close"}
    assert pinned(url, ipaddress.ip_address(address)) == (sent_to, headers, {"sni_hostname": host.split(":")[0]})


@pytest.fixture
async def production(client: AsyncClient) -> AsyncIterator[tuple[AsyncClient, Settings]]:
    """The real app as production runs it (real secrets). Needs the `client` fixture (the pool)."""
    settings = load_settings({**os.environ, "SELFINSTALL_ENV": "production", **PRODUCTION_ENV})
    app = create_app(settings)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            yield c, settings
    finally:
        app.state.ctx.cpu.shutdown()
        await app.state.ctx.store.aclose()


class TestOutsideDevelopment:
    @pytest.mark.parametrize("url", ["http://registry.example/hooks", "https://169.254.169.254/", "https://[::1]/"])
    async def test_made_refused_in_dutch_and_english(self, production: tuple[AsyncClient, Settings], url: str) -> None:
        client, settings = production
        admin = Factory(settings).party(Role.ADMIN)
        r = await client.post(HOOKS, json={"url": url}, headers=admin.headers)
        assert problem(r, 422, "webhook/url-not-allowed")["detail"].startswith("Webhooks gaan alleen via https")
        r = await client.post(HOOKS, json={"url": url}, headers={**admin.headers, "Accept-Language": "en"})
        assert problem(r, 422, "webhook/url-not-allowed")["detail"].startswith("Webhooks go only over https")
        assert await WebhookSubscription.count().where(WebhookSubscription.url == url) == 0

    async def test_a_public_https_name_is_made(self, production: tuple[AsyncClient, Settings]) -> None:
        client, settings = production
        admin = Factory(settings).party(Role.ADMIN)
        r = await client.post(HOOKS, json={"url": "https://registry.example/hooks"}, headers=admin.headers)
        assert r.status_code == 201, r.text
        assert (await client.delete(f"{HOOKS}/{r.json()['id']}", headers=admin.headers)).status_code == 204

    async def test_a_subscription_resolving_to_an_internal_address_is_not_sent_to(self, make: Factory) -> None:
        """Made while allowed (development, or a name that resolved elsewhere then): at delivery outside
        development the name resolves to this machine, so nothing is sent and the refusal is recorded."""
        receiver = Receiver(url=f"http://localhost/hook/{uuid.uuid4().hex}")  # served in-process all the same
        try:
            async with transaction():
                [sub] = await WebhookSubscription.insert(
                    WebhookSubscription(
                        url=receiver.url, event_types=[], secret=SECRET, created_by="admin", created_at=_now()
                    )
                ).returning(WebhookSubscription.id)
            async with transaction():  # to the subscriptions only
                await enqueue("test.ping", {"n": 1}, _now(), urls=())
            async with receiver.client() as http:
                now = _now()
                await deliver_due(http, SECRET, lambda: now, timedelta(days=3), development=False)
                assert receiver.mine() == []  # never sent
                [row] = await OutboxDelivery.select().where(OutboxDelivery.subscription == sub["id"])
                assert row["delivered_at"] is None and row["attempts"] == 1
                assert row["last_error"].startswith("refused: ") and "not a public address" in row["last_error"]
                later = now + timedelta(minutes=5)
                await deliver_due(http, SECRET, lambda: later, timedelta(days=3), development=True)
                assert len(receiver.mine()) == 1  # in development the local receiver gets it
        finally:
            await WebhookSubscription.delete().where(WebhookSubscription.url == receiver.url)
            await receiver.forget()


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class RebindingNames:
    """A name's resolver that answers a public address first and this machine afterwards, as a DNS server
    with a zero TTL can (the "DNS rebinding" way around a check made before the connection)."""

    def __init__(self) -> None:
        self.answers = ["93.184.216.34", "127.0.0.1"]
        self.asked = 0

    async def __call__(self, host: str) -> list[tuple[object, ...]]:
        answer = self.answers[min(self.asked, len(self.answers) - 1)]
        self.asked += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, 443))]


async def test_the_delivery_connects_to_the_address_it_checked(make: Factory) -> None:
    """Outside development a subscription's name is resolved once: the request goes to that public address
    with the name in Host, never through a second lookup (which here would answer 127.0.0.1)."""
    receiver = Receiver(url=f"https://hooks.registry.example/hook/{uuid.uuid4().hex}")
    names = RebindingNames()
    try:
        async with transaction():
            await WebhookSubscription.insert(
                WebhookSubscription(
                    url=receiver.url, event_types=[], secret=SECRET, created_by="admin", created_at=_now()
                )
            )
        async with transaction():
            await enqueue("test.ping", {"n": 2}, _now(), urls=())
        sent: list[httpx.Request] = []
        async with receiver.client() as http:
            http.event_hooks["request"].append(lambda request: _kept(sent, request))
            now = _now()
            await deliver_due(http, SECRET, lambda: now, timedelta(days=3), development=False, resolve=names)
        [got] = receiver.mine()
        assert got.headers["host"] == "hooks.registry.example" and names.asked == 1
        [request] = [r for r in sent if r.url.path == receiver.path]
        assert request.url.host == "93.184.216.34" and request.extensions["sni_hostname"] == "hooks.registry.example"
    finally:
        await WebhookSubscription.delete().where(WebhookSubscription.url == receiver.url)
        await receiver.forget()


async def _kept(sent: list[httpx.Request], request: httpx.Request) -> None:
    sent.append(request)
