"""The install-state flow of the quality domain: sample automatic approvals for a specialist's second look."""

from __future__ import annotations

import hashlib
import uuid

from backend.installs import repository as installs_repo
from backend.installs.flows import StateChange, StateHook
from backend.review.followups import open_followup


def sample_point(install_id: uuid.UUID) -> float:
    """Where an install falls in [0, 1): sha256 of its canonical id, so a sample is reproducible anywhere."""
    return int.from_bytes(hashlib.sha256(str(install_id).encode()).digest(), "big") / 2**256


def qa_sample_hook(share: float) -> StateHook:
    """In the approval's transaction: an automatic approval whose sample point is below `share` gets a
    `qa_sample` follow-up. The customer is not held up: the install is approved either way."""

    async def on_state_change(change: StateChange) -> None:
        if not change.state_changed or change.to_state != "approved":
            return
        point = sample_point(change.install.id)
        if point >= share:
            return
        decisions = await installs_repo.decisions_of(change.install.id)
        # Only the automation's approvals are measured (a specialist's or a device's are not).
        if not decisions or decisions[-1].decided_by != "automation" or decisions[-1].outcome != "approved":
            return
        last = decisions[-1]
        await open_followup(
            change.install,
            "qa_sample",
            ["qa_sample"],
            change.at,
            {
                "policy_version": last.policy_version,
                "attempt": last.attempt,
                "sample_share": share,
                "sample_point": round(point, 6),
            },
        )

    return on_state_change
