"""The webhook scenarios subscribe receivers at NOWHERE and leave deliveries to it: removed after each
test, so no later test's delivery round sends them or its outbox gauges count them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from backend.events.tables import OutboxDelivery, WebhookSubscription
from tests.idempotency.scenarios import NOWHERE


@pytest.fixture(autouse=True)
async def _no_receiver_left_behind() -> AsyncIterator[None]:
    yield
    await OutboxDelivery.delete().where(OutboxDelivery.url.like(NOWHERE + "%"))
    await WebhookSubscription.delete().where(WebhookSubscription.url.like(NOWHERE + "%"))
