"""Device reports: receive one (idempotent on its report_id), match it to an install, act on it."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import msgspec

from backend.errors import Conflict, Invalid, NotFound
from backend.installs import repository as installs_repo
from backend.installs.context import InstallContext
from backend.installs.ean import is_valid_ean18
from backend.installs.records import InstallRec
from backend.installs.service import transaction
from backend.integrations import effects
from backend.integrations import repository as repo
from backend.integrations.effects import Effects, Outcome
from backend.integrations.repository import ReportRec
from backend.principal import Principal

# A head-end may send a backlog after an outage, but not years of it; a clock may be off by
# minutes, not hours. Anything outside is a sender's bug (1970, 9999), refused before it counts.
MAX_AGE = timedelta(days=30)
MAX_AHEAD = timedelta(minutes=10)

# Which asset types each reporting system knows: a charger's back office says nothing about the
# meter at the same connection, and the reverse.
SOURCES: dict[str, frozenset[str]] = {
    "head-end": frozenset({"smart_meter_1p", "smart_meter_3p"}),
    "charger-back-office": frozenset({"ev_charger"}),
}
REPORTING_TYPES = frozenset().union(*SOURCES.values())


@dataclass(frozen=True, slots=True)
class DeviceReportIn:
    report_id: str
    device_serial: str
    ean: str
    reported_at: datetime
    source: str
    import_kwh: float | None
    export_kwh: float | None


def _request_hash(r: DeviceReportIn) -> str:
    """Over the normalised values: the same instant written in another offset is the same report."""
    canonical = msgspec.json.encode(
        [r.report_id, r.device_serial, r.ean, r.reported_at.timestamp(), r.source, r.import_kwh, r.export_kwh]
    )
    return hashlib.sha256(canonical).hexdigest()


def _replayed(existing: ReportRec, who: Principal, request_hash: str) -> ReportRec:
    """The same id again: the same body from the same system is a retry; anything else a conflict."""
    if existing.request_hash != request_hash or existing.reported_by != who.subject:
        raise Conflict("device-report/id-conflict")
    return existing


def _check_window(reported_at: datetime, now: datetime) -> None:
    earliest, latest = now - MAX_AGE, now + MAX_AHEAD
    if not earliest <= reported_at <= latest:
        raise Invalid(
            "device-report/reported-at-out-of-range",
            earliest=earliest.isoformat(timespec="seconds"),
            latest=latest.isoformat(timespec="seconds"),
        )


async def receive_report(ctx: InstallContext, who: Principal, report: DeviceReportIn) -> tuple[ReportRec, bool]:
    """Store the report and act on it in one transaction; (the stored report, whether it is new)."""
    if not is_valid_ean18(report.ean):
        raise Invalid("connection/invalid-ean", ean=report.ean)
    request_hash = _request_hash(report)
    async with transaction():
        existing = await repo.report_by_id(report.report_id)
        if existing is not None:
            return _replayed(existing, who, request_hash), False
        now = ctx.clock()
        _check_window(report.reported_at, now)
        # Claim the id first: a concurrent retry then waits for this transaction, and replays it.
        inserted = await repo.insert_report(
            {
                "report_id": report.report_id,
                "device_serial": report.device_serial,
                "ean": report.ean,
                "reported_at": report.reported_at,
                "source": report.source,
                "import_kwh": report.import_kwh,
                "export_kwh": report.export_kwh,
                "received_at": now,
                "reported_by": who.subject,
                "request_hash": request_hash,
                "outcomes": [],
            }
        )
        if not inserted:
            raced = await repo.report_by_id(report.report_id)
            assert raced is not None
            return _replayed(raced, who, request_hash), False
        stored = await repo.report_by_id(report.report_id)
        assert stored is not None
        done = await _act(ctx, who, stored, now)
        await repo.update_report(
            report.report_id,
            {
                "outcomes": [o.value for o in done.outcomes],
                "outcome_tags": "," + ",".join(o.value for o in done.outcomes) + ",",
                "install": done.install,
                "flagged_installs": [str(i) for i in done.flagged],
                "reading_difference_kwh": done.reading_difference_kwh,
            },
        )
        final = await repo.report_by_id(report.report_id)
        assert final is not None
        return final, True


async def get_report(who: Principal, report_id: str) -> ReportRec:
    """A report as stored, to the system that sent it (others: 404, as if it did not exist)."""
    report = await repo.report_by_id(report_id)
    if report is None or report.reported_by != who.subject:
        raise NotFound("device-report/not-found")
    return report


async def _act(ctx: InstallContext, who: Principal, report: ReportRec, now: datetime) -> Effects:
    """Find the install the device belongs to, and the installs it contradicts; act on each."""
    asset = await installs_repo.asset_by_serial(report.device_serial)
    connection = await installs_repo.connection_by_ean(report.ean)
    of_asset = await repo.installs_of_asset(asset.id) if asset else []
    here = [i for i in of_asset if connection is not None and i.connection == connection.id]
    match = next((i for i in here if i.state == "approved"), here[0] if here else None)
    # Doubt: installs of this serial at other connections (its device is not where they say), and,
    # when nothing here scanned it, the install here that scanned another device.
    suspects = {i.id: False for i in of_asset if i not in here}  # install id -> reported at its connection
    latest_here = await repo.install_at_connection(connection.id, SOURCES[report.source]) if connection else None
    if match is None and latest_here is not None and latest_here.asset is not None:
        suspects[latest_here.id] = True
    # A device reports again and again: only its first report at a connection adds evidence, so a
    # doubt a specialist has resolved is not reopened by the next periodic report.
    matched_before, flagged_before = await repo.earlier_at(report.device_serial, report.ean, report.report_id)
    # Lock every install involved in id order, so two reports never deadlock (PostgreSQL).
    locked = {i: await _locked(who, i) for i in sorted({*suspects, *([match.id] if match else [])})}
    done = await effects.matched(ctx, who, locked[match.id], report, matched_before, now) if match else None
    flagged = [
        i
        for i in sorted(suspects)
        if str(i) in flagged_before or await effects.mismatch(ctx, who, locked[i], report, suspects[i], now)
    ]
    if done is not None:
        if flagged:
            done.outcomes.append(Outcome.DEVICE_MISMATCH)
            done.flagged = flagged
        return done
    if suspects:
        primary = next((i.id for i in of_asset if i.state == "approved"), of_asset[0].id if of_asset else None)
        primary = primary or next(iter(suspects))
        return Effects(outcomes=[Outcome.DEVICE_MISMATCH], install=primary, flagged=flagged)
    if latest_here is not None:  # an install here that has not scanned its device yet: approval will tell
        return Effects(outcomes=[Outcome.NOTED], install=latest_here.id)
    # No install knows this serial or this connection: nothing to confirm or to doubt.
    return Effects(outcomes=[Outcome.UNMATCHED])


async def _locked(who: Principal, install_id: uuid.UUID) -> InstallRec:
    """The install, its row locked until the transaction ends (PostgreSQL; SQLite already serialises)."""
    install = await installs_repo.install_scoped(install_id, who.subject, who.role, for_update=True)
    assert install is not None  # systems are not scoped to a party, and installs are never deleted
    return install
