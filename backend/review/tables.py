"""Review cases: one per install and kind (an escalation, or a follow-up); reopened when it comes back."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from backend.installs.tables import Install


class ReviewCase(Table, tablename="review_cases"):
    """The queue entry and its lease. A claim is a compare-and-set UPDATE on `version`."""

    install = ForeignKey(references=Install)  # UNIQUE (install, kind): a raw index in the migrations
    # escalation (follows the install's state) | qa_sample | device_silent | device_mismatch | reading_mismatch
    # | customer_help
    kind = Varchar(length=30, default="escalation", index=True)
    state = Varchar(length=20, index=True)  # open | waiting_customer | closed
    reasons = JSON(default=[])
    reason_tags = Varchar(length=200, default="")  # ",suspected_fraud,uncertain,": a LIKE filter on both engines
    risk = Integer(default=0)
    due_at = Timestamptz(index=True)
    asset_type = Varchar(length=40, index=True)
    municipality = Varchar(length=80, index=True)
    opened_at = Timestamptz()
    claimed_by = Varchar(length=128, null=True, default=None)
    lease_expires_at = Timestamptz(null=True, default=None)
    first_claimed_by = Varchar(length=128, null=True, default=None)
    approvals = JSON(default=[])  # subjects who approved so far (two are needed where the catalog says so)
    version = Integer(default=1)
    closed_at = Timestamptz(null=True, default=None)
    detail = JSON(default={})  # what opened a follow-up (e.g. the device report), shown to the specialist


class CaseVerdict(Table, tablename="case_verdicts"):
    """A specialist's verdict on a follow-up case; the install's state is left alone. Only ever inserted."""

    case = ForeignKey(references=ReviewCase, index=True)
    install = ForeignKey(references=Install)
    kind = Varchar(length=30, index=True)
    verdict = Varchar(length=20)  # per kind: backend/review/kinds.py VERDICTS
    note = Text(default="")
    decided_by = Varchar(length=128)
    created_at = Timestamptz()


class QueueCount(Table, tablename="review_queue_counts"):
    """Open cases by kind ('' reason: all of them) and by reason: kept by triggers on review_cases in the
    same transaction as the change (UNIQUE (kind, reason): a raw index in the migrations)."""

    kind = Varchar(length=30)
    reason = Varchar(length=40)  # '' counts every open case of the kind
    n = Integer(default=0)
