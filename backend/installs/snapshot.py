"""An install with all its evidence, and what its user must do next, in words."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import msgspec

from backend.i18n import N_, DataWords, Msg, translate
from backend.installs import repository as repo
from backend.installs.asked import changed_since_request, extra_photo, extra_slot, open_request, retakes
from backend.installs.catalog import Catalog
from backend.installs.enums import DECIDED_STATES, EDITABLE_STATES, InstallState
from backend.installs.records import (
    AssetRec,
    CheckRec,
    ConnectionRec,
    DecisionRec,
    EventRec,
    FixRec,
    InfoRequestRec,
    InstallRec,
    PhotoRec,
)
from backend.validation.results import Reason

# A reason in the words of its reader: the customer, or the staff around the install (specialists,
# installers, operators), who read the same reason differently ("you asked for a person").
REASON_TEXT: dict[str, str] = {
    Reason.SUSPECTED_FRAUD: N_("the evidence raises questions"),
    Reason.HUMAN_REQUESTED: N_("you asked for a person"),
    Reason.APPROVAL_REQUIRED: N_("this needs a specialist's approval"),
    Reason.SPECIALIST_KNOWLEDGE: N_("this needs specialist knowledge"),
    Reason.COMPLEXITY: N_("self-service did not succeed after several tries"),
    Reason.UNCERTAIN: N_("the automatic check could not establish it with certainty"),
}
REASON_TEXT_FOR_STAFF: dict[str, str] = {
    Reason.SUSPECTED_FRAUD: N_("suspected fraud"),
    Reason.HUMAN_REQUESTED: N_("the customer asked for a person"),
    Reason.APPROVAL_REQUIRED: N_("approval required"),
    Reason.SPECIALIST_KNOWLEDGE: N_("specialist knowledge needed"),
    Reason.COMPLEXITY: N_("did not succeed after retakes"),
    Reason.UNCERTAIN: N_("check not certain"),
}


class NextAction(msgspec.Struct, frozen=True, kw_only=True):
    """One thing the user must still do. `code`: specialist_request, upload_extra_photo (subject: its slot),
    answer_question, scan_label, upload_photo, retake_photo, enter_reading, share_location, submit, wait,
    ask_for_help, pick_visit_window or visit_planned."""

    code: str
    subject: str | None
    text: Msg | DataWords  # worded in the reader's language by the API


@dataclass(frozen=True, slots=True)
class InstallSnapshot:
    install: InstallRec
    connection: ConnectionRec
    asset: AssetRec | None
    photos: list[PhotoRec]
    fixes: list[FixRec]  # oldest first
    checks: list[CheckRec]  # the checks that still apply: of current photos and of the latest submit
    decisions: list[DecisionRec]
    events: list[EventRec]
    decision_due: datetime | None = None  # in review: when a specialist decides at the latest (the case's SLA)
    visit: repo.VisitFact | None = None  # the latest visit offered on it (backend/jobs/visits.py)
    info_requests: list[InfoRequestRec] = field(default_factory=list)  # oldest first
    # False: read by the connection's owner, of the install their installer does (service.get_install)
    read_by_creator: bool = True

    @property
    def fix(self) -> FixRec | None:
        """The latest reported fix: the one that counts."""
        return self.fixes[-1] if self.fixes else None


async def load_snapshot(install: InstallRec) -> InstallSnapshot:
    """Everything about one install the caller already holds (one query)."""
    rows = await repo.install_snapshot(install.id)
    assert rows is not None  # the caller read the install; installs are never deleted
    return _snapshot(rows, install)


async def load_scoped_snapshot(install_id: uuid.UUID, subject: str, role: str) -> InstallSnapshot | None:
    """Everything about one install, if the caller may see it (one query; None: not theirs or none)."""
    rows = await repo.install_snapshot(install_id, subject, role)
    return None if rows is None else _snapshot(rows, rows.install)


def _snapshot(rows: repo.SnapshotRows, install: InstallRec) -> InstallSnapshot:
    current_photo_ids = {p.id for p in rows.photos}
    latest_attempt = max((c.attempt for c in rows.checks if c.photo is None), default=None)
    # A photo's check may be re-run (e.g. the label check once the asset is scanned): the newest counts.
    latest_photo_checks = {(c.photo, c.check_name): c for c in rows.checks if c.photo in current_photo_ids}
    checks = [
        c
        for c in rows.checks
        if latest_photo_checks.get((c.photo, c.check_name)) is c or (c.photo is None and c.attempt == latest_attempt)
    ]
    return InstallSnapshot(
        install=install,
        connection=rows.connection,
        asset=rows.asset,
        photos=rows.photos,
        fixes=rows.fixes,
        checks=checks,
        decisions=rows.decisions,
        events=rows.events,
        decision_due=rows.decision_due if install.state == InstallState.IN_REVIEW.value else None,
        visit=rows.visit,
        info_requests=rows.info_requests,
    )


class Reasons(NamedTuple):
    """An install's reasons, worded for its customer and joined in the reader's language."""

    codes: tuple[str, ...]

    def words(self, lang: str) -> str:
        return ", ".join(translate(lang, REASON_TEXT[r]) for r in self.codes)


def next_actions(catalog: Catalog, snap: InstallSnapshot) -> list[NextAction]:
    """What the user must still do, one action per slot or step."""
    state = InstallState(snap.install.state)
    if not snap.read_by_creator:  # its steps are its creator's (service.require_creator)
        return [_AFTER_HELP] if state in DECIDED_STATES else [_INSTALLERS]
    visit = snap.visit.state if snap.visit and state is InstallState.IN_REVIEW else None
    if visit == "offered":
        return [_PICK_VISIT_WINDOW, _ASK_FOR_HELP]
    if visit == "planned":
        return [_VISIT_PLANNED, _ASK_FOR_HELP]
    if state is InstallState.IN_REVIEW:
        reasons = Reasons(tuple(snap.install.reasons))
        waiting = N_("A specialist is reviewing your install ({reasons}). There is nothing you need to do now.")
        return [NextAction(code="wait", subject=None, text=Msg(waiting, {"reasons": reasons}))]
    if state not in EDITABLE_STATES:
        # Moved out (the connection is no longer the install's customer's): nothing new starts there.
        return _after_decision(state, snap.connection.owner_subject == snap.install.customer_subject)
    actions: list[NextAction] = []
    if snap.install.awaiting_info:
        # A specialist's own words first: they say what to do; the checks below say where.
        message = snap.install.customer_message
        actions.append(
            NextAction(
                code="specialist_request",
                subject=None,
                text=DataWords(message, message)
                if message
                else Msg("A specialist asks you to complete the install; see the reason with the decision."),
            )
        )
        request = open_request(snap.install, snap.info_requests)
        if request is not None:
            actions.extend(_asked(request, snap))
    if snap.asset is None:
        actions.append(
            NextAction(
                code="scan_label",
                subject=None,
                text=Msg("Scan the asset's QR label."),
            )
        )
    by_slot = {p.slot: p for p in snap.photos}
    for slot in catalog.types[snap.install.asset_type].slots:
        spec = catalog.slots[slot]
        photo = by_slot.get(slot)
        if photo is None:
            actions.append(
                NextAction(
                    code="upload_photo",
                    subject=slot,
                    text=Msg("Upload a {photo}.", {"photo": DataWords(spec.label_nl, spec.label_en)}),
                )
            )
            continue
        for check in snap.checks:
            if check.photo == photo.id and check.status != "pass" and check.user_fixable:
                actions.append(NextAction(code="retake_photo", subject=slot, text=Msg(check.fix, check.fix_params)))
    needs_reading = any(catalog.slots[s].requires_reading for s in catalog.types[snap.install.asset_type].slots)
    # A verdict on the reading is stale once another value was entered.
    reading_fixes = [
        c
        for c in snap.checks
        if c.check_name == "reading" and c.status != "pass" and c.evidence.get("reading") == snap.install.reading
    ]
    if needs_reading and (snap.install.reading is None or reading_fixes):
        actions.append(
            NextAction(
                code="enter_reading",
                subject="reading",
                text=Msg(reading_fixes[0].fix, reading_fixes[0].fix_params)
                if reading_fixes
                else Msg("Enter the reading shown on the display."),
            )
        )
    # A location verdict from a submit is stale once a newer fix has been shared.
    location_fixes = [
        c
        for c in snap.checks
        if c.check_name == "location"
        and c.status != "pass"
        and c.user_fixable
        and (snap.fix is None or c.created_at >= snap.fix.created_at)
    ]
    if snap.fix is None or location_fixes:
        actions.append(
            NextAction(
                code="share_location",
                subject="location",
                text=Msg(location_fixes[0].fix, location_fixes[0].fix_params)
                if location_fixes
                else Msg("Share your location at the meter cabinet."),
            )
        )
    # Nothing missing and nothing to redo; after a specialist's request, once something changed.
    if all(a.code == "specialist_request" for a in actions) and (
        not snap.install.awaiting_info or changed_since_request(snap.events)
    ):
        actions.append(
            NextAction(
                code="submit",
                subject=None,
                text=Msg("Submit the install for checking."),
            )
        )
    actions.append(_ASK_FOR_HELP)
    return actions


def _asked(request: InfoRequestRec, snap: InstallSnapshot) -> list[NextAction]:
    """What the specialist's open request still asks, in their words."""
    actions = []
    if request.photo_label is not None:
        photo = extra_photo(request, snap.photos)
        slot = extra_slot(request.id)
        if photo is None:
            actions.append(
                NextAction(
                    code="upload_extra_photo",
                    subject=slot,
                    text=Msg(
                        "Upload the extra photo the specialist asks for: {label}.", {"label": request.photo_label}
                    ),
                )
            )
        else:
            actions.extend(
                NextAction(code="retake_photo", subject=slot, text=Msg(c.fix, c.fix_params))
                for c in retakes(photo, snap.checks)
            )
    if request.question is not None and request.answer is None:
        actions.append(
            NextAction(
                code="answer_question",
                subject=None,
                text=Msg("Answer the specialist's question: {question}", {"question": request.question}),
            )
        )
    return actions


