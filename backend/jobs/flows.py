"""A job follows the install started from it: approved -> done; cancelled or rejected -> cancelled. A
customer's own job (self-install) is done by the approval of their install at its connection, of its type.

An install-state hook (registered in backend/app.py), run inside the install's own transaction, so the
job's state and the install's commit together.
"""

from __future__ import annotations

from backend.installs.enums import InstallState
from backend.installs.flows import StateChange, StateHook
from backend.jobs import repository as repo
from backend.jobs.enums import JobState
from backend.jobs.service import follow
from backend.principal import Role

# The install's final states, and where its job goes with them.
FOLLOWS = {
    InstallState.APPROVED: JobState.DONE,
    InstallState.CANCELLED: JobState.CANCELLED,
    InstallState.REJECTED: JobState.CANCELLED,
}


def job_hook(urls: tuple[str, ...]) -> StateHook:
    """The hook that moves an install's job on with it (announced to the webhook `urls` too)."""

    async def on_state_change(change: StateChange) -> None:
        to_state = FOLLOWS.get(InstallState(change.to_state))
        if to_state is None or not change.state_changed:
            return
        install = change.install
        job = await repo.job_by_install(install.id)
        if job is not None and job.state == JobState.IN_PROGRESS:
            await follow(urls, change.actor, job, to_state, change.at, install)
        elif job is None and to_state is JobState.DONE and install.created_by_role == Role.CUSTOMER:
            own = await repo.self_install_job(install.connection, install.asset_type)
            if own is not None:
                await follow(urls, change.actor, own, to_state, change.at, install)

    return on_state_change


async def holds_asset(asset_id: int) -> bool:
    """An asset hold (InstallContext.asset_holds): a live job has this asset allocated."""
    return bool(await repo.allocations([asset_id]))
