"""The jobs and visits tables. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import JSON, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from backend.installs.tables import Asset, Connection, Install


class Job(Table, tablename="jobs"):
    """A work order: install an asset type at a connection within a time window, by an installer or the
    customer themselves. Indexes are raw SQL in the migration (partial and composite, for the lists and the
    allocation); a change is a compare-and-set on `version`."""

    connection = ForeignKey(references=Connection, on_delete=OnDelete.no_action)
    asset_type = Varchar(length=40)
    # The allocated asset: reserved while the job is live (UNIQUE jobs_allocation, partial on live states).
    asset = ForeignKey(references=Asset, null=True, default=None, on_delete=OnDelete.no_action)
    window_start = Timestamptz()
    window_end = Timestamptz()
    assignee = Varchar(length=16, null=True, default=None)  # installer | customer; NULL while planned
    installer_subject = Varchar(length=128, null=True, default=None)  # with assignee 'installer'
    state = Varchar(length=16)  # backend/jobs/enums.py
    install = ForeignKey(references=Install, null=True, default=None, on_delete=OnDelete.no_action)
    version = Integer(default=1)
    created_by = Varchar(length=128)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Visit(Table, tablename="visits"):
    """A person comes by: offered on a customer's escalated install (by a specialist or the policy) with time
    windows to pick from; the pick makes it a job. At most one live (offered or planned) per install: a raw
    partial UNIQUE in the migration. `brief` is what the installer is shown of the case (reasons, the failing
    checks, the specialist's note), copied when offered: the installer never reads the customer's install."""

    install = ForeignKey(references=Install, on_delete=OnDelete.no_action)
    case_id = Integer(null=True, default=None)  # the escalation case it came from (the review domain's id)
    state = Varchar(length=16)  # offered | planned | done | cancelled (backend/jobs/enums.py VisitState)
    windows = JSON(default=[])  # [{"start": iso, "end": iso}, ...] in order
    window_start = Timestamptz(null=True, default=None)  # the one the customer picked
    window_end = Timestamptz(null=True, default=None)
    installer_subject = Varchar(length=128, null=True, default=None)  # assigned at the pick; else a dispatcher
    brief = JSON(default={})
    job = ForeignKey(references=Job, null=True, default=None, on_delete=OnDelete.no_action)
    offered_by = Varchar(length=128)
    version = Integer(default=1)
    created_at = Timestamptz()
    updated_at = Timestamptz()
