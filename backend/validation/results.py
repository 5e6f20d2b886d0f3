"""The vocabulary every check speaks: a status, a confidence, readable evidence and a fix in words."""

from __future__ import annotations

import enum
from typing import Any

import msgspec


def N_(msgid: str) -> str:
    """Marks a fix's msgid for extraction (validation imports nothing of the project: backend/i18n.py's
    marker, restated)."""
    return msgid


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNCERTAIN = "uncertain"


class Reason(enum.StrEnum):
    """Why self-service fell short; declaration order is the weight a specialist sees them in."""

    SUSPECTED_FRAUD = "suspected_fraud"
    HUMAN_REQUESTED = "human_requested"
    APPROVAL_REQUIRED = "approval_required"
    SPECIALIST_KNOWLEDGE = "specialist_knowledge"
    COMPLEXITY = "complexity"
    UNCERTAIN = "uncertain"


REASON_WEIGHT = {reason: weight for weight, reason in enumerate(Reason)}


class Outcome(enum.StrEnum):
    APPROVED = "approved"
    NEEDS_RETAKE = "needs_retake"
    IN_REVIEW = "in_review"


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """One check's verdict on one subject (a photo slot, the location, the asset...)."""

    check: str
    subject: str
    status: Status
    confidence: float
    evidence: dict[str, Any]
    user_fixable: bool
    # What the user can do about it, as a msgid of the message catalogs (the English text; "" when nothing)
    # and its parameters: worded in the reader's language where the result is shown, not here.
    fix: str = ""
    fix_params: dict[str, Any] = {}
    # What a failure that the user cannot fix means for the decision.
    escalate_as: Reason = Reason.UNCERTAIN

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    reasons: tuple[Reason, ...]
    policy_version: str


def ordered(reasons: set[Reason]) -> tuple[Reason, ...]:
    """Reasons by weight, heaviest first."""
    return tuple(sorted(reasons, key=REASON_WEIGHT.__getitem__))
