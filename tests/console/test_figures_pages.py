"""The operators' figures as server-drawn SVG (the same snapshot as /metrics, numbers also as text), the
chart helper itself, and the catalog and policy versions in force (issue 13)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from httpx import AsyncClient

from backend.console.charts import Bar, bar_chart, share_chart
from backend.installs.catalog import load_catalog
from backend.principal import Role
from backend.review.config import load_review_config
from backend.validation.results import Reason
from tests.console.helpers import console_headers
from tests.factories import Factory
from tests.helpers.review import case_id_of, helped, set_case
from tests.mobile_api.helpers import new_install
from tests.test_metrics import scrape, value


def _desc(page: str, chart_id: str) -> str:
    match = re.search(rf'<desc id="{chart_id}-d">([^<]*)</desc>', page)
    assert match is not None, chart_id
    return match.group(1)


class TestCharts:
    def test_bars_share_one_scale_and_say_their_numbers(self) -> None:
        svg = bar_chart("c", "Twee", [Bar("veel", 10), Bar("half", 5)], "nl")
        widths = [float(w) for w in re.findall(r'<rect class="bar " x="\d+" y="\d+" width="([\d.]+)"', svg)]
        assert widths[0] == 2 * widths[1] > 0
        assert '<desc id="c-d">veel: 10; half: 5</desc>' in svg and 'role="img"' in svg
        assert "style=" not in svg and "<script" not in svg  # the console's CSP allows neither

    def test_labels_are_escaped(self) -> None:
        svg = bar_chart("c", "<b>", [Bar("<script>alert(1)</script>", 1)], "nl")
        assert "<script>" not in svg and "&lt;script&gt;" in svg

    def test_shares_add_up_and_nothing_to_share_is_drawn_empty(self) -> None:
        svg = share_chart("s", "Deel", [Bar("ja", 3, tone="good"), Bar("nee", 1, tone="bad")], "nl")
        assert "ja: 3 (75,0 %)" in svg and "nee: 1 (25,0 %)" in svg
        assert 'class="bar empty"' in share_chart("s", "Leeg", [Bar("ja", 0)], "nl")
        english = share_chart("s", "Share", [Bar("yes", 1234.5), Bar("no", 1234.5)], "en")
        assert "yes: 1,234.5 (50.0 %)" in english and "no: 1,234.5 (50.0 %)" in english

    def test_no_bars(self) -> None:
        assert "geen gegevens" in bar_chart("c", "Niets", [], "nl")
        assert "no data" in bar_chart("c", "Nothing", [], "en")


class TestFiguresPage:
    async def test_the_figures_match_metrics(self, client: AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        await helped(client, d)
        await set_case(await case_id_of(d.id), due_at=datetime.now(UTC) - timedelta(hours=1))
        headers = await console_headers(client, make, Role.ADMIN)
        page = await client.get("/console/figures", headers=headers)
        samples = await scrape(client)
        assert page.status_code == 200, page.text
        overdue = value(samples, "selfinstall_review_overdue_cases", kind="escalation")
        sum_overdue = sum(v for (n, _), v in samples.items() if n == "selfinstall_review_overdue_cases")
        assert overdue >= 1 and f"escalatie: {overdue:.0f}" in _desc(page.text, "chart-sla")
        human = value(samples, "selfinstall_escalations_total", reason=Reason.HUMAN_REQUESTED.value)
        assert f"klant vroeg om een medewerker: {human:.0f}" in _desc(page.text, "chart-by-reason")
        for chart in ("chart-auto-approval", "chart-queue-open", "chart-queue-waiting", "chart-devices"):
            assert f'<svg class="chart" id="{chart}" role="img"' in page.text
        assert f"Open zaken over hun termijn: {sum_overdue:.0f}." in page.text
        for code in ("human_requested", "escalation", "needs_retake"):
            assert code not in page.text, page.text[page.text.find(code) - 200 : page.text.find(code) + 50]
        await set_case(await case_id_of(d.id), due_at=datetime.now(UTC) + timedelta(days=30))  # out of the way

    async def test_the_auto_approval_share_in_words(self, client: AsyncClient, make: Factory) -> None:
        page = await client.get("/console/figures", headers=await console_headers(client, make, Role.ADMIN))
        samples = await scrape(client)
        outcomes = {
            o: value(samples, "selfinstall_automatic_decisions_total", outcome=o)
            for o in ("approved", "needs_retake", "in_review")
        }
        desc = _desc(page.text, "chart-auto-approval")
        assert f"goedgekeurd: {outcomes['approved']:.0f}" in desc
        assert f"naar een specialist: {outcomes['in_review']:.0f}" in desc
        assert "Aandeel automatisch goedgekeurd:" in page.text

    async def test_the_figures_in_english_for_an_english_reader(self, client: AsyncClient, make: Factory) -> None:
        headers = {**await console_headers(client, make, Role.ADMIN), "Accept-Language": "en"}
        page = await client.get("/console/figures", headers=headers)
        assert page.status_code == 200, page.text
        assert "Share approved automatically:" in page.text and "Escalations by reason" in page.text
        assert "Aandeel" not in page.text and "Escalaties" not in page.text and "Cijfers" not in page.text


class TestSettingsPage:
    async def test_versions_and_values_in_force(self, client: AsyncClient, make: Factory) -> None:
        page = await client.get("/console/settings", headers=await console_headers(client, make, Role.ADMIN))
        assert page.status_code == 200, page.text
        catalog, review = load_catalog(), load_review_config()
        assert f'<dd id="catalog-version">{catalog.version}</dd>' in page.text
        assert f'<dd id="review-version">{review.version}</dd>' in page.text
        assert re.search(r'<dd id="policy-version">\d{4}\.\d+\.\d+</dd>', page.text)
        assert "slimme meter (1-fase)" in page.text and "<code>min_sharpness</code>" in page.text
        assert "vermoeden van fraude</td><td>2</td>" in page.text  # the SLA in working hours
        assert "<code>min_sharpness</code></td><td>0,31</td>" in page.text and ">False<" not in page.text
        assert "suspected_fraud" not in page.text and "smart_meter_1p" not in page.text

    async def test_the_settings_in_english_for_an_english_reader(self, client: AsyncClient, make: Factory) -> None:
        headers = {**await console_headers(client, make, Role.ADMIN), "Accept-Language": "en"}
        page = await client.get("/console/settings", headers=headers)
        assert page.status_code == 200, page.text
        assert "<code>min_sharpness</code></td><td>0.31</td>" in page.text and "Mon, " in page.text
        assert "suspected fraud</td><td>2</td>" in page.text and "Asset types" in page.text
        assert "slimme meter" not in page.text and "ma, " not in page.text and "Apparaattypen" not in page.text
