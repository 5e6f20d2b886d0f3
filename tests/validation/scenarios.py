"""Labelled install scenarios for the decision-quality suite, each played through HTTP on the real app.

A CLEAN scenario is an honest install that should be approved; a BAD one carries a fraud signal or an
evidence problem and must never be approved. Each ends in an outcome: approved, needs_retake,
in_review, or refused:<problem code> when the app refused a step outright.

Pictures are chosen by seed, derived from the scenario's name (and a salt): the reuse check compares
every photo with every other install's and flags a difference hash within 3 bits, which two distinct
generated label or display pictures reach about once in 2,500 pairs. The salts were picked offline,
once, so that no two of the suite's own pictures come within 8 bits (a label's random serial moves
its hash by at most 2): a run never trips over its own photos. A scenario added or renamed may need
a salt of its own; a stray "reuse" among the printed reasons says so.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import AsyncClient, Response

from backend.principal import Role
from tests.factories import ARNHEM, Factory
from tests.mobile_api.helpers import Draft, create, enter_reading, locate, scan, slots_of, submit, upload

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}
# Close-ups are held upright, as phones mostly are; the cabinet overview is taken sideways.
PORTRAIT = (1200, 1600)
FRAMING = {"meter_label": PORTRAIT, "meter_display": PORTRAIT, "device_label": PORTRAIT}
FIVE_KM_SOUTH = (ARNHEM[0] - 0.045, ARNHEM[1])  # towards Nijmegen, still inside the territory
AMSTERDAM = (52.37, 4.89)  # outside the demo territory
NEAR_EDGE = (51.95, 6.047)  # inside the territory, about 120 m from its eastern border
FRAUD = "suspected_fraud"
# Above the factory's per-call seeds (< 2**30), so no other test draws the same pictures.
SEED_BASE = 1 << 31


@dataclass(frozen=True)
class Result:
    outcome: str  # approved | needs_retake | in_review | refused:<code>
    reasons: tuple[str, ...]  # the install's reasons, then its failing checks ("check:subject=status")


Build = Callable[[AsyncClient, Factory, int], Awaitable[Result]]  # (client, make, seed)


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: str  # "clean" | "bad"
    build: Build
    expect: str = "approved"  # bad: the outcome the rules prescribe
    flag: str | None = None  # bad: the check that must catch it
    reason: str | None = None  # bad: the escalation reason it must carry
    salt: int = 0  # another set of pictures, where the first came too close to another scenario's

    @property
    def seed(self) -> int:
        return SEED_BASE + zlib.crc32(self.name.encode()) % 1_000_000 * 100 + 1000 * self.salt


class Refused(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code, self.detail = code, detail


def ok(r: Response) -> dict[str, Any]:
    """The body of a successful step; a problem answer ends the scenario as refused."""
    if 400 <= r.status_code < 500 and r.headers.get("content-type", "").startswith("application/problem+json"):
        raise Refused(r.json()["code"], r.json()["detail"])
    assert r.status_code in (200, 201), r.text
    return r.json()


async def gather(
    client: AsyncClient,
    make: Factory,
    asset_type: str = "smart_meter_1p",
    *,
    seed: int,
    role: Role = Role.CUSTOMER,
    capacity: str = "1x35A",
    at: tuple[float, float] = ARNHEM,
    fix_options: dict[str, Any] | None = None,
    asset: tuple[str, str] | None = None,
    reading: float | None = 4512.7,
    skip: tuple[str, ...] = (),
    every_photo: dict[str, Any] | None = None,
    photos: dict[str, dict[str, Any]] | None = None,
    who: Any = None,
    ean: str | None = None,
    create_extra: dict[str, Any] | None = None,
) -> Draft:
    """Create an install at `at` and gather its evidence; photos carry the EXIF GPS of the shared fix
    (at the connection unless `fix_options` say otherwise) and seeds `seed`, `seed + 1`, ...

    `photos` maps a slot to `make.photo` options (`data` uploads those bytes as they are; `fmt`
    also sets the content type; a timedelta `captured_at` counts from now); `every_photo` applies to all.
    """
    who = who or make.party(role)
    if ean is None:
        owner = who.subject if who.role is Role.CUSTOMER else None  # an installer's: from a job (create)
        ean = await make.connection(capacity=capacity, lat=at[0], lon=at[1], owner=owner)
    d = Draft(who=who, id="", ean=ean, asset_type=asset_type)
    d.id = ok(await create(client, who, ean, asset_type, **(create_extra or {})))["id"]
    d.serial, d.payload = asset or await make.asset(asset_type)
    ok(await scan(client, d, d.payload))
    fix = make.fix(**{"lat": at[0], "lon": at[1], **(fix_options or {})})
    ok(await locate(client, d, fix))
    if reading is not None and "meter_display" in slots_of(asset_type):
        ok(await enter_reading(client, d, reading))
    for i, slot in enumerate(slots_of(asset_type)):
        if slot in skip:
            continue
        options = {
            "payload": d.payload,
            "serial": d.serial,
            "gps": (fix["lat"], fix["lon"]),
            "seed": seed + i,
            "size": FRAMING.get(slot, (1600, 1200)),
            **(every_photo or {}),
            **(photos or {}).get(slot, {}),
        }
        if isinstance(options.get("captured_at"), timedelta):  # relative to now, the moment of the photo
            options["captured_at"] = datetime.now(UTC) + options["captured_at"]
        data = options.pop("data", None) or make.photo(slot, **options)
        ok(await upload(client, d, slot, data, CONTENT_TYPES[options.get("fmt", "JPEG")]))
    return d


async def finish(client: AsyncClient, d: Draft) -> Result:
    body = ok(await submit(client, d))
    if body["state"] == "needs_retake":  # every retake says what to do, in words
        fixable = [c for c in body["checks"] if c["status"] != "pass" and c["user_fixable"]]
        assert fixable and all(c["fix"] for c in fixable), body["checks"]
    return result_of_view(body)


def result_of_view(body: dict[str, Any]) -> Result:
    """An install view as a Result: its state, its reasons, then its failing checks."""
    failing = tuple(f"{c['check']}:{c['subject']}={c['status']}" for c in body["checks"] if c["status"] != "pass")
    return Result(body["state"], tuple(body["reasons"]) + failing)


async def approve(client: AsyncClient, d: Draft) -> None:
    """A premise of a scenario: this other install is approved."""
    result = await finish(client, d)
    assert result.outcome == "approved", f"premise failed: {result}"


async def play(s: Scenario, client: AsyncClient, make: Factory) -> Result:
    try:
        return await s.build(client, make, s.seed)
    except Refused as refused:
        return Result(f"refused:{refused.code}", (refused.detail,))


def forged(payload: str) -> str:
    """The same label text with a signature that is not ours."""
    head, signature = payload.rsplit(":", 1)
    return f"{head}:{'A' * 20 if signature != 'A' * 20 else 'B' * 20}"


def plain(
    kind: str,
    name: str,
    expect: str = "approved",
    flag: str | None = None,
    reason: str | None = None,
    asset_type: str = "smart_meter_1p",
    salt: int = 0,
    **gather_options: Any,
) -> Scenario:
    """One install that differs from the default only in the given evidence, submitted once."""

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        return await finish(client, await gather(client, make, asset_type, seed=seed, **gather_options))

    return Scenario(name, kind, build, expect, flag, reason, salt)


# --- clean -------------------------------------------------------------------------------------

CLEAN = [
    plain("clean", "customer 1p 1x25A", capacity="1x25A"),
    plain("clean", "customer 1p 1x35A png", every_photo={"fmt": "PNG"}),
    plain("clean", "customer 1p 1x40A heif", capacity="1x40A", every_photo={"fmt": "HEIF"}),
    plain(
        "clean", "customer 1p mixed formats", photos={"meter_label": {"fmt": "PNG"}, "meter_display": {"fmt": "HEIF"}}
    ),
    # Stored sideways with EXIF orientation 6, as most phones write an upright photo.
    plain("clean", "customer 1p label orientation 6", photos={"meter_label": {"orientation": 6}}),
    plain("clean", "customer 1p 12 MP label", photos={"meter_label": {"size": (3024, 4032)}}),
    plain("clean", "customer 1p near territory edge", at=NEAR_EDGE),
    plain("clean", "installer 1p 1x35A", role=Role.INSTALLER),
    plain("clean", "customer battery 1x40A", asset_type="home_battery", capacity="1x40A"),
    plain("clean", "installer battery 3x25A", asset_type="home_battery", role=Role.INSTALLER, capacity="3x25A"),
]


# --- bad ---------------------------------------------------------------------------------------


async def wrong_label(client: AsyncClient, make: Factory, seed: int) -> Result:
    _, other = await make.asset()
    return await finish(client, await gather(client, make, seed=seed, photos={"meter_label": {"payload": other}}))


async def forged_label_in_photo(client: AsyncClient, make: Factory, seed: int) -> Result:
    serial, payload = await make.asset()
    d = await gather(
        client, make, seed=seed, asset=(serial, payload), photos={"meter_label": {"payload": forged(payload)}}
    )
    return await finish(client, d)


async def forged_label_scanned(client: AsyncClient, make: Factory, seed: int) -> Result:
    serial, payload = await make.asset()
    return await finish(client, await gather(client, make, seed=seed, asset=(serial, forged(payload))))


async def label_of_installed_asset(client: AsyncClient, make: Factory, seed: int) -> Result:
    first = await gather(client, make, seed=seed)
    await approve(client, first)
    return await finish(client, await gather(client, make, seed=seed + 10, asset=(first.serial, first.payload)))


async def installed_elsewhere_before_submit(client: AsyncClient, make: Factory, seed: int) -> Result:
    mine = await gather(client, make, seed=seed)  # scanned while the asset was still in stock
    other = await gather(client, make, seed=seed + 10, asset=(mine.serial, mine.payload))
    await approve(client, other)
    return await finish(client, mine)


async def reused_photo(client: AsyncClient, make: Factory, seed: int) -> Result:
    shared = {"cabinet_overview": {"data": make.photo("cabinet_overview", seed=seed + 50)}}
    await gather(client, make, seed=seed, photos=shared)  # another customer's install holds the same bytes
    return await finish(client, await gather(client, make, seed=seed + 10, photos=shared))


async def battery_scanned_on_1x35a(client: AsyncClient, make: Factory, seed: int) -> Result:
    # A 5 kW battery fits a 1x35A connection, but this install is for a meter.
    return await finish(client, await gather(client, make, seed=seed, asset=await make.asset("home_battery")))


async def battery_scanned_on_1x25a(client: AsyncClient, make: Factory, seed: int) -> Result:
    # ...and it does not fit 1x25A at all.
    d = await gather(client, make, seed=seed, capacity="1x25A", asset=await make.asset("home_battery"))
    return await finish(client, d)


async def reading_below_last_known(client: AsyncClient, make: Factory, seed: int) -> Result:
    first = await gather(client, make, seed=seed, reading=5000.0)
    await approve(client, first)  # the meter's last known reading is now 5000
    again = await gather(
        client, make, seed=seed + 10, who=first.who, ean=first.ean, asset=(first.serial, first.payload), reading=4000.0
    )
    return await finish(client, again)


def _taken(delta: timedelta) -> dict[str, dict[str, Any]]:
    return {"cabinet_overview": {"captured_at": delta}}


def _at(point: tuple[float, float]) -> dict[str, float]:
    return {"lat": point[0], "lon": point[1]}


BAD = [
    Scenario("wrong label in photo", "bad", wrong_label, "in_review", "label_qr", FRAUD),
    Scenario("forged label in photo", "bad", forged_label_in_photo, "in_review", "label_qr", FRAUD),
    Scenario("forged label scanned", "bad", forged_label_scanned, "refused:qr/forged"),
    Scenario(
        "label of installed asset", "bad", label_of_installed_asset, "refused:qr/asset-installed-elsewhere", salt=2
    ),
    Scenario(
        "asset installed elsewhere before submit",
        "bad",
        installed_elsewhere_before_submit,
        "in_review",
        "asset",
        FRAUD,
        salt=1,
    ),
    Scenario("reused photo (same bytes)", "bad", reused_photo, "in_review", "reuse", FRAUD),
    plain("bad", "blurred label photo", "needs_retake", "sharpness", photos={"meter_label": {"blur_radius": 12}}),
    plain("bad", "dark photo", "needs_retake", "exposure", photos={"cabinet_overview": {"brightness": 0.15}}, salt=1),
    plain("bad", "old EXIF time (30 days)", "needs_retake", "capture_time", photos=_taken(timedelta(days=-30))),
    plain(
        "bad", "future EXIF time (3 h)", "in_review", "capture_time", FRAUD, photos=_taken(timedelta(hours=3)), salt=1
    ),
    plain("bad", "GPS fix 5 km away", "in_review", "location", FRAUD, fix_options=_at(FIVE_KM_SOUTH), salt=1),
    plain("bad", "mocked GPS", "in_review", "location", FRAUD, fix_options={"mocked": True}),
    plain("bad", "outside territory (Amsterdam)", "in_review", "location", FRAUD, fix_options=_at(AMSTERDAM)),
    plain("bad", "missing slot", "needs_retake", "slot_present", skip=("meter_display",), salt=1),
    plain("bad", "meter on a 3-phase connection", "refused:install/capacity-mismatch", capacity="3x25A"),
    Scenario("scanned battery on 1x35A", "bad", battery_scanned_on_1x35a, "refused:qr/type-mismatch"),
    Scenario("scanned battery on 1x25A", "bad", battery_scanned_on_1x25a, "refused:install/capacity-mismatch"),
    Scenario("reading below last known", "bad", reading_below_last_known, "needs_retake", "reading", salt=1),
]

SCENARIOS = CLEAN + BAD
