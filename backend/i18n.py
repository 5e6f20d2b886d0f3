"""Every text a person reads comes from gettext catalogs: backend/locale/<lang>/LC_MESSAGES/messages.po,
compiled to .mo by the build (the Makefile's install step, setup.py for the wheel).

A msgid is the English text, with `{name}` placeholders filled by `str.format`; en.po holds English too,
so English wording can be edited without touching the code. Code marks msgids it words later with `N_`
(the reader's language is known only at the answer) and words them with `translate(lang, msgid, **params)`,
or carries them as a `Msg` (msgid and parameters) to where the language is known.
A language is offered when its catalog is compiled: dropping in a .po and compiling adds it; what it does
not translate falls back to English. Dutch is the default; Accept-Language chooses.
"""

from __future__ import annotations

import gettext
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple, Protocol, runtime_checkable

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
DEFAULT_LANGUAGE = "nl"
SOURCE_LANGUAGE = "en"  # the msgids' language: offered even where its catalog is missing


def N_(msgid: str) -> str:
    """Marks `msgid` for extraction (`pybabel extract`); it is worded where the reader is known."""
    return msgid


class Catalogs:
    """The compiled catalogs of one locale folder: which languages they offer, and their words."""

    def __init__(self, locale_dir: Path) -> None:
        found = {p.parents[1].name: p for p in locale_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")}
        self.languages = frozenset(found) | {DEFAULT_LANGUAGE, SOURCE_LANGUAGE}
        self._words: dict[str, gettext.NullTranslations] = {
            lang: gettext.translation(DOMAIN, locale_dir, languages=[lang]) for lang in found
        }

    def translate(self, lang: str, msgid: str, /, **params: Any) -> str:
        """`msgid` in `lang`, its placeholders filled; English where `lang` has no translation for it."""
        if not msgid:  # gettext's "" is the catalog's header: no words are no words
            return ""
        words = self._words.get(lang)
        text = words.gettext(msgid) if words is not None else msgid
        return text.format(**params) if params else text

    def preferred_language(self, accept_language: str | None) -> str:
        """The offered language the client prefers most (RFC 9110 weights; a tie goes to the first
        listed); Dutch when it names none of them."""
        best, best_q = DEFAULT_LANGUAGE, 0.0
        for position, part in enumerate((accept_language or "").split(",")):
            tag, _, q_part = part.strip().partition(";")
            lang = tag.strip().lower().partition("-")[0]
            try:
                q = float(q_part.strip().removeprefix("q=")) if q_part else 1.0
            except ValueError:
                continue
            q -= position * 1e-6  # equal weights: the first listed wins
            if lang in self.languages and q > best_q:
                best, best_q = lang, q
        return best


@cache
def catalogs() -> Catalogs:
    """The package's catalogs, read once."""
    return Catalogs(LOCALE_DIR)


def translate(lang: str, msgid: str, /, **params: Any) -> str:
    """`msgid` in `lang` from the package's catalogs, its `{placeholders}` filled from `params`."""
    return catalogs().translate(lang, msgid, **params)


def preferred_language(accept_language: str | None) -> str:
    """The language of an answer, from the request's Accept-Language (Dutch by default)."""
    return catalogs().preferred_language(accept_language)


@runtime_checkable
class Worded(Protocol):
    """Words for a reader whose language is known only at the answer."""

    def words(self, lang: str) -> str: ...


class Msg(NamedTuple):
    """A msgid and its parameters, worded at the answer; a parameter that is `Worded` is worded too."""

    msgid: str
    params: Mapping[str, Any] = {}

    def words(self, lang: str) -> str:
        worded = {k: v.words(lang) if isinstance(v, Worded) else v for k, v in self.params.items()}
        return translate(lang, self.msgid, **worded)


class DataWords(NamedTuple):
    """Words that come with the data rather than the code (the asset catalog's labels, a check's fix as it
    was stored), in Dutch and English; another language reads the English."""

    nl: str
    en: str

    def words(self, lang: str) -> str:
        return self.nl if lang == "nl" else self.en
