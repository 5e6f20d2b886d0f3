"""Install use cases. Each opens its transaction, enforces the state machine and scopes by caller."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from backend.db import write_transaction
from backend.errors import Conflict, Forbidden, Invalid, NotFound
from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.asked import EVIDENCE_ACTIONS, changed_since_request, missing, open_request
from backend.installs.context import InstallContext
from backend.installs.enums import DECIDED_STATES, EDITABLE_STATES, TRANSITIONS, AssetStatus, InstallState
from backend.installs.flows import RegistryChange, StateChange, run_hooks
from backend.installs.placement import place
from backend.installs.records import ConnectionRec, InstallRec
from backend.installs.snapshot import InstallSnapshot, load_scoped_snapshot, load_snapshot
from backend.installs.tables import Install
from backend.installs.verdict import label_checks, submit_checks
from backend.principal import Principal, Role
from backend.validation.policy import decide
from backend.validation.results import CheckResult, Outcome, Reason, ordered
from backend.words import ASSET_STATUS_WORDS, INSTALL_STATE_TEXT, ROLE_TEXT, stated


def transaction() -> Any:
    """A write transaction on the install domain's engine."""
    return write_transaction(Install._meta.db)


async def scoped_install(who: Principal, install_id: uuid.UUID, for_update: bool = False) -> InstallRec:
    """The caller's install or 404; `for_update` inside a write transaction serialises concurrent changes."""
    install = await repo.install_scoped(install_id, who.subject, who.role, for_update)
    if install is None:
        raise NotFound("install/not-found")
    return install


def is_creator(who: Principal, install: InstallRec) -> bool:
    """Whether the caller started the install: a job install's installer, a self-install's customer."""
    return (install.created_by, install.created_by_role) == (who.subject, who.role.value)


def may_ask_for_help(who: Principal, install: InstallRec) -> bool:
    """Its creator in any state; the connection's owner once it is decided (a person contacts them; the
    install is not touched), never mid-job: their installer's install is not theirs to send to review."""
    return is_creator(who, install) or install.state in DECIDED_STATES


def require_creator(who: Principal, install: InstallRec, code: str = "install/not-creator") -> None:
    """The one rule for changing an install (its evidence, its state, its conversation): only its creator.
    Whoever else finds it (the connection's owner, of their installer's install) only reads it: 403."""
    if not is_creator(who, install):
        raise Forbidden(code)


async def creators_install(who: Principal, install_id: uuid.UUID, code: str = "install/not-creator") -> InstallRec:
    """The install to change, locked (inside a write transaction): 404 if the caller does not see it, 403
    if they may only read it (`code`)."""
    install = await scoped_install(who, install_id, for_update=True)
    require_creator(who, install, code)
    return install


def require_editable(install: InstallRec) -> None:
    """Evidence may change only while the install is a draft or awaiting a retake."""
    if InstallState(install.state) not in EDITABLE_STATES:
        raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, install.state))


async def record_event(
    who: Principal,
    action: str,
    at: datetime,
    install: InstallRec | None = None,
    to_state: str | None = None,
    connection: int | None = None,
    **detail: Any,
) -> None:
    """Append one audit event (inside the caller's transaction); `connection`: the connection it is about."""
    await repo.append_event(
        {
            "install": install.id if install else None,
            "connection": connection,
            "actor": who.subject,
            "actor_role": who.role.value,
            "action": action,
            "from_state": install.state if install else None,
            "to_state": to_state or (install.state if install else None),
            "detail": detail,
            "created_at": at,
        }
    )


async def record_change(
    ctx: InstallContext,
    who: Principal,
    action: str,
    at: datetime,
    connection: int | None,
    facts: dict[str, Any],
    reason: str | None = None,
) -> None:
    """A connection or asset changed: the audit event on the connection's trail (with the admin's reason),
    and the facts to the registry hooks (the outbox), in the caller's transaction."""
    audited = facts if reason is None else {**facts, "reason": reason}
    await record_event(who, action, at, connection=connection, **audited)
    for hook in ctx.registry_hooks:
        await hook(RegistryChange(action=action, facts=facts, actor=who, at=at))


