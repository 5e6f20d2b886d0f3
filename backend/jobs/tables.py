"""The jobs table. Only `repository.py` queries it."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
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
