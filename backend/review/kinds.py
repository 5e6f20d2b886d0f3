"""Kinds of review case and the verdicts a specialist may give on each follow-up kind."""

from __future__ import annotations

from enum import StrEnum


class CaseKind(StrEnum):
    ESCALATION = "escalation"  # follows the install's state: in_review opens it, a decision closes it
    QA_SAMPLE = "qa_sample"  # an automatic approval sampled for a second look
    DEVICE_SILENT = "device_silent"  # an approved install whose device never reported
    DEVICE_MISMATCH = "device_mismatch"  # the device reports a different asset than the one approved
    READING_MISMATCH = "reading_mismatch"  # the device's reading is far from the customer's
    CUSTOMER_HELP = "customer_help"  # after the decision (or a withdrawal) the customer asked for a person


FOLLOWUP_KINDS = frozenset(k.value for k in CaseKind if k is not CaseKind.ESCALATION)

# A follow-up verdict is recorded and published; it never changes the install's state.
VERDICTS: dict[str, tuple[str, ...]] = {
    CaseKind.QA_SAMPLE.value: ("agree", "disagree"),  # with the automation's approval
    CaseKind.DEVICE_SILENT.value: ("resolved", "escalate"),  # escalate: field service must look
    CaseKind.DEVICE_MISMATCH.value: ("resolved", "escalate"),
    CaseKind.READING_MISMATCH.value: ("resolved", "escalate"),
    CaseKind.CUSTOMER_HELP.value: ("answered",),  # the specialist contacted the customer
}
