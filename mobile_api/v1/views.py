"""Domain snapshots to wire Structs, in the caller's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.i18n import N_, DataWords, Msg, translate
from backend.installs.catalog import Catalog
from backend.installs.records import CheckRec, ConnectionRec, DecisionRec, InstallRec, PhotoRec
from backend.installs.snapshot import REASON_TEXT, InstallSnapshot, NextAction, next_actions
from backend.local_time import OPERATOR_ZONE
from backend.review.config import load_review_config
from backend.validation.results import CheckResult
from mobile_api.v1 import schemas as s
from mobile_api.v1.timeline import timeline
from mobile_api.v1.words import MONTHS, WEEKDAYS, window_words

STATUS_TEXT: dict[str, str] = {
    "draft": N_("In progress: gather the evidence and submit the install."),
    "needs_retake": N_("Something needs redoing: see the actions below."),
    "in_review": N_("A specialist is reviewing your install."),
    "approved": N_("Approved: the install is complete."),
    "rejected": N_("Rejected by a specialist."),
    "cancelled": N_("Withdrawn."),
}


# Evidence that names other parties' installs: customers and installers see only how many.
_PRIVATE_EVIDENCE = frozenset({"matches"})


def _public(evidence: dict[str, Any]) -> dict[str, Any]:
    if _PRIVATE_EVIDENCE.isdisjoint(evidence):  # most checks: the dict as it is (only ever encoded)
        return evidence
    return {k: len(v) if k in _PRIVATE_EVIDENCE else v for k, v in evidence.items()}


def check_view(rec: CheckRec | CheckResult, lang: str) -> s.CheckView:
    if isinstance(rec, CheckResult):
        return s.CheckView(
            check=rec.check,
            subject=rec.subject,
            status=rec.status.value,
            confidence=rec.confidence,
            evidence=_public(rec.evidence),
            user_fixable=rec.user_fixable,
            fix=Msg(rec.fix, rec.fix_params).words(lang),
        )
    return s.CheckView(
        check=rec.check_name,
        subject=rec.subject,
        status=rec.status,  # type: ignore[arg-type]
        confidence=rec.confidence,
        evidence=_public(rec.evidence),
        user_fixable=rec.user_fixable,
        fix=Msg(rec.fix, rec.fix_params).words(lang),
    )


def photo_view(photo: PhotoRec, checks: list[s.CheckView]) -> s.PhotoView:
    return s.PhotoView(
        id=photo.id,
        slot=photo.slot,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        sha256=photo.sha256,
        taken_at=photo.exif_taken_at,
        has_exif_location=photo.exif_lat is not None,
        created_at=photo.created_at,
        checks=checks,
        url=f"/mobile/v1/installs/{photo.install}/photos/{photo.id}",
    )


def connection_view(c: ConnectionRec) -> s.ConnectionView:
    return s.ConnectionView(
        ean=c.ean,
        street=c.street,
        house_number=c.house_number,
        house_number_suffix=c.house_number_suffix,
        postcode=c.postcode,
        city=c.city,
        capacity=c.capacity,
    )


def action_views(actions: list[NextAction], lang: str) -> list[s.ActionView]:
    return [s.ActionView(code=a.code, subject=a.subject, text=a.text.words(lang)) for a in actions]


def customer_message(snap: InstallSnapshot, lang: str) -> str | None:
    """The specialist's message, or else the words of their latest reason code, in `lang`."""
    if snap.install.customer_message:
        return snap.install.customer_message
    by_specialist = [d for d in snap.decisions if d.decided_by != "automation" and d.outcome != "first_approval"]
    if not by_specialist or snap.install.state not in ("needs_retake", "approved", "rejected"):
        return None
    return _reason_text(by_specialist[-1].reason_code, by_specialist[-1].outcome, lang)


def due_words(due: datetime, now: datetime, tz: ZoneInfo, lang: str) -> str:
    """When something is due, as a person says it in the operator's time zone: 'uiterlijk morgen 12:00',
    'by 12:00 tomorrow'; a weekday within the week, else the date; past due: 'as soon as possible'."""
    if due <= now:
        return translate(lang, "as soon as possible")
    local = due.astimezone(tz)
    days, clock = (local.date() - now.astimezone(tz).date()).days, f"{local:%H:%M}"
    if days == 0:
        return translate(lang, "by {clock} today", clock=clock)
    if days == 1:
        return translate(lang, "by {clock} tomorrow", clock=clock)
    if days < 7:
        return translate(lang, "by {weekday} {clock}", weekday=translate(lang, WEEKDAYS[local.weekday()]), clock=clock)
    month = translate(lang, MONTHS[local.month - 1])
    return translate(lang, "by {day} {month} {clock}", day=local.day, month=month, clock=clock)


