"""Photo upload: stream to disk, decode safely once, check, make durable, then commit the row."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterable
from datetime import UTC
from zoneinfo import ZoneInfo

import msgspec

from backend.errors import BadRequest, Invalid, TooLarge, Unsupported, photo_limit_mb
from backend.installs import repository as repo
from backend.installs.asked import EXTRA_SLOT_PREFIX, asked_photo_slot
from backend.installs.context import InstallContext
from backend.installs.conversation import settle
from backend.installs.records import PhotoRec
from backend.installs.service import (
    compare_and_set,
    get_install,
    record_event,
    require_creator,
    require_editable,
    save_checks,
    save_install,
    scoped_install,
    transaction,
)
from backend.installs.snapshot import InstallSnapshot, load_snapshot
from backend.installs.verdict import find_reuse, hash_columns, photo_context, same_install_matches
from backend.principal import Principal
from backend.storage import StagedUpload, UploadInterrupted, UploadTooLarge
from backend.validation.photo import PhotoFacts, PhotoRejected, inspect_photo
from backend.validation.photo_checks import PhotoEvidence, ReuseMatch, run_photo_checks
from backend.validation.results import CheckResult

ACCEPTED_CONTENT_TYPES = frozenset({"image/jpeg", "image/png", "image/heic", "image/heif"})

log = logging.getLogger("selfinstall")


async def upload_photo(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    slot: str,
    content_type: str,
    declared_size: int | None,
    chunks: AsyncIterable[bytes],
) -> tuple[PhotoRec, list[CheckResult], bool]:
    """Store one slot's photo; the same bytes again return the stored photo (created=False).

    The install and its evidence are read once, before the body; the photo is checked against them,
    and one short write transaction records it if the install's version is still the one read (else
    it reads again under the lock and checks again: the decoded facts are kept)."""
    snap = await admit_photo(ctx, who, install_id, slot, content_type, declared_size)
    install = snap.install
    staged = await _receive(ctx, chunks)
    try:
        existing = _same_bytes(snap, slot, staged.sha256)
        if existing is not None:
            return existing, [], False
        spec = ctx.catalog.slots.get(slot)  # None: the extra photo a specialist asked for (no label in it)
        facts = await ctx.run_cpu(_inspect, ctx, staged, spec is not None and spec.requires_qr)
        # A photo it is, and kept whatever its checks say: its fsyncs run while the lookup waits on the database.
        durable = asyncio.ensure_future(ctx.store.commit(staged))
        try:
            reuse = await find_reuse(ctx.halves, ctx.clock(), install.id, staged.sha256, facts.lookup)
            results = _photo_checks(ctx, snap, slot, staged, facts, reuse)
        except BaseException:
            # Written for nothing; wait for it (`discard` below must not race the commit), but leave the file
            # to the orphan sweep's grace: a retry of this upload may have found it stored and not yet
            # written its row, and taking it back would lose that acknowledged photo.
            await asyncio.shield(durable)
            raise
        wrote = await durable
    finally:
        ctx.store.discard(staged)  # a no-op once committed (the file has moved)
    try:
        return await _record(ctx, who, snap, slot, staged, facts, reuse, results)
    except Exception:
        # Refused or failed after the file was made durable (the install was cancelled meanwhile, the
        # database went away): take back the file this request wrote, unless a row already uses it.
        if wrote:
            await _take_back(ctx, staged.sha256)
        raise


async def admit_photo(
    ctx: InstallContext,
    who: Principal,
    install_id: uuid.UUID,
    slot: str,
    content_type: str,
    declared_size: int | None,
) -> InstallSnapshot:
    """What is refused before a byte is read (also when a resumable upload is created): the caller's
    own install (service.require_creator: the connection's owner only reads it), editable, a known slot
    (or the extra photo a specialist asked for), an accepted type, not declared too large. The install
    as read."""
    snap = await get_install(who, install_id)
    require_creator(who, snap.install)
    require_editable(snap.install)
    in_catalog = slot in ctx.catalog.types[snap.install.asset_type].slots
    if not in_catalog and not asked_photo_slot(snap.install, snap.info_requests, slot):
        # A specialist's extra slot (extra_<id>) whose request is answered, closed or another's: said as such,
        # not as a slot unknown to the asset type (the page or app that sent it was right a moment ago).
        raise Invalid("photo/not-asked" if slot.startswith(EXTRA_SLOT_PREFIX) else "photo/slot-unknown", slot=slot)
    if content_type.split(";")[0].strip().lower() not in ACCEPTED_CONTENT_TYPES:
        raise Unsupported("photo/unsupported-type")
    limit = ctx.settings.max_photo_bytes
    if declared_size is not None and declared_size > limit:
        raise TooLarge("photo/too-large", limit_mb=photo_limit_mb(limit))
    return snap


def _same_bytes(snap: InstallSnapshot, slot: str, sha256: str) -> PhotoRec | None:
    return next((p for p in snap.photos if p.slot == slot and p.sha256 == sha256), None)


def _photo_checks(
    ctx: InstallContext,
    snap: InstallSnapshot,
    slot: str,
    staged: StagedUpload,
    facts: PhotoFacts,
    reuse: tuple[ReuseMatch, ...],
) -> list[CheckResult]:
    """The photo's checks against the install's evidence (the other slots' photos, the latest fix)."""
    twins = same_install_matches(slot, staged.sha256, facts.lookup, snap.photos)
    context = photo_context(snap.install, snap.fix, ctx.clock(), reuse, twins)
    return run_photo_checks(PhotoEvidence.from_facts(slot, facts), context, ctx.policy)


async def _take_back(ctx: InstallContext, sha256: str) -> None:
    """Remove an original no row refers to. (The same bytes committed by a concurrent upload whose row
    is not written yet would lose their file; a retry of this very upload fails the same way, and any
    other needs identical bytes within milliseconds: kept over an orphan that carries EXIF GPS.)"""
    try:
        if not await repo.sha256_stored(sha256):
            await ctx.store.remove(sha256)
    except Exception:  # the database is unreachable: the orphan sweep removes the file later
        log.warning("photo %s kept for the orphan sweep", sha256, exc_info=True)


async def _record(
    ctx: InstallContext,
    who: Principal,
    snap: InstallSnapshot,
    slot: str,
    staged: StagedUpload,
    facts: PhotoFacts,
    reuse: tuple[ReuseMatch, ...],
    results: list[CheckResult],
) -> tuple[PhotoRec, list[CheckResult], bool]:
    """One short transaction: the install's version, the photo row, its checks and an audit event."""
    async with transaction():
        now = ctx.clock().astimezone(UTC)  # as the database gives times back: the returned row is the stored one
        install = snap.install
        if not await compare_and_set(install, now, {}):
            # The install changed since it was read (another slot, a fix, these very bytes): read it
            # again under the lock and check the photo against what it is now.
            install = await scoped_install(who, install.id, for_update=True)
            require_editable(install)
            snap = await load_snapshot(install)
            existing = _same_bytes(snap, slot, staged.sha256)
            if existing is not None:  # the same bytes arrived concurrently and won the race
                return existing, [], False
            results = _photo_checks(ctx, snap, slot, staged, facts, reuse)
            await save_install(ctx, who, install, now)
        row = {
            "install": install.id,
            "slot": slot,
            "sha256": staged.sha256,
            "content_type": facts.content_type,
            "size_bytes": staged.size,
            "width": facts.width,
            "height": facts.height,
            "exif_taken_at": facts.taken_at.astimezone(UTC) if facts.taken_at else None,
            "exif_lat": facts.gps[0] if facts.gps else None,
            "exif_lon": facts.gps[1] if facts.gps else None,
            "qr_texts": list(facts.qr_texts) if facts.qr_texts is not None else None,
            "qr_symbol_seen": facts.qr_symbol_seen,
            "sharpness": facts.sharpness,
            "edge_density": facts.edge_density,
            "contrast": facts.contrast,
            "brightness": facts.brightness,
            "dark_fraction": facts.dark_fraction,
            "bright_fraction": facts.bright_fraction,
            **hash_columns(facts.hashes),
            "is_current": True,
            "uploaded_by": who.subject,
            "created_at": now,
        }
        # The install's version is the one `snap` was read at (compared and set above), so its photos are
        # the current ones: a slot's first photo has none to retire.
        photo_id = await repo.replace_slot_photo(row, retire=any(p.slot == slot for p in snap.photos))
        await save_checks(install.id, 0, results, now, {slot: photo_id})
        await record_event(
            who,
            "photo.uploaded",
            now,
            install,
            slot=slot,
            sha256=staged.sha256,
            checks={r.check: r.status.value for r in results},
        )
        if slot.startswith(EXTRA_SLOT_PREFIX):  # what a specialist asked for: maybe the last of it
            await settle(ctx, who, install.id, now)
    return msgspec.convert({**row, "id": photo_id}, PhotoRec), results, True  # the row as inserted


async def _receive(ctx: InstallContext, chunks: AsyncIterable[bytes]) -> StagedUpload:
    limit = ctx.settings.max_photo_bytes
    try:
        staged = await ctx.store.receive(chunks, limit)
    except UploadTooLarge:
        raise TooLarge("photo/too-large", limit_mb=photo_limit_mb(limit)) from None
    except UploadInterrupted:
        raise BadRequest("photo/incomplete-upload") from None
    if staged.size == 0:
        ctx.store.discard(staged)
        raise Invalid("photo/empty")
    return staged


def _inspect(ctx: InstallContext, staged: StagedUpload, find_qr: bool) -> PhotoFacts:
    try:
        with open(staged.path, "rb") as fp:
            return inspect_photo(
                fp,
                max_pixels=ctx.settings.max_photo_pixels,
                find_qr=find_qr,
                qr_upscale_below_px=ctx.policy.photo.qr_retry_upscale_below_px,
                local_tz=ZoneInfo(ctx.policy.freshness.exif_timezone),
            )
    except PhotoRejected as rejected:
        if rejected.kind == "unsupported":
            raise Unsupported("photo/unsupported-type") from None
        if rejected.kind == "too_many_pixels":
            raise TooLarge(
                "photo/too-many-pixels", pixels=rejected.pixels, limit=ctx.settings.max_photo_pixels
            ) from None
        raise Invalid("photo/undecodable") from None
