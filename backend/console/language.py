"""The console's words from the message catalogs: `{{ _("msgid", name=value) }}` in a template is the
msgid in the reader's language (Accept-Language, Dutch by default; `pybabel extract` reads the
templates for `_` calls, pyproject.toml's [tool.babel])."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine

from backend.console.times import add_time_filters, reader_language
from backend.console.words import (
    ACTION_TEXT,
    ASSET_STATUS_WORDS,
    CASE_STATE_TEXT,
    CHECK_STATUS_TEXT,
    CHECK_TEXT,
    DECISION_OUTCOME_TEXT,
    INSTALL_STATE_TEXT,
    ROLE_TEXT,
)
from backend.i18n import DataWords, translate
from backend.installs.catalog import Catalog
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF

# The codes a page shows, each kind's msgids: `{{ _(codes.reason[r]) }}`.
CODES = {
    "reason": REASON_TEXT_FOR_STAFF,
    "case_state": CASE_STATE_TEXT,
    "install_state": INSTALL_STATE_TEXT,
    "check": CHECK_TEXT,
    "check_status": CHECK_STATUS_TEXT,
    "outcome": DECISION_OUTCOME_TEXT,
    "action": ACTION_TEXT,
    "role": ROLE_TEXT,
    "asset_status": ASSET_STATUS_WORDS,
}


def type_words(catalog: Catalog, lang: str) -> dict[str, str]:
    """The asset types' names in the reader's language (the catalog's own words), in name order."""
    return {name: DataWords(spec.label_nl, spec.label_en).words(lang) for name, spec in sorted(catalog.types.items())}


@pass_context
def _say(context: Context, msgid: str, /, **params: Any) -> str:
    return translate(reader_language(context), str(msgid), **params)


def add_template_helpers(engine: JinjaTemplateEngine, static_url: Callable[[str], str]) -> None:
    """TemplateConfig's engine_callback (with the app's `static_url`, backend/static_files.py): the time filters
    (backend/console/times.py), `_`, `codes`, `reader_language()` (the page's `<html lang>`) and `static_url()`."""
    add_time_filters(engine)
    engine.engine.globals["static_url"] = static_url
    engine.engine.globals["_"] = _say
    engine.engine.globals["reader_language"] = pass_context(reader_language)
    engine.engine.globals["codes"] = CODES
