"""Confirmation: the install's own device reported in at its connection.

It happens when a report reaches an approved install, or when an install is approved (by the
automation at submit, by a specialist, or by a report itself) whose device had already reported:
meters usually come online before the customer has finished the app. Either way it runs inside
the transaction of the change, like every flow.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from backend.events.outbox import enqueue
from backend.installs import repository as installs_repo
from backend.installs.flows import StateChange, StateHook
from backend.installs.records import InstallRec
from backend.installs.service import record_event
from backend.integrations import repository as repo
from backend.integrations.repository import ReportRec
from backend.notifications.enums import Moment
from backend.notifications.service import about_install, notify
from backend.principal import Principal, Role

CONFIRMED_EVENT = "install.confirmed"


async def confirm(urls: tuple[str, ...], install: InstallRec, report: ReportRec, at: datetime) -> bool:
    """Mark the install confirmed by `report` (once), with its audit event and outbox event."""
    if not await repo.mark_confirmed(install.id, at):
        return False  # already confirmed (another report, or a concurrent one)
    reporter = Principal(subject=report.reported_by, role=Role.SYSTEM)
    readings = (
        {"import_kwh": report.import_kwh, "export_kwh": report.export_kwh} if report.import_kwh is not None else None
    )
    await record_event(
        reporter,
        "install.confirmed",
        at,
        install,
        report_id=report.report_id,
        serial=report.device_serial,
        source=report.source,
        reported_at=report.reported_at.isoformat(),
        asset_type=install.asset_type,
    )
    await enqueue(
        CONFIRMED_EVENT,
        {
            "install_id": str(install.id),
            "ean": report.ean,
            "serial": report.device_serial,
            "reported_at": report.reported_at.isoformat(),
            "source": report.source,
            "readings": readings,
            "report_id": report.report_id,
            "at": at.isoformat(),
        },
        at,
        urls,
    )
    about = await about_install(install)
    if about is not None:
        # Once per install, however it came to be confirmed.
        await notify(
            Moment.DEVICE_CONFIRMED, install.id, about.customer, at, about.facts, event=f"confirmed/{install.id}"
        )
    return True


def confirmation_hook(urls: tuple[str, ...]) -> StateHook:
    """The install-state flow: an install approved after its device already reported is confirmed."""

    async def on_state_change(change: StateChange) -> None:
        if change.to_state != "approved" or not change.state_changed or change.install.asset is None:
            return
        asset = await installs_repo.asset_by_id(change.install.asset)
        connection = await installs_repo.connection_by_id(change.install.connection)
        if asset is None or connection is None:
            return
        report = await repo.first_report_at(asset.serial, connection.ean)
        if report is not None:
            approved = msgspec.structs.replace(change.install, state=change.to_state)
            await confirm(urls, approved, report, change.at)

    return on_state_change
