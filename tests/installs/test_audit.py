"""The audit log cannot be rewritten: the database refuses UPDATE and DELETE of event rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from backend.installs.tables import Event


class TestAppendOnly:
    async def test_events_cannot_be_updated_or_deleted(self) -> None:
        marker = f"audit-{uuid.uuid4().hex}"
        await Event.insert(
            Event(actor=marker, actor_role="admin", action="test.appended", detail={}, created_at=datetime.now(UTC))
        )
        with pytest.raises(Exception, match="append-only"):
            await Event.update({Event.action: "test.rewritten"}).where(Event.actor == marker)
        with pytest.raises(Exception, match="append-only"):
            await Event.delete().where(Event.actor == marker)
        rows = await Event.select(Event.action).where(Event.actor == marker)
        assert rows == [{"action": "test.appended"}]
