"""What else happens when an install changes state: review cases, outbox events.

Other domains register hooks on the InstallContext; they run inside the transaction of the
change, so a case or an event exists exactly when the change committed (a transactional outbox).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

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
