"""What the console says after an action, in the reader's language: a flash from an outcome code
(words.FLASH) or from a domain error (the problem catalog's words, its codes' values worded too), and a
batch's bad lines; all from the message catalogs."""

from __future__ import annotations

from typing import Any

from litestar import Request

from backend.console.words import FIELD_WORDS, FLASH
from backend.errors import MESSAGES, DomainError, Said
from backend.i18n import Worded, preferred_language, translate
from backend.problems import row_wire


def reader(request: Request[Any, Any, Any]) -> str:
    """The language a console page speaks to the request's reader: Accept-Language, Dutch by default
    (as the templates' `_` word it)."""
    return preferred_language(request.headers.get("accept-language"))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def flash(code: str | None, lang: str) -> dict[str, str] | None:
    """The message a redirect's `?msg=` names: an outcome of ours, or a problem code (its parameters
    are not in the URL, so they read as …); None for anything else."""
    if not code:
        return None
    if code in FLASH:
        kind, msgid = FLASH[code]
        text = translate(lang, msgid)
    elif code in MESSAGES:
        kind, text = "error", translate(lang, MESSAGES[code].detail).format_map(_Blank())
    else:
        return None
    return {"kind": kind, "text": text}


def error_flash(exc: DomainError, lang: str) -> dict[str, str]:
    """A domain error as the console's error message (a state it names is words already, where it was raised).
    A batch's rows are listed by `bad_lines`, not here."""
    message = MESSAGES[exc.code]
    if exc.rows:
        text = translate(lang, "{problem}: nothing is saved.", problem=message.title_in(lang))
        return {"kind": "error", "text": text}
    params = _Blank({k: _worded(v, lang) for k, v in exc.params.items()})
    return {"kind": "error", "text": translate(lang, message.detail).format_map(params)}


def _worded(value: Any, lang: str) -> str:
    """A parameter's value in words: a `Said`, a `Worded` (a state, a catalog label), or the value as it is."""
    if isinstance(value, Said):
        return value.text(lang)
    return value.words(lang) if isinstance(value, Worded) else str(value)


def bad_lines(exc: DomainError, lang: str) -> list[dict[str, Any]]:
    """A batch's or a form's faults: line, the field in words, and the sentence."""
    rows = [row_wire(row, lang) for row in exc.rows]
    return [{**r, "field": translate(lang, FIELD_WORDS.get(r["field"] or "", r["field"] or ""))} for r in rows]
