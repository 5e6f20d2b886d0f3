"""Charts drawn on the server as inline SVG: no script, no chart library, nothing from another origin
(the console's CSP allows neither). Colours come from console.css by class, so no `style` attribute.

Each chart is an `<svg role="img">` whose `<title>` and `<desc>` say what it shows and every number in
it, so a screen reader hears the figures; the page prints the same numbers as text beside it. Every text
in it is escaped here, so a page may insert it as it is (`| safe`, like svgmap's map). Numbers and the
chart's own words are in the reader's language (`lang`); the labels come worded."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from backend.i18n import N_, translate

WIDTH = 640
_DUTCH_DIGITS = str.maketrans(",.", ".,")  # 1,234.5 as a Dutch reader writes it: 1.234,5
_NO_DATA = N_("no data")
ROW = 26  # height of one bar's row
LABEL_W = 300  # the labels' column (the longest words: "steekproef van een automatische goedkeuring")
VALUE_W = 70  # the numbers' column after the longest bar


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar: what it counts, its value, and how the number is written (`text`; the value otherwise)."""

    label: str
    value: float
    text: str = ""
    tone: str = ""  # a CSS class: good, warn, bad (neutral without)

    def said(self, lang: str) -> str:
        return self.text or number(self.value, lang)


def number(value: float, lang: str) -> str:
    """1.234 for a whole number, 3,5 otherwise in Dutch; 1,234 and 3.5 in English."""
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"
    return text.translate(_DUTCH_DIGITS) if lang == "nl" else text


def _frame(chart_id: str, title: str, bars: Sequence[Bar], height: int, body: str, lang: str) -> str:
    desc = "; ".join(f"{b.label}: {b.said(lang)}" for b in bars) or translate(lang, _NO_DATA)
    return (
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title><desc id="{escape(chart_id)}-d">{escape(desc)}</desc>'
        f"{body}</svg>"
    )


def bar_chart(chart_id: str, title: str, bars: Sequence[Bar], lang: str) -> str:
    """Horizontal bars on one scale (the largest value fills the width), a label and a number each."""
    top = max((b.value for b in bars), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    rows = []
    for i, bar in enumerate(bars):
        y = i * ROW
        length = max(0.0, bar.value) / top * span
        rows.append(
            f'<text class="lbl" x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="bar {escape(bar.tone)}" x="{LABEL_W}" y="{y + 5}" width="{length:.1f}" height="{ROW - 10}"/>'
            f'<text class="num" x="{LABEL_W + length + 6:.1f}" y="{y + 17}">{escape(bar.said(lang))}</text>'
        )
    if not bars:
        rows.append(f'<text class="lbl" x="0" y="17">{escape(translate(lang, _NO_DATA))}</text>')
    return _frame(chart_id, title, bars, max(1, len(bars)) * ROW, "".join(rows), lang)


def share_chart(chart_id: str, title: str, parts: Sequence[Bar], lang: str) -> str:
    """One bar of 100 %, split into the parts' shares, with a legend line per part (count and share)."""
    whole = sum(max(0.0, p.value) for p in parts)
    x, segments, legend = 0.0, [], []
    for i, part in enumerate(parts):
        share = max(0.0, part.value) / whole if whole else 0.0
        width = share * WIDTH
        segments.append(f'<rect class="bar {escape(part.tone)}" x="{x:.1f}" y="0" width="{width:.1f}" height="{ROW}"/>')
        x += width
        y = ROW + 8 + i * 20
        legend.append(
            f'<rect class="bar {escape(part.tone)}" x="0" y="{y + 3}" width="12" height="12"/>'
            f'<text class="lbl" x="18" y="{y + 13}">{escape(part.label)}: {escape(part.said(lang))} '
            f"({percent(share, lang)})</text>"
        )
    if not whole:
        segments = [f'<rect class="bar empty" x="0" y="0" width="{WIDTH}" height="{ROW}"/>']
    return _frame(chart_id, title, parts, ROW + 12 + 20 * len(parts), "".join(segments + legend), lang)


def percent(share: float, lang: str) -> str:
    """A share: 12,5 % in Dutch, 12.5 % in English."""
    text = f"{share * 100:.1f} %"
    return text.translate(_DUTCH_DIGITS) if lang == "nl" else text
