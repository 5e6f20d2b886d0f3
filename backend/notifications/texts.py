"""What a customer reads, per moment, in Dutch and English: a subject line and a plain-text body.

Facts are stored with the notification as words in both languages (`{"nl": ..., "en": ...}`), so the
message is written in the language the customer has when it is sent, from what was true when it
happened. Kept in one table like backend/errors.py's catalog, ready to move to gettext catalogs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from backend.notifications.enums import Moment

ZONE = ZoneInfo("Europe/Amsterdam")  # the customers' clock, whatever zone the server runs in
LANGUAGES = ("nl", "en")

Words = dict[str, str]  # {"nl": ..., "en": ...}

# moment -> language -> (subject, opening paragraph); {what} and {where} come from the facts.
_TEXT: dict[Moment, dict[str, tuple[str, str]]] = {
    Moment.APPROVED: {
        "nl": (
            "Uw installatie is goedgekeurd",
            "Goed nieuws: uw installatie van de {what} aan {where} is goedgekeurd.",
        ),
        "en": ("Your install is approved", "Good news: your install of the {what} at {where} is approved."),
    },
    Moment.REJECTED: {
        "nl": ("Uw installatie is afgekeurd", "Uw installatie van de {what} aan {where} is afgekeurd."),
        "en": ("Your install was rejected", "Your install of the {what} at {where} was rejected."),
    },
    Moment.RETAKE_NEEDED: {
        "nl": (
            "Er moet iets opnieuw bij uw installatie",
            "Bij uw installatie van de {what} aan {where} moet iets opnieuw voordat we haar kunnen goedkeuren.",
        ),
        "en": (
            "Something needs redoing for your install",
            "Something needs redoing for your install of the {what} at {where} before we can approve it.",
        ),
    },
    Moment.INFO_REQUESTED: {
        "nl": (
            "We hebben iets van u nodig",
            "Een specialist heeft een vraag over uw installatie van de {what} aan {where}.",
        ),
        "en": (
            "We need something from you",
            "A specialist has a question about your install of the {what} at {where}.",
        ),
    },
    Moment.VISIT_PLANNED: {
        "nl": ("Een monteur komt langs", "Voor uw installatie van de {what} aan {where} komt een monteur langs."),
        "en": ("An installer is coming", "An installer is coming for your install of the {what} at {where}."),
    },
    Moment.DEVICE_CONFIRMED: {
        "nl": (
            "Uw {what} is aangemeld",
            "Uw {what} aan {where} heeft zich bij ons gemeld: de installatie is helemaal rond.",
        ),
        "en": (
            "Your {what} is online",
            "Your {what} at {where} has reported in to us: the install is complete.",
        ),
    },
}

_LINES = {
    "reasons": {"nl": "De reden:", "en": "The reason:"},
    "message": {"nl": "De specialist schrijft:", "en": "The specialist writes:"},
    "question": {"nl": "De vraag:", "en": "The question:"},
    "photo": {"nl": "Stuur deze extra foto:", "en": "Please send this extra photo:"},
    "window": {"nl": "Wanneer: {window}.", "en": "When: {window}."},
    "rejected_next": {
        "nl": "In de app kunt u een nieuwe installatie beginnen of bezwaar maken tegen dit besluit.",
        "en": "In the app you can start a new install or object to this decision.",
    },
    "open_app": {"nl": "Open de app om te zien wat er moet gebeuren.", "en": "Open the app to see what to do."},
    "regards": {"nl": "Met vriendelijke groet,\nDe netbeheerder", "en": "Kind regards,\nThe grid operator"},
    "why": {
        "nl": "U krijgt dit bericht omdat u een installatie aanmeldde. Geen e-mail meer? Meld u af: {url}",
        "en": "You get this message because you registered an install. No more e-mail? Unsubscribe: {url}",
    },
}
_NEEDS_ACTION = frozenset({Moment.RETAKE_NEEDED, Moment.INFO_REQUESTED})
_WEEKDAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip


def window_words(start: datetime, end: datetime, lang: str) -> str:
    """'dinsdag 8 december tussen 08:00 en 12:00' / 'Tuesday 8 December between 08:00 and 12:00'."""
    s, e = start.astimezone(ZONE), end.astimezone(ZONE)
    day = f"{_WEEKDAYS[lang][s.weekday()]} {s.day} {_MONTHS[lang][s.month - 1]}"
    between = ("tussen {a} en {b}", "between {a} and {b}")[lang == "en"]
    return f"{day} {between.format(a=f'{s:%H:%M}', b=f'{e:%H:%M}')}"


def render(moment: Moment, facts: dict[str, Any], lang: str, unsubscribe_url: str) -> tuple[str, str]:
    """(subject, body) of the message in `lang` ('nl' or 'en')."""
    lang = lang if lang in LANGUAGES else "nl"
    words = {k: v[lang] if isinstance(v, dict) else v for k, v in facts.items() if isinstance(v, dict | str)}
    subject, opening = (t.format(**words) for t in _TEXT[moment][lang])
    paragraphs = [opening]
    reasons = [r[lang] for r in facts.get("reasons", [])]
    if reasons:
        paragraphs.append("\n".join([_LINES["reasons"][lang], *(f"- {r}" for r in reasons)]))
    if facts.get("message"):
        paragraphs.append(f"{_LINES['message'][lang]}\n{facts['message']}")
    if facts.get("question"):
        paragraphs.append(f"{_LINES['question'][lang]}\n{facts['question']}")
    if facts.get("photo_label"):
        paragraphs.append(f"{_LINES['photo'][lang]}\n{facts['photo_label']}")
    if "window_start" in facts:
        window = window_words(
            datetime.fromisoformat(facts["window_start"]), datetime.fromisoformat(facts["window_end"]), lang
        )
        paragraphs.append(_LINES["window"][lang].format(window=window))
    if moment is Moment.REJECTED:
        paragraphs.append(_LINES["rejected_next"][lang])
    if moment in _NEEDS_ACTION:
        paragraphs.append(_LINES["open_app"][lang])
    paragraphs += [_LINES["regards"][lang], "-- \n" + _LINES["why"][lang].format(url=unsubscribe_url)]
    return subject, "\n\n".join(paragraphs) + "\n"
