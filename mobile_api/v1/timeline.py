"""The install's history in plain words for its customer or installer (internal events left out)."""

from __future__ import annotations

from datetime import datetime

from backend.installs.catalog import Catalog
from backend.installs.records import EventRec
from mobile_api.v1 import schemas as s
from mobile_api.v1.words import window_words

_OUTCOME_WORDS = {
    "approved": ("goedgekeurd", "approved"),
    "needs_retake": ("er moet iets opnieuw", "something needs redoing"),
    "in_review": ("doorgestuurd naar een specialist", "passed to a specialist"),
    "rejected": ("afgekeurd", "rejected"),
}


def _device_words(asset_type: str) -> tuple[str, str]:
    if asset_type.startswith("smart_meter"):
        return "meter", "meter"
    return ("laadpaal", "charger") if asset_type == "ev_charger" else ("apparaat", "device")


def _text(catalog: Catalog, extra_labels: dict[str, str], e: EventRec) -> tuple[str, str] | None:
    d = e.detail
    match e.action:
        case "install.created":
            return "Installatie gestart.", "Install started."
        case "label.scanned":
            return f"Label gescand ({d.get('serial')}).", f"Label scanned ({d.get('serial')})."
        case "photo.uploaded":
            slot = catalog.slots.get(str(d.get("slot")))
            extra = extra_labels.get(str(d.get("slot")), str(d.get("slot")))  # in the specialist's words
            nl, en = (slot.label_nl, slot.label_en) if slot else (extra, extra)
            return f"Foto toegevoegd: {nl}.", f"Photo added: {en}."
        case "info.requested":
            return _asked_words(d)
        case "info.answered":
            return f"U antwoordde: {d.get('text')}", f"You answered: {d.get('text')}"
        case "info.provided":
            return (
                "Alles wat de specialist vroeg is binnen: de specialist kijkt weer.",
                "Everything the specialist asked for is in: the specialist looks again.",
            )
        case "location.reported":
            return "Locatie gedeeld.", "Location shared."
        case "reading.entered":
            return f"Meterstand ingevuld: {d.get('reading')}.", f"Reading entered: {d.get('reading')}."
        case "install.submitted":
            nl, en = _OUTCOME_WORDS.get(e.to_state or "", ("", ""))
            return f"Verstuurd en automatisch gecontroleerd: {nl}.", f"Submitted and checked automatically: {en}."
        case "help.requested":
            return "U vroeg om hulp van een medewerker.", "You asked for help from a person."
        case "decision.objected":
            return (
                "U maakte bezwaar tegen het besluit: een specialist bekijkt het opnieuw.",
                "You objected to the decision: a specialist looks at it again.",
            )
        case "review.claimed":
            return "Een specialist bekijkt uw installatie.", "A specialist is looking at your install."
        case "review.decided":
            nl, en = _OUTCOME_WORDS.get(e.to_state or "", ("", ""))
            if e.to_state == "needs_retake":
                nl, en = "meer informatie gevraagd", "more information requested"
            return f"Besluit van de specialist: {nl}.", f"The specialist's decision: {en}."
        case "visit.offered":
            return (
                "Er kan een installateur langskomen: kies een tijdvak.",
                "An installer can come by: pick a window.",
            )
        case "visit.planned":
            start, end = datetime.fromisoformat(d["window_start"]), datetime.fromisoformat(d["window_end"])
            return (
                f"Bezoek gepland: {window_words(start, end, 'nl')}.",
                f"Visit planned: {window_words(start, end, 'en')}.",
            )
        case "visit.cancelled":
            return "Het bezoek gaat niet door.", "The visit is off."
        case "install.cancelled":
            return "Ingetrokken.", "Withdrawn."
        case "install.device-approved":
            nl, en = _device_words(str(d.get("asset_type", "")))
            return (
                f"Goedgekeurd: uw {nl} meldde zich zelf bij ons aan.",
                f"Approved: your {en} reported in to us itself.",
            )
        case "install.confirmed":
            nl, en = _device_words(str(d.get("asset_type", "")))
            return f"Uw {nl} is online.", f"Your {en} is online."
    return None  # internal: releases, first approvals, device mismatches ...


def _asked_words(d: dict[str, object]) -> tuple[str, str] | None:
    """What a specialist asked for in particular (a request in words only is its decision's entry)."""
    nl, en = [], []
    if d.get("photo_label"):
        nl.append(f"De specialist vraagt een extra foto: {d['photo_label']}.")
        en.append(f"The specialist asks for an extra photo: {d['photo_label']}.")
    if d.get("question"):
        nl.append(f"De specialist vraagt: {d['question']}")
        en.append(f"The specialist asks: {d['question']}")
    return (" ".join(nl), " ".join(en)) if nl else None


_AFTER_ITS_CAUSE = frozenset({"install.confirmed", "visit.offered", "visit.cancelled", "info.requested"})


def timeline(catalog: Catalog, events: list[EventRec], lang: str) -> list[s.TimelineEntry]:
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
        text = _text(catalog, extra_labels, e)
        if text is not None:
            entries.append(s.TimelineEntry(at=e.created_at, text=text[1] if lang == "en" else text[0]))
    return entries
