"""Review cases: one per install that ever went to a specialist; reopened when it comes back."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.table import Table

from backend.installs.tables import Install


class ReviewCase(Table, tablename="review_cases"):
    """The queue entry and its lease. A claim is a compare-and-set UPDATE on `version`."""

    install = ForeignKey(references=Install, unique=True)
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