async def save_install(ctx: InstallContext, who: Principal, install: InstallRec, at: datetime, **values: Any) -> None:
    """Update the install through the state machine, compare-and-set on its version; a state
    change runs the registered flows (review case, outbox) in the same transaction."""
    if not await compare_and_set(install, at, values):
        raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, install.state))
    await _run_flows(ctx, who, install, at, values)


async def compare_and_set(install: InstallRec, at: datetime, values: dict[str, Any]) -> bool:
    """The update (flows not run), through the state machine; False if the install changed since
    `install` was read."""
    if "state" in values and values["state"] != install.state:
        if InstallState(values["state"]) not in TRANSITIONS[InstallState(install.state)]:
            raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, install.state))
    return await repo.update_install(install.id, install.version, {**values, "updated_at": at})


async def _run_flows(
    ctx: InstallContext, who: Principal, install: InstallRec, at: datetime, values: dict[str, Any]
) -> None:
    changes_state = "state" in values and values["state"] != install.state
    if changes_state or ("reasons" in values and values["reasons"] != install.reasons):
        await run_hooks(
            ctx.state_hooks,
            StateChange(
                install=install,
                to_state=values.get("state", install.state),
                reasons=values.get("reasons", install.reasons),
                actor=who,
                at=at,
            ),
        )


def request_hash_of(*parts: str) -> str:
    """What identifies a create's body, to tell a retry from another request with the same id."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def bounded_start(ctx: InstallContext, started_at: datetime | None, now: datetime) -> datetime:
    """The phone's start time, no earlier than the policy's offline days before now and never later."""
    if started_at is None:
        return now
    earliest = now - timedelta(days=ctx.policy.freshness.max_offline_days)
    return min(max(started_at, earliest), now)


async def create_install(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    connection_ean: str,
    asset_type: str,
    started_at: datetime | None = None,
    client_time: datetime | None = None,
) -> tuple[InstallSnapshot, bool]:
    """A customer's install on their own connection (an installer's starts from their job: backend/jobs);
    the same id and body again returns the first (offline retries). `client_time` is the phone's clock
    when it sent this, kept as sent beside the server's."""
    request_hash = request_hash_of(connection_ean, asset_type)
    async with transaction():
        existing = await repo.install_by_id(install_id)
        if existing is not None:
            return await replayed(existing, who, request_hash), False
        if who.role is not Role.CUSTOMER:
            raise Forbidden("install/installer-needs-job")
        if asset_type not in ctx.catalog.types:
            raise Invalid("install/asset-type-unknown", asset_type=asset_type)
        connection = await repo.connection_by_ean(connection_ean, for_update=True)  # vs. a release meanwhile
        if connection is None or connection.owner_subject != who.subject:
            raise NotFound("connection/not-found")
        return await insert_draft(ctx, who, install_id, connection, asset_type, request_hash, started_at, client_time)


async def insert_draft(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    connection: ConnectionRec,
    asset_type: str,
    request_hash: str,
    started_at: datetime | None,
    client_time: datetime | None,
    allocated_asset: int | None = None,
) -> tuple[InstallSnapshot, bool]:
    """Insert a draft install in the caller's transaction, if the catalog lets the caller's role install
    the type at this capacity. An installer's install carries them as its installer (their scope)."""
    spec = ctx.catalog.types.get(asset_type)
    if spec is None:
        raise Invalid("install/asset-type-unknown", asset_type=asset_type)
    if who.role.value not in spec.self_install:
        role, kind = stated(ROLE_TEXT, who.role.value), ctx.catalog.type_words(asset_type)
        raise Forbidden("install/self-install-not-allowed", role=role, asset_type=kind)
    if connection.capacity not in spec.capacities:
        kind = ctx.catalog.type_words(asset_type)
        raise Invalid("install/capacity-mismatch", asset_type=kind, capacity=connection.capacity)
    now = ctx.clock()
    row = {
        "id": install_id,
        "connection": connection.id,
        "asset_type": asset_type,
        "state": InstallState.DRAFT.value,
        "created_by": who.subject,
        "created_by_role": who.role.value,
        "request_hash": request_hash,
        "reasons": [],
        "created_at": now,
        "started_at": bounded_start(ctx, started_at, now),
        "client_time": client_time,
        "updated_at": now,
        "installer_subject": who.subject if who.role is Role.INSTALLER else None,
        # Whose it is: the connection's customer now, kept when they move out (a new occupant never sees it).
        "customer_subject": who.subject if who.role is Role.CUSTOMER else connection.owner_subject,
        "allocated_asset": allocated_asset,
    }
    inserted = await repo.insert_install(row)
    install = await repo.install_by_id(install_id)
    assert install is not None
    if not inserted:  # a concurrent retry inserted it first (PostgreSQL; SQLite serialises)
        return await replayed(install, who, request_hash), False
    await record_event(who, "install.created", now, install, asset_type=asset_type, ean=connection.ean)
    return await load_snapshot(install), True