def decision_expected(snap: InstallSnapshot, lang: str) -> str | None:
    """In review: when a specialist decides at the latest, in words (the case's SLA)."""
    if snap.decision_due is None:
        return None
    return due_words(snap.decision_due, datetime.now(UTC), OPERATOR_ZONE, lang)


def actions_for(catalog: Catalog, snap: InstallSnapshot, lang: str) -> list[s.ActionView]:
    """next_actions in words; a specialist's request speaks first, in their words or their reason's;
    waiting for a specialist says until when."""
    views = action_views(next_actions(catalog, snap), lang)
    message = customer_message(snap, lang)
    expected = decision_expected(snap, lang)
    out = []
    for a in views:
        if a.code == "specialist_request" and message:
            a = s.ActionView(code=a.code, subject=a.subject, text=message)
        elif a.code == "visit_planned" and snap.visit and snap.visit.window_start and snap.visit.window_end:
            when = window_words(snap.visit.window_start, snap.visit.window_end, lang)
            text = translate(lang, "An installer comes {when}. There is nothing you need to do now.", when=when)
            a = s.ActionView(code=a.code, subject=a.subject, text=text)
        elif a.code == "wait" and expected:
            a = s.ActionView(
                code=a.code,
                subject=a.subject,
                text=translate(lang, "{wait} Decision: {due}.", wait=a.text, due=expected),
            )
        out.append(a)
    return out


def install_view(catalog: Catalog, snap: InstallSnapshot, lang: str) -> s.InstallView:
    i = snap.install
    # Each check's view is made once: a photo's checks appear under the photo and in `checks`.
    checks = [check_view(c, lang) for c in snap.checks]
    by_photo: dict[int, list[s.CheckView]] = {p.id: [] for p in snap.photos}
    for rec, view in zip(snap.checks, checks, strict=True):
        if rec.photo is not None and rec.photo in by_photo:
            by_photo[rec.photo].append(view)
    fix = snap.fix
    return s.InstallView(
        id=i.id,
        state=i.state,
        status_text=translate(lang, STATUS_TEXT[i.state]),
        asset_type=i.asset_type,
        connection=connection_view(snap.connection),
        asset=s.AssetView(serial=snap.asset.serial, asset_type=snap.asset.asset_type, status=snap.asset.status)
        if snap.asset
        else None,
        photos=[photo_view(p, by_photo[p.id]) for p in snap.photos],
        location=s.LocationView(
            lat=fix.lat,
            lon=fix.lon,
            accuracy_m=fix.accuracy_m,
            captured_at=fix.captured_at,
            provider=fix.provider,
            mocked=fix.mocked,
            received_at=fix.created_at,
            client_time=fix.client_time,
        )
        if fix
        else None,
        checks=checks,
        reasons=list(i.reasons),
        reasons_text=[translate(lang, REASON_TEXT[r]) for r in i.reasons],
        next_actions=actions_for(catalog, snap, lang),
        decisions=[
            s.DecisionView(
                attempt=d.attempt,
                outcome=d.outcome,
                reasons=d.reasons,
                policy_version=d.policy_version,
                decided_by=_decider(d),
                created_at=d.created_at,
                message=d.message,
                reason_text=_reason_text(d.reason_code, d.outcome, lang),
            )
            for d in snap.decisions
            if d.outcome != "first_approval"
        ],
        timeline=timeline(catalog, snap.events, lang, (i.created_by, i.created_by_role)),
        customer_message=customer_message(snap, lang),
        reading=i.reading,
        retake_count=i.retake_count,
        version=i.version,
        created_at=i.created_at,
        updated_at=i.updated_at,
        started_at=i.started_at,
        client_time=i.client_time,
        decision_expected_by=snap.decision_due,
        decision_expected=decision_expected(snap, lang),
    )


def _decider(d: DecisionRec) -> str:
    """Who decided, as a kind (never a person's or a system's identity)."""
    if d.decided_by == "automation":
        return "automation"
    return "device" if d.reasons == ["device_report"] else "specialist"


_DECISION_OUTCOMES = {"approved": "approve", "rejected": "reject", "needs_retake": "request_info"}


def _reason_text(reason_code: str | None, outcome: str, lang: str) -> str | None:
    """A specialist's reason code in words (review.toml), e.g. 'A photo is not clear enough.'"""
    codes = load_review_config().reason_codes.get(_DECISION_OUTCOMES.get(outcome, ""), {})
    words = codes.get(reason_code or "")
    return DataWords(*words).words(lang) if words else None


def install_summary(i: InstallRec) -> s.InstallSummary:
    return s.InstallSummary(
        id=i.id,
        state=i.state,
        asset_type=i.asset_type,
        reasons=list(i.reasons),
        created_at=i.created_at,
        updated_at=i.updated_at,
    )
