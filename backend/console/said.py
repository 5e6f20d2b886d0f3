"""What the console says after an action, in the reader's language: a flash from an outcome code
(words.FLASH) or from a domain error (the problem catalog's words, its codes' values worded too), and a
batch's bad lines; all from the message catalogs."""

from __future__ import annotations

from typing import Any

from litestar import Request

from backend.console.words import FIELD_WORDS, FLASH
from backend.errors import MESSAGES, DomainError
from backend.i18n import preferred_language, translate
from backend.problems import row_wire


def reader(request: Request[Any, Any, Any]) -> str:
    """The language a console page speaks to the request's reader: Accept-Language, Dutch by default
    (as the templates' `_` word it)."""
    return preferred_language(request.headers.get("accept-language"))


def flash(code: str | None, lang: str) -> dict[str, str] | None:
    """The message a redirect's `?msg=` names: an outcome of ours (words.FLASH, fixed sentences); None for anything
    else. A refusal with parameters is never a redirect (the page answers it at once), so nothing of the URL is said."""
    if code not in FLASH:
        return None
    kind, msgid = FLASH[code]
    return {"kind": kind, "text": translate(lang, msgid)}


def error_flash(exc: DomainError, lang: str) -> dict[str, str]:
    """A domain error as the console's error message (a state it names is words already, where it was raised).
    A batch's rows are listed by `bad_lines`, not here; anything else is its detail in full, every parameter filled."""
    message = MESSAGES[exc.code]
    if exc.rows:
        text = translate(lang, "{problem}: nothing is saved.", problem=message.title_in(lang))
        return {"kind": "error", "text": text}
    return {"kind": "error", "text": exc.message(lang)}


def bad_lines(exc: DomainError, lang: str) -> list[dict[str, Any]]:
    """A batch's or a form's faults: line, the field in words, and the sentence."""
    rows = [row_wire(row, lang) for row in exc.rows]
    return [{**r, "field": translate(lang, FIELD_WORDS.get(r["field"] or "", r["field"] or ""))} for r in rows]