async def replayed(existing: InstallRec, who: Principal, request_hash: str) -> InstallSnapshot:
    """The same id again: the same body from the same caller is a retry; anything else a conflict."""
    if existing.request_hash != request_hash or existing.created_by != who.subject:
        raise Conflict("install/id-conflict")
    return await load_snapshot(existing)


async def get_install(who: Principal, install_id: uuid.UUID) -> InstallSnapshot:
    """The caller's install with all its evidence, or 404 (one query)."""
    snap = await load_scoped_snapshot(install_id, who.subject, who.role)
    if snap is None:
        raise NotFound("install/not-found")
    return snap if is_creator(who, snap.install) else replace(snap, read_by_creator=False)


async def list_installs(
    who: Principal, limit: int, after: tuple[datetime, uuid.UUID] | None, state: str | None
) -> list[InstallRec]:
    return await repo.installs_scoped(who.subject, who.role, limit, after, state)


async def scan_label(ctx: InstallContext, who: Principal, install_id: uuid.UUID, payload: str) -> InstallSnapshot:
    """Link the scanned asset; every way a label can be wrong has its own 422 code. The label already
    linked, scanned again (an offline retry), changes nothing."""
    async with transaction():
        install = await creators_install(who, install_id)
        if install.asset is not None and install.scanned_payload == payload.strip():
            return await load_snapshot(install)
        require_editable(install)
        label = qr.verify(payload, ctx.settings.qr_keys)
        asset = await repo.asset_by_serial(label.serial)
        if asset is None:
            raise Invalid("qr/unknown-asset")
        if install.allocated_asset is not None and asset.id != install.allocated_asset:  # its job reserved another
            scanned, allocated = ctx.catalog.type_words(asset.asset_type), ctx.catalog.type_words(install.asset_type)
            raise Invalid("qr/not-allocated-asset", scanned_type=scanned, allocated_type=allocated)
        if asset.id != install.allocated_asset and any([await held(asset.id) for held in ctx.asset_holds]):
            raise Invalid("qr/asset-reserved", serial=asset.serial)  # another job's meter: not this install's
        if asset.status == AssetStatus.INSTALLED and asset.connection != install.connection:
            raise Invalid("qr/asset-installed-elsewhere", serial=asset.serial)
        if asset.status == AssetStatus.RETIRED:
            raise Invalid("qr/asset-unavailable", serial=asset.serial, status=stated(ASSET_STATUS_WORDS, asset.status))
        if asset.asset_type != install.asset_type:
            connection = await repo.connection_by_id(install.connection)
            assert connection is not None
            if connection.capacity not in ctx.catalog.types[asset.asset_type].capacities:
                kind = ctx.catalog.type_words(asset.asset_type)
                raise Invalid("install/capacity-mismatch", asset_type=kind, capacity=connection.capacity)
            scanned, meant = ctx.catalog.type_words(asset.asset_type), ctx.catalog.type_words(install.asset_type)
            raise Invalid("qr/type-mismatch", scanned_type=scanned, asset_type=meant)
        now = ctx.clock()
        normalized = payload.strip()
        await save_install(ctx, who, install, now, asset=asset.id, scanned_payload=normalized)
        await record_event(who, "label.scanned", now, install, serial=asset.serial)
        # Photos taken before the scan are now compared with the label.
        photos = [p for p in await repo.photos_of(install.id) if p.qr_texts is not None]
        await save_checks(install.id, 0, label_checks(photos, normalized), now, {p.slot: p.id for p in photos})
    return await get_install(who, install_id)


