"""The queue's counts are kept by triggers and stay exact; its pages are one keyset range (issue 11)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx

from backend.installs.tables import Connection, Install
from backend.review import repository as repo
from backend.review import service
from backend.review.tables import ReviewCase
from tests.factories import new_ean

_REASONS = ("suspected_fraud", "uncertain", "complexity", "approval_required", "human_requested")
_KINDS = ("escalation", "escalation", "qa_sample", "device_silent")


async def _installs(n: int) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    await Connection.insert(
        Connection(
            ean=new_ean(), street="Teststraat", house_number=1, postcode="6811AL", city="Arnhem", lat=51.9,
            lon=5.9, capacity="1x35A", created_at=now,
        )
    )  # fmt: skip
    connection = (await Connection.select(Connection.id).order_by(Connection.id, ascending=False).first())["id"]
    ids = [uuid.uuid4() for _ in range(n)]
    await Install.insert(
        *[
            Install(
                id=i, connection=connection, asset_type="smart_meter_1p", state="in_review", created_by="t",
                created_by_role="customer", request_hash="x", created_at=now, updated_at=now,
            )
            for i in ids
        ]
    )  # fmt: skip
    return ids


def _case_row(install: uuid.UUID, kind: str, state: str, reasons: list[str], due: datetime, risk: int, city: str):
    return {
        "install": install,
        "kind": kind,
        "state": state,
        "reasons": reasons,
        "reason_tags": f",{','.join(reasons)},",
        "risk": risk,
        "due_at": due,
        "asset_type": "smart_meter_1p",
        "municipality": city,
        "opened_at": due - timedelta(hours=2),
    }


async def _recount() -> dict[tuple[str, str], int]:
    """What the counters must say: every open case read and counted in Python."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in await ReviewCase.select(ReviewCase.kind, ReviewCase.reasons, ReviewCase.state).output(load_json=True):
        if row["state"] == "open":
            counts[(row["kind"], "")] += 1
            for reason in set(row["reasons"]):
                counts[(row["kind"], reason)] += 1
    return dict(counts)


def _nonzero(counts: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    return {key: n for key, n in counts.items() if n}


class TestQueueCounts:
    async def test_exact_after_a_mix_of_changes(self, client: httpx.AsyncClient) -> None:
        rng = random.Random(7)
        city = f"Scale-{uuid.uuid4().hex[:6]}"
        now = datetime.now(UTC)
        before = _nonzero(await repo.queue_counts())
        assert before == _nonzero(await _recount())
        cases: list[int] = []
        for install in await _installs(40):
            kind = rng.choice(_KINDS)
            reasons = rng.sample(_REASONS, rng.randint(0, 3))
            row = _case_row(install, kind, rng.choice(("open", "open", "closed")), reasons, now, 10, city)
            if rng.random() < 0.5:
                await repo.insert_case(row)
            else:
                assert await repo.insert_case_once(row) is not None
                assert await repo.insert_case_once(row) is None  # the conflict inserts nothing, counts nothing
            case = await repo.case_of_install(install, kind)
            assert case is not None
            cases.append(case.id)
        changed = Counter()
        for _ in range(150):
            case = await repo.case_by_id(rng.choice(cases))
            assert case is not None
            move = rng.choice(("close", "reopen", "reasons", "kind", "claim", "other", "wait"))
            if move == "close":
                values = {"state": "closed", "closed_at": now}
            elif move == "reopen":
                values = {"state": "open", "reasons": rng.sample(_REASONS, rng.randint(1, 3))}
            elif move == "reasons":  # while open or not: only open cases count
                values = {"reasons": rng.sample(_REASONS, rng.randint(0, 3))}
            elif move == "kind":
                values = {"kind": rng.choice(_KINDS), "install": (await _installs(1))[0]}
            elif move == "wait":
                values = {"state": "waiting_customer"}
            elif move == "claim":
                await repo.try_claim(case.id, "spec", now, now + timedelta(minutes=30))  # no counted column
                continue
            else:
                values = {"risk": rng.randrange(100), "approvals": ["spec"]}  # no counted column
            assert await repo.update_case(case.id, case.version, values) is not None
            changed[move] += 1
        gone = cases[:5]
        await ReviewCase.delete().where(ReviewCase.id.is_in(gone))
        assert changed["close"] and changed["reopen"] and changed["reasons"] and changed["kind"]
        assert _nonzero(await repo.queue_counts()) == _nonzero(await _recount())

    async def test_page_counts_are_the_recount(self, client: httpx.AsyncClient) -> None:
        page = await service.queue(5, None, None, None, None, datetime.now(UTC))
        recount = await _recount()
        assert page.depth == sum(n for (_, reason), n in recount.items() if not reason)
        for reason, n in page.counts.items():
            assert n == recount.get(("escalation", reason), 0), reason
        open_rows = await ReviewCase.select(ReviewCase.opened_at).where(ReviewCase.state == "open")
        assert page.oldest_opened_at == min((r["opened_at"] for r in open_rows), default=None)


class TestKeysetPages:
    async def test_pages_follow_due_then_risk_then_id_through_ties(self, client: httpx.AsyncClient) -> None:
        rng = random.Random(3)
        city = f"Keyset-{uuid.uuid4().hex[:6]}"
        due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        for install in await _installs(37):  # three due times and three risks: many exact ties
            at = due + timedelta(minutes=rng.choice((0, 0, 5, 9)))
            state = "open" if rng.random() < 0.85 else "closed"
            await repo.insert_case(
                _case_row(install, "escalation", state, ["uncertain"], at, rng.choice((0, 20, 100)), city)
            )
        expected = sorted(
            (c for c in await ReviewCase.select().where(ReviewCase.municipality == city) if c["state"] == "open"),
            key=lambda c: (c["due_at"], -c["risk"], c["id"]),
        )
        seen: list[int] = []
        after = None
        for _ in range(20):
            page = await service.queue(4, after, None, None, city, datetime.now(UTC))
            seen += [c.id for c in page.cases]
            after = page.next_after
            if after is None:
                break
        assert seen == [c["id"] for c in expected]
        assert len(seen) > 20
