"""Everything a service call needs besides the caller: settings, rules, storage, a CPU pool, a clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from backend.installs.catalog import Catalog, load_catalog
from backend.installs.flows import StateHook
from backend.settings import Settings
from backend.storage import LocalPhotoStore, PhotoStore
from backend.validation.geo import Territory
from backend.validation.policy import DEFAULT_POLICY_PATH, Policy, parse_policy

P = ParamSpec("P")
T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class InstallContext:
    settings: Settings
    catalog: Catalog
    policy: Policy
    territory: Territory
    store: PhotoStore
    # Photo decoding is CPU-bound: run it in threads, as many as there are cores, so parallel
    # uploads neither block the event loop nor thrash.
    cpu: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="cpu")
    )
    clock: Callable[[], datetime] = _utcnow
    state_hooks: tuple[StateHook, ...] = ()

    async def run_cpu(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU-bound work on the pool, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.cpu, lambda: fn(*args, **kwargs))


def load_policy(path: Path = DEFAULT_POLICY_PATH) -> Policy:
    """The validation policy file: the shipped one unless settings name another."""
    return parse_policy(path.read_bytes())


def load_territory(path: Path) -> Territory:
    """The operator's service territory from a GeoJSON file."""
    return Territory.from_geojson(path.read_bytes())


def build_context(settings: Settings, state_hooks: tuple[StateHook, ...] = ()) -> InstallContext:
    """Load the catalog, the policy and the territory once, at start-up."""
    return InstallContext(
        settings=settings,
        catalog=load_catalog(),
        policy=load_policy(settings.policy_path or DEFAULT_POLICY_PATH),
        territory=load_territory(settings.territory_path),
        store=LocalPhotoStore(settings.photo_dir),
        state_hooks=state_hooks,
    )
