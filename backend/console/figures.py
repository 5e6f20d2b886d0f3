"""/console/figures: the figures an operator steers by, as server-drawn SVG charts with the numbers as
text. They are read from the snapshot /metrics serves (backend/metrics.py DomainSnapshot): counts the
database keeps cheaply (trigger-kept queue counts, partial indexes), read at most every
METRICS_REFRESH_S per worker however often the page is opened."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.response import Template
from prometheus_client.core import Metric

from backend.console.access import HANDLERS, StaffSession, staff
from backend.console.charts import Bar, bar_chart, number, percent, share_chart
from backend.console.said import reader
from backend.console.words import DEVICE_REPORT_WORDS, KIND_WORDS, OUTCOME_WORDS, WAITING_WORDS
from backend.i18n import N_, translate
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF
from backend.principal import Principal, Role

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


def _bars(counts: dict[str, float], words: dict[str, str], lang: str, tone: str = "") -> list[Bar]:
    return [Bar(translate(lang, words[key]), counts.get(key, 0), tone=tone) for key in words]


def charts(figures: Figures, lang: str) -> list[dict[str, Any]]:
    """Each chart with its heading and its numbers in words (shown beside it, for every reader), in `lang`."""
    said = partial(translate, lang)
    outcomes = figures.by("selfinstall_automatic_decisions_total")
    decided = sum(outcomes.values())
    approved_share = outcomes.get("approved", 0) / decided if decided else None
    escalations = _bars(figures.by("selfinstall_escalations_total"), REASON_TEXT_FOR_STAFF, lang)
    waiting = _bars(figures.by("selfinstall_review_waiting_cases"), WAITING_WORDS, lang, "warn")
    open_cases = _bars(figures.by("selfinstall_review_open_cases"), KIND_WORDS, lang)
    overdue = _bars(figures.by("selfinstall_review_overdue_cases"), KIND_WORDS, lang, "bad")
    approved = figures.by("selfinstall_installs").get("approved", 0)
    confirmed = figures.one("selfinstall_device_confirmed_installs")
    devices = [Bar(said(N_("confirmed by the device")), confirmed, tone="good")]
    devices.append(Bar(said(N_("approved, not confirmed yet")), max(0.0, approved - confirmed), tone="warn"))
    oldest_s = figures.one("selfinstall_review_oldest_case_age_seconds")
    oldest = (
        said(N_("{hours} hours"), hours=number(round(oldest_s / 3600, 1), lang))
        if oldest_s >= 3600
        else said(N_("{minutes} minutes"), minutes=f"{oldest_s // 60:.0f}")
    )
    rate = said(N_("none yet")) if approved_share is None else percent(approved_share, lang)
    return [
        _chart(
            "auto-approval",
            said(N_("Approved automatically")),
            said(
                N_("Share approved automatically: {rate} of {count} automatic decisions."),
                rate=rate,
                count=number(decided, lang),
            ),
            share_chart(
                "chart-auto-approval",
                said(N_("Automatic decisions by outcome")),
                [Bar(said(OUTCOME_WORDS[o]), outcomes.get(o, 0), tone=t) for o, t in _OUTCOME_TONES.items()],
                lang,
            ),
        ),
        _chart(
            "by-reason",
            said(N_("Escalations by reason")),
            said(
                N_("Escalations since the start: {count} (counted per reason)."),
                count=number(sum(b.value for b in escalations), lang),
            ),
            bar_chart("chart-by-reason", said(N_("Escalations by reason")), escalations, lang),
        ),
        _chart(
            "queue-age",
            said(N_("Queue and waiting time")),
            said(
                N_("Open cases: {count}; the oldest has waited {age}."),
                count=number(sum(b.value for b in open_cases), lang),
                age=oldest,
            )
            if oldest_s
            else said(N_("No open cases.")),
            bar_chart("chart-queue-open", said(N_("Open cases by kind")), open_cases, lang)
            + bar_chart("chart-queue-waiting", said(N_("Open cases that have waited long")), waiting, lang),
        ),
        _chart(
            "sla",
            said(N_("Past the term (SLA)")),
            said(N_("Open cases past their term: {count}."), count=number(sum(b.value for b in overdue), lang)),
            bar_chart("chart-sla", said(N_("Open cases past their term, by kind")), overdue, lang),
        ),
        _chart(
            "devices",
            said(N_("Confirmation by the device")),
            said(
                N_("Confirmed by the device itself: {confirmed} of {approved} approved installs."),
                confirmed=number(confirmed, lang),
                approved=number(approved, lang),
            ),
            share_chart("chart-devices", said(N_("Approved installs and their device")), devices, lang)
            + bar_chart(
                "chart-device-reports",
                said(N_("Device reports by outcome")),
                _bars(figures.by("selfinstall_device_reports_total"), DEVICE_REPORT_WORDS, lang),
                lang,
            ),
        ),
    ]


def _chart(key: str, heading: str, summary: str, svg: str) -> dict[str, Any]:
    return {"key": key, "heading": heading, "summary": summary, "svg": svg}


class FiguresController(Controller):
    path = "/console/figures"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.ADMIN)]

    @get("/")
    async def figures(self, request: Request[Principal, Any, Any], state: State) -> Template:
        """The operator's figures as charts."""
        who = request.user
        families, age = await state.metrics.current()
        return Template(
            "figures.html",
            context={
                "who": who,
                "flash": None,
                "charts": charts(Figures(families), reader(request)),
                "age": None if age is None else round(age),
            },
        )