async def add_location(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    lat: float,
    lon: float,
    accuracy_m: float,
    captured_at: datetime,
    provider: str,
    mocked: bool,
    client_time: datetime | None = None,
) -> InstallSnapshot:
    """Record a GPS fix from the phone (`client_time`: the phone's clock when it sent it)."""
    async with transaction():
        install = await creators_install(who, install_id)
        require_editable(install)
        now = ctx.clock()
        # The same fix sent again (an offline retry) is not a second fix.
        if not await repo.fix_exists(install.id, lat, lon, accuracy_m, captured_at, provider, mocked):
            await repo.insert_fix(
                {
                    "install": install.id,
                    "lat": lat,
                    "lon": lon,
                    "accuracy_m": accuracy_m,
                    "captured_at": captured_at,
                    "provider": provider,
                    "mocked": mocked,
                    "client_time": client_time,
                    "created_at": now,
                }
            )
            await save_install(ctx, who, install, now)
            await record_event(who, "location.reported", now, install, accuracy_m=accuracy_m, provider=provider)
    return await get_install(who, install_id)


async def enter_reading(ctx: InstallContext, who: Principal, install_id: uuid.UUID, value: float) -> InstallSnapshot:
    """Record the meter reading the user read off the display."""
    async with transaction():
        install = await creators_install(who, install_id)
        require_editable(install)
        now = ctx.clock()
        await save_install(ctx, who, install, now, reading=value)
        await record_event(who, "reading.entered", now, install, reading=value)
    return await get_install(who, install_id)


async def save_checks(
    install_id: uuid.UUID, attempt: int, results: list[CheckResult], at: datetime, photo_ids: dict[str, int]
) -> None:
    """Store check results; a result whose subject is a photo slot is tied to that photo."""
    await repo.insert_checks(
        [
            {
                "install": install_id,
                "photo": photo_ids.get(r.subject),
                "attempt": attempt,
                "check_name": r.check,
                "subject": r.subject,
                "status": r.status.value,
                "confidence": r.confidence,
                "evidence": r.evidence,
                "user_fixable": r.user_fixable,
                "fix": r.fix,
                "fix_params": r.fix_params,
                "created_at": at,
            }
            for r in results
        ]
    )


# A submit whose evidence changed while it was being checked is checked again, this many times in all.
SUBMIT_TRIES = 3


class _FactsChanged(Exception):
    """What the verdict was checked on moved before it was recorded: the install's version (its evidence),
    or, for an approval, its asset's place (approved elsewhere, retired) or its connection's (another
    meter approved there)."""


async def submit(ctx: InstallContext, who: Principal, install_id: uuid.UUID) -> InstallSnapshot:
    """Check all evidence together and decide: approve, ask for a retake, or escalate.

    The evidence is read and checked first (the reuse lookups included), outside any transaction;
    one short write transaction then records the verdict, on the condition that the install's
    version is still the one checked (every change of evidence moves it) and, for an approval, that
    its asset is still free at its connection (installs.placement), else it starts again: a
    concurrent approval of the same meter elsewhere is then seen by the asset check (in review,
    suspected_fraud), never a second approval."""
    for _ in range(SUBMIT_TRIES):
        snap = await get_install(who, install_id)
        require_creator(who, snap.install)
        _answered_request(snap)
        if _submitted_unchanged(snap, who):
            return snap
        require_editable(snap.install)
        results = await submit_checks(ctx, snap)
        try:
            async with transaction():
                await _record_verdict(ctx, who, snap, results)
        except _FactsChanged:
            continue
        return await get_install(who, install_id)
    raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, snap.install.state))


