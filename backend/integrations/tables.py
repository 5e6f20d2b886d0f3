"""Device reports as received. Only `repository.py` queries them."""

from __future__ import annotations

from piccolo.columns import JSON, DoublePrecision, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from backend.installs.tables import Install


class DeviceReport(Table, tablename="device_reports"):
    """One report of a device that came online; `report_id` is the sender's idempotency key."""

    report_id = Varchar(length=64, unique=True)
    device_serial = Varchar(length=40, index=True)  # "has this serial ever reported?" (silent sweep, approvals)
    ean = Varchar(length=18)
    reported_at = Timestamptz()
    source = Varchar(length=32)
    import_kwh = DoublePrecision(null=True, default=None)
    export_kwh = DoublePrecision(null=True, default=None)
    received_at = Timestamptz()
    reported_by = Varchar(length=128)  # the system token's subject
    request_hash = Varchar(length=64)  # the same report_id with another body is a conflict
    outcomes = JSON(default=[])
    # ",confirmed,reading_mismatch,": metrics count outcomes with one GROUP BY on both engines
    outcome_tags = Varchar(length=200, default="")
    install = ForeignKey(references=Install, null=True, default=None, index=True)  # the install it was matched to
    flagged_installs = JSON(default=[])  # installs this report cast doubt on (ids as text)
    reading_difference_kwh = DoublePrecision(null=True, default=None)  # reported minus typed import reading
