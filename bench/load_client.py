"""The simulated phones of the load bench: the mobile app's whole flow, 503s retried as the app does,
and what every step cost them.

Each request is timed twice: the attempt the service admitted (what the server took), and from the
first attempt to the answer, the waits for 503 + Retry-After included (what the phone's user waited).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.load_setup import ASSET_TYPE, SLOTS, Customer, PhotoSet, gps_fix, photo_time

STEPS = ("create", "scan", "location", "reading", "upload", "submit", "view")
GIVE_UP_S = 120.0  # a request still refused after this long counts an error (the app would tell its user)
BASE = "/mobile/v1/installs"
_jpeg = {"Content-Type": "image/jpeg"}


@dataclass
class Tally:
    """What the clients saw."""

    admitted: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # step -> s
    waited: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # 503 waits included
    busy: Counter[str] = field(default_factory=Counter)  # 503s + Retry-After by step, retried
    busy_codes: Counter[str] = field(default_factory=Counter)  # the same by problem code
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)  # errors by step
    outcomes: Counter[str] = field(default_factory=Counter)
    deferred_s: list[float] = field(default_factory=list)  # per request refused at least once: time until admitted
    flow_s: list[float] = field(default_factory=list)  # whole flows, retries included

    @property
    def upload_s(self) -> list[float]:
        return self.admitted["upload"]

    @property
    def answered(self) -> int:
        """Requests answered other than 503 busy: the work the service did."""
        return sum(len(v) for v in self.admitted.values()) + sum(self.failed.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500) - sum(self.busy.values())


class Recorder:
    """Where the phones write: whoever runs them may switch `tally` (warm-up, measured window, drain);
    a request or a flow is counted in the tally that is current when it ends."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally


def p(values: list[float], pct: int) -> float:
    """The pct-th percentile (inclusive), nan for no values."""
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan: nothing measured
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


async def _call(
    client: httpx.AsyncClient, rec: Recorder, step: str, method: str, url: str, expect: tuple[int, ...], **kw: Any
) -> httpx.Response | None:
    """One request of the app, retried on 503 + Retry-After; None (an error) on anything unexpected."""
    first, refused = time.perf_counter(), False
    while time.perf_counter() - first < GIVE_UP_S:
        started = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            rec.tally.errors.append(f"{method} {url}: {exc!r}")
            rec.tally.failed[step] += 1
            return None
        ended = time.perf_counter()
        tally = rec.tally
        tally.statuses[r.status_code] += 1
        if r.status_code == 503 and r.headers.get("retry-after", "").isdigit():
            tally.busy[step] += 1
            tally.busy_codes[_code(r)] += 1
            refused = True
            await asyncio.sleep(int(r.headers["retry-after"]) * random.uniform(1.0, 1.5))
            continue
        if r.status_code not in expect:
            tally.errors.append(f"{method} {url}: {r.status_code} {r.text[:200]}")
            tally.failed[step] += 1
            return None
        tally.admitted[step].append(ended - started)
        tally.waited[step].append(ended - first)
        if refused:
            tally.deferred_s.append(started - first)
        return r
    rec.tally.errors.append(f"{method} {url}: still refused after {GIVE_UP_S:.0f} s")
    rec.tally.failed[step] += 1
    return None


def _code(r: httpx.Response) -> str:
    try:
        return str(r.json().get("code", "?"))
    except ValueError:
        return "?"


async def flow(client: httpx.AsyncClient, rec: Recorder, who: Customer, photos: PhotoSet) -> bool:
    """The mobile app's happy path, start to end; False once a step failed."""
    begun, started = time.perf_counter(), photo_time()
    install_id = str(uuid.uuid4())
    url = f"{BASE}/{install_id}"
    fix = gps_fix(started)
    body = {"id": install_id, "connection_ean": who.ean, "asset_type": ASSET_TYPE, "started_at": started.isoformat()}
    steps: list[tuple[str, str, str, tuple[int, ...], dict[str, Any]]] = [
        ("create", "POST", BASE, (200, 201), {"json": body}),
        ("scan", "POST", f"{url}/scan", (200,), {"json": {"payload": who.payload}}),
        ("location", "POST", f"{url}/location", (200,), {"json": fix}),
        ("reading", "POST", f"{url}/reading", (200,), {"json": {"value": 4512.7}}),
        *(
            ("upload", "PUT", f"{url}/photos/{slot}", (200, 201), {"content": photos.of(slot), "headers": _jpeg})
            for slot in SLOTS
        ),
        ("submit", "POST", f"{url}/submit", (200,), {}),
    ]
    for step, method, path, expect, kw in steps:
        if await _call(client, rec, step, method, path, expect, **kw) is None:
            return False
    view = await _call(client, rec, "view", "GET", url, (200,))
    if view is None:
        return False
    rec.tally.outcomes[view.json()["state"]] += 1
    rec.tally.flow_s.append(time.perf_counter() - begun)
    return True


# httpx builds a TLS context (the CA bundle, ~20 ms of CPU) for every client unless given one: 49
# phones starting together blocked this event loop for ~1 s while the first phones' requests were
# being timed (a create p99 of ~850 ms that the server never saw; its access log said <= 83 ms).
_TLS = httpx.create_ssl_context()


def client_for(url: str, who: Customer) -> httpx.AsyncClient:
    """One connection per phone; a request that hangs for minutes is an error, not a slow answer."""
    return httpx.AsyncClient(
        base_url=url,
        verify=_TLS,
        headers={"Authorization": f"Bearer {who.token}", "Accept-Language": "en"},
        timeout=GIVE_UP_S,
        limits=httpx.Limits(max_connections=1),
    )


async def phone(
    url: str,
    rec: Recorder,
    who: Customer,
    sets: Iterator[PhotoSet],
    until: float,
    client: httpx.AsyncClient | None = None,
) -> None:
    """One phone doing flow after flow without pauses until `until` (time.monotonic); on `client` when
    given (made before the clock starts, and kept open by its owner), else on a client of its own."""
    if client is not None:
        while time.monotonic() < until:
            await flow(client, rec, who, next(sets))
        return
    async with client_for(url, who) as own:
        while time.monotonic() < until:
            await flow(own, rec, who, next(sets))


async def alone(url: str, who: Customer, sets: list[PhotoSet], tally: Tally) -> None:
    """One phone alone: a flow per photo set."""
    rec = Recorder(tally)
    async with client_for(url, who) as client:
        for photos in sets:
            await flow(client, rec, who, photos)


def steps_line(t: Tally) -> str:
    """Each step's admitted p50/p99 and 503 count, and the upload as its phone waited for it."""
    parts = []
    for step in STEPS:
        a = t.admitted[step]
        fails = f", {t.failed[step]} errors" if t.failed[step] else ""
        parts.append(f"{step} {ms(statistics.median(a)) if a else '-'}/{ms(p(a, 99))} (503 {t.busy[step]}{fails})")
    w = t.waited["upload"]
    return (
        "steps p50/p99 of the admitted attempt: "
        + ", ".join(parts)
        + f"; an upload as its phone waited (first attempt to the answer, 503 retries included): "
        f"p50 {ms(statistics.median(w)) if w else '-'} p99 {ms(p(w, 99))}"
    )
