"""Everything a service call needs besides the caller: settings, rules, storage, a CPU pool, a clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from backend.installs.catalog import Catalog, load_catalog
from backend.installs.cpu_pool import BoundedPool
from backend.installs.flows import RegistryHook, StateHook
from backend.installs.stored_halves import StoredHalves
from backend.settings import Settings
from backend.storage import PhotoStore, open_store
from backend.validation.geo import Territory
from backend.validation.policy import DEFAULT_POLICY_PATH, Policy, parse_policy

AssetHold = Callable[[int], Awaitable[bool]]  # an asset id -> held for something else

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
    # Photo decoding is CPU-bound: run it in threads (the cores shared out over the workers), so
    # parallel uploads neither block the event loop nor thrash, and refuse what would only queue.
    cpu: BoundedPool
    clock: Callable[[], datetime] = _utcnow
    state_hooks: tuple[StateHook, ...] = ()
    # Whether another domain holds an asset for something else (a live job's allocation): a scan of it
    # is refused unless this install is the one it is held for (installs.allocated_asset).
    asset_holds: tuple[AssetHold, ...] = ()
    # What other domains do when a connection or asset changes (the outbox), in the change's transaction.
    registry_hooks: tuple[RegistryHook, ...] = ()
    # The stored photos' hash halves, in memory: the reuse lookup asks the database only for keys in it.
    halves: StoredHalves = field(default_factory=StoredHalves)

    async def run_cpu(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU-bound work on the pool, off the event loop; 503 `service/busy` when its queue is full."""
        return await self.cpu.run(fn, *args, **kwargs)


def load_policy(path: Path = DEFAULT_POLICY_PATH) -> Policy:
    """The validation policy file: the shipped one unless settings name another."""
    return parse_policy(path.read_bytes())


def load_territory(path: Path) -> Territory:
    """The operator's service territory from a GeoJSON file."""
    return Territory.from_geojson(path.read_bytes())


def build_context(
    settings: Settings, state_hooks: tuple[StateHook, ...] = (), asset_holds: tuple[AssetHold, ...] = ()
) -> InstallContext:
    """Load the catalog, the policy and the territory once, at start-up."""
    return InstallContext(
        settings=settings,
        catalog=load_catalog(),
        policy=load_policy(settings.policy_path or DEFAULT_POLICY_PATH),
        territory=load_territory(settings.territory_path),
        store=open_store(settings),
        cpu=BoundedPool(settings.cpu_threads, settings.cpu_queue, settings.busy_retry_after_s),
        state_hooks=state_hooks,
        asset_holds=asset_holds,
    )
