"""Install lifecycle and the other closed vocabularies of the domain."""

from __future__ import annotations

import enum


class AssetStatus(enum.StrEnum):
    IN_STOCK = "in_stock"
    INSTALLED = "installed"
    RETIRED = "retired"


class InstallState(enum.StrEnum):
    """The lifecycle; `TRANSITIONS` below is the only place that says what may follow what."""

    DRAFT = "draft"  # created, evidence being gathered
    NEEDS_RETAKE = "needs_retake"  # automation asked the user to fix evidence
    IN_REVIEW = "in_review"  # escalated to a specialist
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


TRANSITIONS: dict[InstallState, frozenset[InstallState]] = {
    InstallState.DRAFT: frozenset(
        {InstallState.APPROVED, InstallState.NEEDS_RETAKE, InstallState.IN_REVIEW, InstallState.CANCELLED}
    ),
    InstallState.NEEDS_RETAKE: frozenset(
        {InstallState.APPROVED, InstallState.NEEDS_RETAKE, InstallState.IN_REVIEW, InstallState.CANCELLED}
    ),
    InstallState.IN_REVIEW: frozenset(
        {InstallState.APPROVED, InstallState.REJECTED, InstallState.NEEDS_RETAKE, InstallState.CANCELLED}
    ),
    InstallState.APPROVED: frozenset(),
    InstallState.REJECTED: frozenset({InstallState.IN_REVIEW}),  # only by an objection (service.object_to_decision)
    InstallState.CANCELLED: frozenset(),
}

# States in which the user may still add or replace evidence.
EDITABLE_STATES = frozenset({InstallState.DRAFT, InstallState.NEEDS_RETAKE})

# Decided or withdrawn: its user changes nothing of its evidence or verdict any more (an objection aside).
DECIDED_STATES = frozenset({InstallState.APPROVED, InstallState.REJECTED, InstallState.CANCELLED})
