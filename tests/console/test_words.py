"""The console's pages say codes in words from the message catalogs, in the reader's language: no
`suspected_fraud` or `smart_meter_1p` on a screen, and a check's fix in the page's language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from backend.console.sessions import open_session
from backend.principal import Principal, Role
from tests.factories import Factory
from tests.helpers.review import case_id_of, set_case
from tests.mobile_api.helpers import ready_install, submit, upload

CODES = (
    "suspected_fraud",
    "label_qr",
    "smart_meter_1p",
    "in_review",
    "meter_label",
    "|fail|",
    "install.submitted",
    "(customer)",
)


def _visible(html: str) -> str:
    """The page's text as a reader sees it: tags and attribute values left out."""
    return re.sub(r"<[^>]*>", "|", html)


@pytest.fixture
async def wrong_label_case(client: httpx.AsyncClient, make: Factory) -> tuple[int, dict[str, str]]:
    """A case escalated as suspected fraud (the label of another asset in the photo) and a session."""
    _, other = await make.asset()
    d = await ready_install(client, make, skip=("meter_label",))
    r = await upload(client, d, "meter_label", make.photo("meter_label", payload=other))
    assert r.status_code == 201, r.text
    assert (await submit(client, d)).json()["state"] == "in_review"
    case_id = await case_id_of(d.id)
    await set_case(case_id, due_at=datetime(2001, 1, 1, tzinfo=UTC))  # first in the queue
    now = datetime.now(UTC)
    cookie = await open_session(
        Principal(make.party(Role.SPECIALIST).subject, Role.SPECIALIST), now, now + timedelta(hours=1)
    )
    return case_id, {"Cookie": f"si_console={cookie}"}


class TestCodesInWords:
    async def test_the_case_and_the_queue_in_dutch(
        self, client: httpx.AsyncClient, wrong_label_case: tuple[int, dict[str, str]]
    ) -> None:
        case_id, headers = wrong_label_case
        case = _visible((await client.get(f"/console/cases/{case_id}", headers=headers)).text)
        queue = _visible((await client.get("/console/queue", headers=headers)).text)
        assert [c for c in CODES if c in case or c in queue] == []
        assert "vermoeden van fraude" in case and "vermoeden van fraude" in queue
        assert "QR-label" in case and "mislukt" in case and "bij een specialist" in case
        assert "|verstuurd|" in case and "(klant)" in case  # the history: what happened, and who
        assert "|escalatie|" in case and "|escalatie|" in queue  # the kind of case (console words)
        assert "Het label op de foto hoort bij een ander apparaat dan het gescande." in case  # not fix_en

    async def test_the_case_in_english_for_an_english_reader(
        self, client: httpx.AsyncClient, wrong_label_case: tuple[int, dict[str, str]]
    ) -> None:
        case_id, headers = wrong_label_case
        page = await client.get(f"/console/cases/{case_id}", headers={**headers, "Accept-Language": "en"})
        case = _visible(page.text)
        assert "suspected fraud" in case and "QR label" in case and "failed" in case and "|escalation|" in case
        assert "The label in the photo belongs to another asset than the one scanned." in case
        # The page's own words too: headings, labels, buttons, table headers; and its lang attribute.
        assert '<html lang="en">' in page.text
        assert "|What the automatic check found|" in case and "|History and decisions|" in case
        assert "|Attempt|" in case and "|Outcome|" in case and "|Queue|" in case
        assert [w for w in ("Zaak", "Poging", "Wachtrij", "Geschiedenis", "Kaart", "Afmelden") if w in case] == []

    async def test_the_pages_own_words_in_dutch_by_default(
        self, client: httpx.AsyncClient, wrong_label_case: tuple[int, dict[str, str]]
    ) -> None:
        case_id, headers = wrong_label_case
        page = await client.get(f"/console/cases/{case_id}", headers=headers)
        assert '<html lang="nl">' in page.text
        case = _visible(page.text)
        assert "|Wat de automatische controle vond|" in case and "|Poging|" in case and "|Wachtrij|" in case
