"""Every event type the code enqueues can be named by a subscription (backend/events/outbox.py EVENT_TYPES):
read from the source, so a new `enqueue`/`announce` call with a type left out of the list fails here."""

from __future__ import annotations

import re
from pathlib import Path

from backend.events.outbox import EVENT_TYPES, STATE_EVENTS

BACKEND = Path(__file__).resolve().parents[2] / "backend"
CALL = re.compile(r"\b(?:enqueue|announce)\(")
TYPE = re.compile(r'"([a-z_]+\.[a-z_]+)"')
CONSTANT = re.compile(r'^[A-Z_]*EVENT = "([a-z_]+\.[a-z_]+)"', re.M)
CHOICE = re.compile(r'action = "([a-z_]+\.[a-z_]+)" if .* else "([a-z_]+\.[a-z_]+)"')  # a type chosen, then sent
SENT = re.compile(r"\b(?:enqueue|announce)\([^)]*\baction\b")
WINDOW = 200  # characters after a call's opening parenthesis where its literal type stands


def enqueued_types() -> set[str]:
    found: set[str] = set()
    for path in BACKEND.rglob("*.py"):
        text = path.read_text()
        for call in CALL.finditer(text):
            found.update(TYPE.findall(text[call.end() : call.end() + WINDOW])[:1])
        found.update(CONSTANT.findall(text))
        for choice in CHOICE.finditer(text):  # only where the chosen `action` is sent, not just audited
            if SENT.search(text[choice.end() : choice.end() + WINDOW]):
                found.update(choice.groups())
    return found


class TestEveryTypeIsListed:
    def test_the_source_enqueues_only_listed_types(self) -> None:
        found = enqueued_types()
        assert len(found) >= 10, found  # the scan sees the calls
        assert found - EVENT_TYPES == set()

    def test_the_state_events_are_listed(self) -> None:
        assert set(STATE_EVENTS.values()) <= EVENT_TYPES