_ASK_FOR_HELP = NextAction(
    code="ask_for_help",
    subject=None,
    text=Msg("Stuck? Ask a person for help."),
)
_PICK_VISIT_WINDOW = NextAction(
    code="pick_visit_window",
    subject="visit",
    text=Msg("An installer will come by: pick a window for the visit."),
)
_VISIT_PLANNED = NextAction(
    code="visit_planned",
    subject="visit",
    text=Msg("The installer's visit is planned. There is nothing you need to do now."),
)
_INSTALLERS = NextAction(
    code="wait",
    subject=None,
    text=Msg("An installer does this install at your connection. There is nothing you need to do."),
)
_START_NEW = NextAction(
    code="start_new_install",
    subject=None,
    text=Msg("Start a new install."),
)
_OBJECT = NextAction(
    code="object_to_decision",
    subject=None,
    text=Msg("Do you disagree with the decision? Object to it: a specialist looks at it again."),
)
_AFTER_HELP = NextAction(
    code="ask_for_help",
    subject=None,
    text=Msg("Questions about your install? Ask a person."),
)


def _after_decision(state: InstallState, may_start_again: bool) -> list[NextAction]:
    """Decided or withdrawn: there is always a next step, and a person to ask."""
    start = [_START_NEW] if may_start_again else []
    if state is InstallState.REJECTED:
        return [*start, _OBJECT, _AFTER_HELP]
    if state is InstallState.CANCELLED:
        return [*start, _AFTER_HELP]
    return [_AFTER_HELP]
