"""What a customer reads, per moment: a subject line and a plain-text body, from the message catalogs
(backend/i18n.py; the msgids are English).

Facts are stored with the notification; words that come from elsewhere (the asset type's label, a
reason code's words) are stored in both languages (`{"nl": ..., "en": ...}`), so the message is written
in the language the customer has when it is sent, from what was true when it happened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.i18n import N_, translate
from backend.local_time import OPERATOR_ZONE
from backend.notifications.enums import Moment
from backend.notifications.tokens import ADDRESS_LINK_VALID

LANGUAGES = ("nl", "en")  # what a customer may choose (their preferences)

# moment -> (subject, opening paragraph), msgids of the catalogs; {what} and {where} come from the facts.
_TEXT: dict[Moment, tuple[str, str]] = {
    Moment.APPROVED: (
        N_("Your install is approved"),
        N_("Good news: your install of the {what} at {where} is approved."),
    ),
    Moment.REJECTED: (N_("Your install was rejected"), N_("Your install of the {what} at {where} was rejected.")),
    Moment.RETAKE_NEEDED: (
        N_("Something needs redoing for your install"),
        N_("Something needs redoing for your install of the {what} at {where} before we can approve it."),
    ),
    Moment.INFO_REQUESTED: (
        N_("We need something from you"),
        N_("A specialist has a question about your install of the {what} at {where}."),
    ),
    Moment.VISIT_PLANNED: (
        N_("An installer is coming"),
        N_("An installer is coming for your install of the {what} at {where}."),
    ),
    Moment.DEVICE_CONFIRMED: (
        N_("Your {what} is online"),
        N_("Your {what} at {where} has reported in to us: the install is complete."),
    ),
}
_REASONS = N_("The reason:")
_MESSAGE = N_("The specialist writes:")
_QUESTION = N_("The question:")
_PHOTO = N_("Please send this extra photo:")
_WINDOW = N_("When: {window}.")
_REJECTED_NEXT = N_("In the app you can start a new install or object to this decision.")
_OPEN_APP = N_("Open the app to see what to do.")
_REGARDS = N_("Kind regards,\nThe grid operator")
_WHY = N_("You get this message because you registered an install. No more e-mail? Unsubscribe: {url}")
_NEEDS_ACTION = frozenset({Moment.RETAKE_NEEDED, Moment.INFO_REQUESTED})
_WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"), N_("Sunday"))
_MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"), N_("July"),
           N_("August"), N_("September"), N_("October"), N_("November"), N_("December"))  # fmt: skip


def window_words(start: datetime, end: datetime, lang: str) -> str:
    """'dinsdag 8 december tussen 08:00 en 12:00' / 'Tuesday 8 December between 08:00 and 12:00'."""
    s, e = start.astimezone(OPERATOR_ZONE), end.astimezone(OPERATOR_ZONE)
    weekday, month = translate(lang, _WEEKDAYS[s.weekday()]), translate(lang, _MONTHS[s.month - 1])
    day = translate(lang, N_("{weekday} {day} {month}"), weekday=weekday, day=s.day, month=month)
    return translate(lang, N_("{day} between {start} and {end}"), day=day, start=f"{s:%H:%M}", end=f"{e:%H:%M}")


_CHECK_SUBJECT = N_("Is this your e-mail address?")
_CHECK_BODY = N_(
    "You asked us to send news about your installs to this address. Follow this link to confirm it is "
    "yours (valid for {days} days):\n{url}"
)
_CHECK_NOT_YOU = N_("Not you? Then ignore this message: we will send nothing more to this address.")


def render_address_check(lang: str, url: str) -> tuple[str, str]:
    """(subject, body) of the message that asks whether a typed address is the customer's."""
    lang = lang if lang in LANGUAGES else "nl"
    paragraphs = [
        translate(lang, _CHECK_BODY, url=url, days=ADDRESS_LINK_VALID.days),
        translate(lang, _CHECK_NOT_YOU),
        translate(lang, _REGARDS),
    ]
    return translate(lang, _CHECK_SUBJECT), "\n\n".join(paragraphs) + "\n"


def render(moment: Moment, facts: dict[str, Any], lang: str, unsubscribe_url: str) -> tuple[str, str]:
    """(subject, body) of the message in `lang` ('nl' or 'en')."""
    lang = lang if lang in LANGUAGES else "nl"
    words = {k: v[lang] if isinstance(v, dict) else v for k, v in facts.items() if isinstance(v, dict | str)}
    subject, opening = (translate(lang, t, what=words["what"], where=words["where"]) for t in _TEXT[moment])
    paragraphs = [opening]
    reasons = [r[lang] for r in facts.get("reasons", [])]
    if reasons:
        paragraphs.append("\n".join([translate(lang, _REASONS), *(f"- {r}" for r in reasons)]))
    for label, key in ((_MESSAGE, "message"), (_QUESTION, "question"), (_PHOTO, "photo_label")):
        if facts.get(key):
            paragraphs.append(f"{translate(lang, label)}\n{facts[key]}")
    if "window_start" in facts:
        start, end = (datetime.fromisoformat(facts[k]) for k in ("window_start", "window_end"))
        paragraphs.append(translate(lang, _WINDOW, window=window_words(start, end, lang)))
    if moment is Moment.REJECTED:
        paragraphs.append(translate(lang, _REJECTED_NEXT))
    if moment in _NEEDS_ACTION:
        paragraphs.append(translate(lang, _OPEN_APP))
    paragraphs += [translate(lang, _REGARDS), "-- \n" + translate(lang, _WHY, url=unsubscribe_url)]
    return subject, "\n\n".join(paragraphs) + "\n"
