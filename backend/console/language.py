"""The console's words from the message catalogs: `{{ _("msgid", name=value) }}` in a template is the
msgid in the reader's language (Accept-Language, Dutch by default; `pybabel extract` reads the
templates for `_` calls, pyproject.toml's [tool.babel])."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine

from backend.console.times import add_time_filters, reader_language
from backend.i18n import translate


@pass_context
def _say(context: Context, msgid: str, /, **params: Any) -> str:
    return translate(reader_language(context), msgid, **params)


def add_template_helpers(engine: JinjaTemplateEngine) -> None:
    """TemplateConfig's engine_callback: the time filters (backend/console/times.py) and `_`."""
    add_time_filters(engine)
    engine.engine.globals["_"] = _say
