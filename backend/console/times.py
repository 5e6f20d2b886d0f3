"""Times on the console as a Dutch specialist reads them: Europe/Amsterdam, with the zone named
(CET in winter, CEST in summer), weekday and month in the reader's language (Accept-Language;
Dutch by default). The database holds UTC; a bare UTC time reads one or two hours wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine

from backend.i18n import N_, preferred_language, translate
from backend.local_time import OPERATOR_ZONE

# Abbreviated, as on a clock; msgids of the message catalogs, worded in the reader's language.
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
_MONTHS = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"),
           N_("Jul"), N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))  # fmt: skip


def local(moment: datetime | str) -> datetime:
    """`moment` in the console's zone; ISO text is read (the case view's events are JSON-ready dicts),
    a naive value is UTC (what the database stores)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(OPERATOR_ZONE)


def format_moment(moment: datetime | str, lang: str) -> str:
    """'di 1 dec 2026 14:05 CET' (nl) or 'Tue 1 Dec 2026 14:05 CET' (en)."""
    t = local(moment)
    weekday, month = translate(lang, WEEKDAYS[t.weekday()]), translate(lang, _MONTHS[t.month - 1])
    return f"{weekday} {t.day} {month} {t.year} {t:%H:%M} {t:%Z}"


def format_clock(moment: datetime | str) -> str:
    """'14:05 CET': a time on the same day, such as the end of a lease."""
    return f"{local(moment):%H:%M %Z}"


def reader_language(context: Context) -> str:
    """The language the page speaks to this request's reader: the page's own `lang` where its handler
    chose one (the portal's language switch), else Accept-Language."""
    if context.get("lang"):
        return str(context["lang"])
    request: Any = context.get("request")
    return preferred_language(request.headers.get("accept-language") if request is not None else None)


@pass_context
def _moment_filter(context: Context, moment: datetime | str | None) -> str:
    return "—" if moment is None else format_moment(moment, reader_language(context))


def _clock_filter(moment: datetime | str | None) -> str:
    return "—" if moment is None else format_clock(moment)


def add_time_filters(engine: JinjaTemplateEngine) -> None:
    """TemplateConfig's engine_callback: `{{ t | moment }}` and `{{ t | clock }}` in the templates."""
    engine.engine.filters["moment"] = _moment_filter
    engine.engine.filters["clock"] = _clock_filter
