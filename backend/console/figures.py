"""/console/figures: the figures an operator steers by, as server-drawn SVG charts with the numbers as
text. They are read from the snapshot /metrics serves (backend/metrics.py DomainSnapshot): counts the
database keeps cheaply (trigger-kept queue counts, partial indexes), read at most every
METRICS_REFRESH_S per worker however often the page is opened."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.response import Template
from prometheus_client.core import Metric

from backend.console.access import HANDLERS, require
from backend.console.charts import Bar, bar_chart, number, percent, share_chart
from backend.console.said import LANG
from backend.console.words import DEVICE_REPORT_WORDS, KIND_WORDS, OUTCOME_WORDS, WAITING_WORDS
from backend.i18n import translate
from backend.installs.context import InstallContext
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF
from backend.principal import Role

_OUTCOME_TONES = {"approved": "good", "needs_retake": "warn", "in_review": "bad"}


class Figures:
    """The snapshot's families by name; a labelled family's samples by their one label's value."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = {f.name: f for f in families}

    def by(self, name: str) -> dict[str, float]:
        family = self._families.get(name.removesuffix("_total"))  # a counter's family drops the suffix
        if family is None:
            return {}
        return {next(iter(s.labels.values()), ""): s.value for s in family.samples if not s.name.endswith("_created")}

    def one(self, name: str) -> float:
        return next(iter(self.by(name).values()), 0.0)


def _bars(counts: dict[str, float], words: dict[str, str], tone: str = "") -> list[Bar]:
    return [Bar(translate(LANG, words[key]), counts.get(key, 0), tone=tone) for key in words]


def charts(figures: Figures) -> list[dict[str, Any]]:
    """Each chart with its heading and its numbers in words (shown beside it, for every reader)."""
    outcomes = figures.by("selfinstall_automatic_decisions_total")
    decided = sum(outcomes.values())
    approved_share = outcomes.get("approved", 0) / decided if decided else None
    escalations = _bars(figures.by("selfinstall_escalations_total"), REASON_TEXT_FOR_STAFF)
    waiting = _bars(figures.by("selfinstall_review_waiting_cases"), WAITING_WORDS, "warn")
    open_cases = _bars(figures.by("selfinstall_review_open_cases"), KIND_WORDS)
    overdue = _bars(figures.by("selfinstall_review_overdue_cases"), KIND_WORDS, "bad")
    approved = figures.by("selfinstall_installs").get("approved", 0)
    confirmed = figures.one("selfinstall_device_confirmed_installs")
    devices = [Bar("bevestigd door het apparaat", confirmed, tone="good")]
    devices.append(Bar("goedgekeurd, nog niet bevestigd", max(0.0, approved - confirmed), tone="warn"))
    oldest_s = figures.one("selfinstall_review_oldest_case_age_seconds")
    oldest = f"{number(round(oldest_s / 3600, 1))} uur" if oldest_s >= 3600 else f"{oldest_s // 60:.0f} minuten"
    rate = "nog geen" if approved_share is None else percent(approved_share)
    return [
        _chart(
            "auto-approval",
            "Automatisch goedgekeurd",
            f"Aandeel automatisch goedgekeurd: {rate} van {number(decided)} automatische besluiten.",
            share_chart(
                "chart-auto-approval",
                "Automatische besluiten naar uitkomst",
                [Bar(translate(LANG, OUTCOME_WORDS[o]), outcomes.get(o, 0), tone=t) for o, t in _OUTCOME_TONES.items()],
            ),
        ),
        _chart(
            "by-reason",
            "Escalaties naar reden",
            f"Escalaties sinds het begin: {number(sum(b.value for b in escalations))} (per reden geteld).",
            bar_chart("chart-by-reason", "Escalaties naar reden", escalations),
        ),
        _chart(
            "queue-age",
            "Wachtrij en wachttijd",
            f"Open zaken: {number(sum(b.value for b in open_cases))}; de oudste wacht {oldest}."
            if oldest_s
            else "Geen open zaken.",
            bar_chart("chart-queue-open", "Open zaken naar soort", open_cases)
            + bar_chart("chart-queue-waiting", "Open zaken die lang wachten", waiting),
        ),
        _chart(
            "sla",
            "Over de termijn (SLA)",
            f"Open zaken over hun termijn: {number(sum(b.value for b in overdue))}.",
            bar_chart("chart-sla", "Open zaken over hun termijn, naar soort", overdue),
        ),
        _chart(
            "devices",
            "Bevestiging door het apparaat",
            f"Bevestigd door het apparaat zelf: {number(confirmed)} van {number(approved)} goedgekeurde installaties.",
            share_chart("chart-devices", "Goedgekeurde installaties en hun apparaat", devices)
            + bar_chart(
                "chart-device-reports",
                "Apparaatmeldingen naar uitkomst",
                _bars(figures.by("selfinstall_device_reports_total"), DEVICE_REPORT_WORDS),
            ),
        ),
    ]


def _chart(key: str, heading: str, summary: str, svg: str) -> dict[str, Any]:
    return {"key": key, "heading": heading, "summary": summary, "svg": svg}


class FiguresController(Controller):
    path = "/console/figures"
    include_in_schema = False
    exception_handlers = HANDLERS

    @get("/")
    async def figures(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext]
    ) -> Template:
        """The operator's figures as charts."""
        who = await require(request, ctx, Role.ADMIN)
        families, age = await state.metrics.current()
        return Template(
            "figures.html",
            context={
                "who": who,
                "flash": None,
                "charts": charts(Figures(families)),
                "age": None if age is None else round(age),
            },
        )
