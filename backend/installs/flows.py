"""What else happens when an install changes state, or a connection or asset changes hands: review cases,
outbox events.

Other domains register hooks on the InstallContext; they run inside the transaction of the
change, so a case or an event exists exactly when the change committed (a transactional outbox).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend.installs.records import InstallRec
from backend.principal import Principal


@dataclass(frozen=True, slots=True)
class StateChange:
    """A new state, or new reasons in the same state (e.g. help asked while in review)."""

    install: InstallRec  # as it was before the change
    to_state: str
    reasons: list[str]
    actor: Principal
    at: datetime

    @property
    def state_changed(self) -> bool:
        return self.install.state != self.to_state


StateHook = Callable[[StateChange], Awaitable[None]]


async def run_hooks(hooks: tuple[StateHook, ...], change: StateChange) -> None:
    """Call every hook in order, in the caller's transaction."""
    for hook in hooks:
        await hook(change)


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """A connection or asset changed: claimed, released, handed over, an asset retired or swapped."""

    action: str  # connection.claimed, connection.released, connection.reassigned, asset.retired, asset.swapped
    facts: dict[str, Any]  # what other systems may be told: EANs, serials, customers by reference only
    actor: Principal
    at: datetime


RegistryHook = Callable[[RegistryChange], Awaitable[None]]
