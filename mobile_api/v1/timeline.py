"""The install's history in plain words for its customer or installer (internal events left out)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from backend.i18n import N_, DataWords, Msg, Worded
from backend.installs.catalog import Catalog
from backend.installs.records import EventRec
from mobile_api.v1 import schemas as s
from mobile_api.v1.words import window_words

_OUTCOME_WORDS = {
    "approved": N_("approved"),
    "needs_retake": N_("something needs redoing"),
    "in_review": N_("passed to a specialist"),
    "rejected": N_("rejected"),
}


def _outcome(to_state: str | None) -> Worded:
    msgid = _OUTCOME_WORDS.get(to_state or "")
    return Msg(msgid) if msgid else DataWords("", "")


def _device(asset_type: str) -> Msg:
    if asset_type.startswith("smart_meter"):
        return Msg("meter")
    return Msg("charger") if asset_type == "ev_charger" else Msg("device")


class _Window(NamedTuple):
    """A visit's window in words, in the reader's language."""

    start: datetime
    end: datetime

    def words(self, lang: str) -> str:
        return window_words(self.start, self.end, lang)


def _text(catalog: Catalog, extra_labels: dict[str, str], creator: tuple[str, str], e: EventRec) -> Worded | None:
    d = e.detail
    match e.action:
        case "install.created":
            return Msg("Install started.")
        case "label.scanned":
            return Msg("Label scanned ({serial}).", {"serial": d.get("serial")})
        case "photo.uploaded":
            slot = catalog.slots.get(str(d.get("slot")))
            extra = extra_labels.get(str(d.get("slot")), str(d.get("slot")))  # in the specialist's words
            label = DataWords(slot.label_nl, slot.label_en) if slot else DataWords(extra, extra)
            return Msg("Photo added: {photo}.", {"photo": label})
        case "info.requested":
            return _asked_words(d)
        case "info.answered":
            return Msg("You answered: {answer}", {"answer": d.get("text")})
        case "info.provided":
            return Msg("Everything the specialist asked for is in: the specialist looks again.")
        case "location.reported":
            return Msg("Location shared.")
        case "reading.entered":
            return Msg("Reading entered: {reading}.", {"reading": d.get("reading")})
        case "install.submitted":
            return Msg("Submitted and checked automatically: {outcome}.", {"outcome": _outcome(e.to_state)})
        case "help.requested" if (e.actor, e.actor_role) != creator:
            # The connection's owner, on their installer's install once decided (service.may_ask_for_help).
            return Msg("The customer asked for help from a person.")
        case "help.requested":
            return Msg("You asked for help from a person.")
        case "decision.objected":
            return Msg("You objected to the decision: a specialist looks at it again.")
        case "review.claimed":
            return Msg("A specialist is looking at your install.")
        case "review.decided":
            outcome = Msg("more information requested") if e.to_state == "needs_retake" else _outcome(e.to_state)
            return Msg("The specialist's decision: {outcome}.", {"outcome": outcome})
        case "visit.offered":
            return Msg("An installer can come by: pick a window.")
        case "visit.planned":
            window = _Window(datetime.fromisoformat(d["window_start"]), datetime.fromisoformat(d["window_end"]))
            return Msg("Visit planned: {window}.", {"window": window})
        case "visit.cancelled":
            return Msg("The visit is off.")
        case "visit.lapsed":
            return Msg(
                "No window was picked before they began: the visit is off. A specialist looks at your install again."
            )
        case "install.cancelled":
            return Msg("Withdrawn.")
        case "install.device-approved":
            device = _device(str(d.get("asset_type", "")))
            return Msg("Approved: your {device} reported in to us itself.", {"device": device})
        case "install.confirmed":
            return Msg("Your {device} is online.", {"device": _device(str(d.get("asset_type", "")))})
    return None  # internal: releases, first approvals, device mismatches ...


def _asked_words(d: dict[str, object]) -> Worded | None:
    """What a specialist asked for in particular (a request in words only is its decision's entry)."""
    photo = Msg("The specialist asks for an extra photo: {label}.", {"label": d.get("photo_label")})
    question = Msg("The specialist asks: {question}", {"question": d.get("question")})
    if d.get("photo_label") and d.get("question"):
        return Msg("{photo} {question}", {"photo": photo, "question": question})
    if d.get("photo_label"):
        return photo
    return question if d.get("question") else None


_AFTER_ITS_CAUSE = frozenset({"install.confirmed", "visit.offered", "visit.cancelled", "info.requested"})


def timeline(catalog: Catalog, events: list[EventRec], lang: str, creator: tuple[str, str]) -> list[s.TimelineEntry]:
    """The entries, oldest first; `creator`: the install's (subject, role), whose own steps say "you"."""
    entries = []
    extra_labels = {
        str(e.detail["slot"]): str(e.detail["photo_label"])
        for e in events
        if e.action == "info.requested" and e.detail.get("slot")
    }
    # An approval whose device had already reported is confirmed inside the approval's own
    # transaction, before the approval's event is written, and a visit is offered (by the policy) or
    # called off inside the transaction of the change that caused it, and a specialist's request is
    # recorded in their decision's: each reads after its cause.
    for e in sorted(events, key=lambda e: (e.created_at, e.action in _AFTER_ITS_CAUSE, e.id)):
        text = _text(catalog, extra_labels, creator, e)
        if text is not None:
            entries.append(s.TimelineEntry(at=e.created_at, text=text.words(lang)))
    return entries