# Where a submit leads, directly or through a specialist; a later cancel makes a submit a state conflict.
SUBMITTED_STATES = frozenset(InstallState) - {InstallState.DRAFT, InstallState.CANCELLED}


def _answered_request(snap: InstallSnapshot) -> None:
    """A specialist asked for more: a submit must bring it. What they asked for in particular (an extra
    photo, an answer) sends the install back by itself once given, so a submit before that is refused;
    a request in words only (retake something) needs new evidence, or the submit would judge the same."""
    if not snap.install.awaiting_info or snap.install.state != InstallState.NEEDS_RETAKE.value:
        return
    request = open_request(snap.install, snap.info_requests)
    outstanding = missing(request, snap.photos, snap.checks) if request is not None else []
    if outstanding:
        raise Conflict("install/info-outstanding", extra={"missing": outstanding})
    if not changed_since_request(snap.events):
        raise Conflict("install/unchanged-resubmit")


def _submitted_unchanged(snap: InstallSnapshot, who: Principal) -> bool:
    """Whether the install's last submit was the caller's and no evidence came after it: submitting
    again (a retry whose answer was lost) would judge the same evidence, so it answers the install as
    it now is instead of a second attempt (or a 409 once decided)."""
    if InstallState(snap.install.state) not in SUBMITTED_STATES:
        return False
    for event in reversed(snap.events):
        if event.action == "install.submitted":
            return event.actor == who.subject and event.actor_role == who.role.value
        if event.action in EVIDENCE_ACTIONS:
            return False
    return False


async def _record_verdict(
    ctx: InstallContext, who: Principal, snap: InstallSnapshot, results: list[CheckResult]
) -> None:
    """Decide on the checked evidence and record it; the version check and an approval's placing of
    the asset come first, so a stale verdict writes nothing."""
    install = snap.install
    standing = {Reason(r) for r in install.reasons}
    if ctx.catalog.needs_approval(install.asset_type, snap.connection.capacity):
        standing.add(Reason.APPROVAL_REQUIRED)
    if ctx.catalog.types[install.asset_type].specialist_knowledge:
        standing.add(Reason.SPECIALIST_KNOWLEDGE)
    verdict = decide(ctx.policy, results, retakes_so_far=install.retake_count, standing_reasons=standing)
    now = ctx.clock()
    attempt = len(snap.decisions) + 1
    values: dict[str, Any] = {
        "state": verdict.outcome.value,
        "reasons": [r.value for r in verdict.reasons],
        "submitted_at": now,
        "awaiting_info": False,
        "customer_message": None,
    }
    if verdict.outcome is Outcome.NEEDS_RETAKE:
        values["retake_count"] = install.retake_count + 1
    if verdict.outcome is Outcome.APPROVED:
        values["decided_at"] = now
    if not await compare_and_set(install, now, values):
        raise _FactsChanged
    if verdict.outcome is Outcome.APPROVED:
        assert snap.asset is not None  # the asset check passed
        if not await place(ctx, install, snap.asset.id, now):
            raise _FactsChanged
    await save_checks(install.id, attempt, results, now, {p.slot: p.id for p in snap.photos})
    await repo.insert_decision(
        {
            "install": install.id,
            "attempt": attempt,
            "outcome": verdict.outcome.value,
            "reasons": values["reasons"],
            "policy_version": verdict.policy_version,
            "decided_by": "automation",
            "created_at": now,
        }
    )
    await _run_flows(ctx, who, install, now, values)
    await record_event(
        who,
        "install.submitted",
        now,
        install,
        to_state=verdict.outcome.value,
        reasons=values["reasons"],
        policy_version=verdict.policy_version,
        attempt=attempt,
    )


def _with_a_person(install: InstallRec) -> list[str]:
    """The install's reasons with human_requested among them, heaviest first."""
    return [r.value for r in ordered({Reason(r) for r in install.reasons} | {Reason.HUMAN_REQUESTED})]


