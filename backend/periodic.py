"""Work every worker repeats in the background (the sweeps): one loop for all of them.

Overlapping rounds on many workers are each sweep's own concern (every one is safe to overlap)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("selfinstall")


async def every(interval_s: float, name: str, run_round: Callable[[], Awaitable[str | None]]) -> None:
    """Run a round every `interval_s`, the first after one interval (a restart loop sweeps nothing
    twice); what a round reports is logged; a failed round (a database hiccup) is logged and the next
    one still runs."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            if said := await run_round():
                log.info("%s: %s", name, said)
        except Exception:
            log.exception("%s failed", name)
