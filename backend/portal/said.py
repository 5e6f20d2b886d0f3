"""The portal's refusals in words a customer reads, in full: a service's problem is its detail (whose
parameters are words already, backend/words.py), a form the API's request Struct refuses is said per form
and per fault, and a meter reading is read as a person types it (a decimal comma, thousands separators)."""

from __future__ import annotations

import re

import msgspec

from backend.errors import DomainError
from backend.i18n import N_, translate
from backend.problems import violation

Flash = dict[str, str]

# A form with a customer's own text (a help message, an answer, an objection), by what msgspec refused.
MESSAGE_FAULTS = {
    "too-long": N_("Your message is too long: at most {limit} characters fit. Shorten it and send it again."),
    "too-short": N_("Type your message first, then send it."),
    "pattern": N_("Your message holds characters that cannot be sent (control characters). Type it as plain text."),
}
# The other forms: one sentence each says what the field wants.
FORM_HELP = {
    "start": N_("Pick what you want to install yourself on one of your connections, then start again."),
    "scan": N_("Type the code printed under the QR label exactly as printed, or scan it with the camera."),
    "location": N_("Your location did not come through. Share it again, or ask for a person below."),
    "reading": N_("Type the reading as a number, as on the display: for example 4512.7."),
    "photo": N_("Choose a photo or take one, then send it."),
    "visit": N_("Pick one of the offered windows, then plan the visit."),
}


def refused(lang: str, exc: DomainError) -> Flash:
    """A service's problem as the page's message: its detail in full, in `lang`."""
    return {"kind": "error", "text": exc.message(lang)}


def form_help(lang: str, form: str) -> Flash:
    """What a form's field wants, as the page's message after the form was refused."""
    return {"kind": "error", "text": translate(lang, FORM_HELP[form])}


def message_fault(lang: str, exc: msgspec.ValidationError) -> Flash:
    """Why a customer's text was refused (too long, empty, control characters), from msgspec's refusal."""
    said = violation(str(exc))
    text = MESSAGE_FAULTS.get(said.kind, MESSAGE_FAULTS["pattern"])
    return {"kind": "error", "text": translate(lang, text, **{k: v for k, v in said.words.items() if k == "limit"})}


# A reading as typed, in two conventions: Dutch (1.234,5: a dot groups thousands, a comma is the decimal mark)
# and English (1,234.5). A form both read differently (1.234, 1,234) is read in the page's language's way.
_DUTCH = re.compile(r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_ENGLISH = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_UNIT = re.compile(r"\s*kwh$", re.IGNORECASE)


def typed_reading(typed: str, lang: str) -> float | None:
    """The number a customer typed as a reading ('4512,7', '1.234,5', '1234.5', '4 512,7 kWh'), or None when
    it is not a number in either convention."""
    text = re.sub(r"[\s\u00a0\u202f]", "", _UNIT.sub("", typed.strip()))
    dutch = float(text.replace(".", "").replace(",", ".")) if _DUTCH.fullmatch(text) else None
    english = float(text.replace(",", "")) if _ENGLISH.fullmatch(text) else None
    first, second = (english, dutch) if lang == "en" else (dutch, english)
    return first if first is not None else second