async def _to_a_person(
    ctx: InstallContext, who: Principal, install: InstallRec, now: datetime, message: str, action: str
) -> None:
    """To a specialist now with the customer's words (reason human_requested); the flows open the case."""
    in_review = InstallState.IN_REVIEW.value
    await save_install(ctx, who, install, now, state=in_review, reasons=_with_a_person(install), help_message=message)
    await record_event(who, action, now, install, to_state=in_review, message=message)


async def request_help(ctx: InstallContext, who: Principal, install_id: uuid.UUID, message: str) -> InstallSnapshot:
    """Its creator wants a person, in any state: never a refusal (the connection's owner, of their
    installer's install, once it is decided: `may_ask_for_help`). Before a decision the install goes
    to a specialist now (asking again changes nothing); once decided or withdrawn it stays so, and the
    state hooks open a follow-up for a person (review: a `customer_help` case, reopened if closed)."""
    async with transaction():
        install = await scoped_install(who, install_id, for_update=True)
        if not may_ask_for_help(who, install):
            raise Forbidden("install/not-creator")
        now = ctx.clock()
        if install.state in DECIDED_STATES:
            if await _asked_just_now(who, install, message):
                # A retry: answered as this caller reads it (get_install; the owner's actions are not the creator's).
                return await get_install(who, install_id)
            await save_install(ctx, who, install, now, help_message=message)
            await run_hooks(ctx.state_hooks, StateChange(install, install.state, _with_a_person(install), who, now))
            await record_event(who, "help.requested", now, install, message=message)
        elif Reason.HUMAN_REQUESTED.value not in install.reasons:
            await _to_a_person(ctx, who, install, now, message, "help.requested")
    return await get_install(who, install_id)


async def _asked_just_now(who: Principal, install: InstallRec, message: str) -> bool:
    """The same request for help as the install's newest event, by the same person: a retry whose answer was
    lost (nothing has happened since), not a new request; a later one, or other words, is asked anew."""
    last = await repo.last_event(install.id)
    return last is not None and (last.action, last.actor, last.detail.get("message")) == (
        "help.requested",
        who.subject,
        message,
    )


async def object_to_decision(
    ctx: InstallContext, who: Principal, install_id: uuid.UUID, message: str
) -> InstallSnapshot:
    """Object to a rejection: back to a specialist with the customer's words (reason human_requested);
    the escalation case reopens with its history. Objecting again while it is re-reviewed changes nothing."""
    async with transaction():
        install = await creators_install(who, install_id)
        state = InstallState(install.state)
        if state is InstallState.IN_REVIEW and Reason.HUMAN_REQUESTED.value in install.reasons:
            return await load_snapshot(install)
        if state is not InstallState.REJECTED:
            raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, install.state))
        await _to_a_person(ctx, who, install, ctx.clock(), message, "decision.objected")
    return await get_install(who, install_id)


async def cancel(ctx: InstallContext, who: Principal, install_id: uuid.UUID, reason: str) -> InstallSnapshot:
    """Its creator withdraws an install that is not yet decided. Cancelling again, by the one who
    cancelled it (a retry whose answer was lost), answers the cancelled install."""
    async with transaction():
        install = await creators_install(who, install_id)
        if install.state == InstallState.CANCELLED and await _cancelled_by(install, who):
            return await load_snapshot(install)
        if InstallState.CANCELLED not in TRANSITIONS[InstallState(install.state)]:
            raise Conflict("install/state-conflict", state=stated(INSTALL_STATE_TEXT, install.state))
        now = ctx.clock()
        await save_install(ctx, who, install, now, state=InstallState.CANCELLED.value, decided_at=now)
        await record_event(who, "install.cancelled", now, install, to_state=InstallState.CANCELLED.value, reason=reason)
    return await get_install(who, install_id)


async def _cancelled_by(install: InstallRec, who: Principal) -> bool:
    cancels = [e for e in await repo.events_of(install.id) if e.action == "install.cancelled"]
    return bool(cancels) and (cancels[-1].actor, cancels[-1].actor_role) == (who.subject, who.role.value)
