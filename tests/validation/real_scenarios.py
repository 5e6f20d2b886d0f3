"""Labelled installs built from real phone photos (../shared/corpus/phone-photos) and the generator's
failure kinds, for the decision suite (tests/validation/test_decision_quality.py and `make bench`).

Pictures are never shared by accident: a whole phone photo appears in exactly one clean install;
each photo's halves (distinct pictures to the reuse check: a half is far more than a 15 % crop)
serve the failure kinds and the reuse tricks, one half per scenario. Reuse tricks first get an
install with the clean half approved (the premise), then try the trick in another install.
"""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from PIL import Image

from backend.principal import Role
from fixtures.degrade import FAILURES, TRICKS, encode, label_on_photo, open_upright
from tests.conftest import corpus_dir
from tests.factories import ARNHEM, Factory
from tests.mobile_api.helpers import ask_help, locate, slots_of, upload
from tests.validation.scenarios import FRAUD, Result, Scenario, approve, finish, gather, ok, result_of_view

SLOTS = slots_of("smart_meter_1p")  # meter_label, meter_display, cabinet_overview
# Reuse premises take the halves of these photos; the camera failures the halves of the rest.
PREMISE_PHOTOS = 9
# kind -> (outcome, the check that must catch it). The generated photos in the other slots are
# close-ups of one meter model: now and then two of them come within the reuse check's "uncertain"
# band (a specialist compares), which sends the install to review instead of a retake. Either way
# it is not approved and its own flaw is named.
FAILURE_EXPECTS = {
    "gaussian_blur": ("needs_retake|in_review", "sharpness"),
    "motion_blur": ("needs_retake|in_review", "sharpness"),
    "dark": ("needs_retake|in_review", "exposure"),
    "blown_out": ("needs_retake|in_review", "exposure"),
    "blank": ("needs_retake|in_review", "content"),
    "pocket": ("needs_retake|in_review", "content"),
}
SOURCED_FAILURES = ("gaussian_blur", "motion_blur", "dark", "blown_out")


@cache
def phone_photos() -> tuple[Path, ...]:
    folder = corpus_dir("phone-photos")
    return tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".heic")))


@lru_cache(maxsize=2)  # a 12 MP photo is 36 MB decoded: keep only the one being used
def upright(path: Path) -> Image.Image:
    return open_upright(path)


def half(path: Path, which: int) -> Image.Image:
    """The left/right (or top/bottom, for a portrait photo) half of a phone photo."""
    img = upright(path)
    w, h = img.size
    if w >= h:
        return img.crop((0, 0, w // 2, h) if which == 0 else (w // 2, 0, w, h))
    return img.crop((0, 0, w, h // 2) if which == 0 else (0, h // 2, w, h))


def _now() -> datetime:
    return datetime.now(UTC)


def _slot_bytes(img: Image.Image, slot: str, payload: str, seed: int) -> bytes:
    if slot == "meter_label":
        return label_on_photo(img, payload, captured_at=_now(), gps=ARNHEM, seed=seed)
    return encode(img, _now(), ARNHEM)


async def _install_with(client: AsyncClient, make: Factory, seed: int, slot: str, picture: Any) -> Result:
    """An install whose `slot` holds `picture(payload)` and whose other slots are generated."""
    asset = await make.asset()
    d = await gather(client, make, seed=seed, asset=asset, photos={slot: {"data": picture(asset[1])}})
    return await finish(client, d)


def clean_real(index: int) -> Scenario:
    path = phone_photos()[index]
    slot = SLOTS[index % len(SLOTS)]

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        return await _install_with(
            client, make, seed, slot, lambda payload: _slot_bytes(upright(path), slot, payload, seed)
        )

    return Scenario(f"real photo {path.stem} as {slot}", "clean", build)


def failure_real(kind: str, index: int, which: int) -> Scenario:
    path = phone_photos()[index]
    slot = SLOTS[(index + which) % len(SLOTS)]
    expect, flag = FAILURE_EXPECTS[kind]

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        def picture(payload: str) -> bytes:
            base = Image.open(io.BytesIO(_slot_bytes(half(path, which), slot, payload, seed))).convert("RGB")
            return encode(FAILURES[kind](base, random.Random(seed)), _now(), ARNHEM)

        return await _install_with(client, make, seed, slot, picture)

    # A half that shows next to nothing (a clear sky) is caught as having no content instead.
    return Scenario(f"{kind} of real {path.stem} half {which} as {slot}", "bad", build, expect, f"{flag}|content")


def failure_generated(kind: str, n: int) -> Scenario:
    slot = SLOTS[n % len(SLOTS)]
    expect, flag = FAILURE_EXPECTS[kind]

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        rng = random.Random(seed)
        size = (1600, 1200) if n % 2 else (3024, 4032)
        return await _install_with(
            client, make, seed, slot, lambda _: encode(FAILURES[kind](Image.new("RGB", size), rng), _now(), ARNHEM)
        )

    return Scenario(f"{kind} #{n} as {slot}", "bad", build, expect, flag)


def reuse_trick(trick: str, index: int, which: int) -> Scenario:
    path = phone_photos()[index]
    # Crops up to 15 % are caught for sure or at the edge of the threshold (then a specialist compares).
    reason = None if trick.startswith("cropped") else FRAUD

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        original = encode(half(path, which), _now(), ARNHEM)
        await approve(client, await gather(client, make, seed=seed, photos={"cabinet_overview": {"data": original}}))
        copy = Image.open(io.BytesIO(original)).convert("RGB")
        copied = encode(TRICKS[trick](copy, random.Random(seed)), _now(), ARNHEM, quality=75)
        return await _install_with(client, make, seed + 50, "cabinet_overview", lambda _: copied)

    return Scenario(f"{trick} reuse of real {path.stem} half {which}", "bad", build, "in_review", "reuse", reason)


def reuse_trick_generated(trick: str) -> Scenario:
    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        original = make.photo("meter_display", seed=seed + 70)
        await approve(client, await gather(client, make, seed=seed, photos={"meter_display": {"data": original}}))
        copy = Image.open(io.BytesIO(original)).convert("RGB")
        copied = encode(TRICKS[trick](copy, random.Random(seed)), _now(), ARNHEM, quality=75)
        return await _install_with(client, make, seed + 50, "meter_display", lambda _: copied)

    reason = None if trick.startswith("cropped") else FRAUD
    return Scenario(f"{trick} reuse of a generated display photo", "bad", build, "in_review", "reuse", reason)


def same_photo_two_slots(n: int) -> Scenario:
    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        twin = make.photo("cabinet_overview", seed=seed + 60)
        photos = {"cabinet_overview": {"data": twin}, "meter_display": {"data": twin}}
        return await finish(client, await gather(client, make, seed=seed, photos=photos))

    return Scenario(f"same photo in two slots #{n}", "bad", build, "needs_retake", "distinct_slots")


def fix_from(provider: str, n: int, *, persist: bool = False) -> Scenario:
    """A typed-in or network location: uncertain; kept up through every retake, it escalates."""

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        d = await gather(client, make, seed=seed, fix_options={"provider": provider})
        result, rounds = await finish(client, d), 0
        while persist and result.outcome == "needs_retake":
            rounds += 1
            ok(await locate(client, d, make.fix(provider=provider, accuracy_m=9.0 + rounds)))
            result = await finish(client, d)
        return result

    expect, reason = ("in_review", "uncertain") if persist else ("needs_retake", None)
    name = f"{provider} location{' through every retake' if persist else ''} #{n}"
    return Scenario(name, "bad", build, expect, "location", reason)


def fix_dated(when: datetime, expect: str, reason: str | None, n: int) -> Scenario:
    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        return await finish(
            client, await gather(client, make, seed=seed, fix_options={"captured_at": when.isoformat()})
        )

    flag = None if expect.startswith("refused:") else "location_time"  # refused before any check ran
    return Scenario(f"GPS fix dated {when:%Y-%m-%d} #{n}", "bad", build, expect, flag, reason)


def photo_taken_elsewhere(n: int) -> Scenario:
    """The photo's own EXIF GPS is 5 km from the shared location: not taken at this cabinet."""
    slot = SLOTS[n % len(SLOTS)]

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        away = (ARNHEM[0] - 0.045, ARNHEM[1])
        return await finish(client, await gather(client, make, seed=seed, photos={slot: {"gps": away}}))

    return Scenario(f"{slot} taken 5 km away #{n}", "bad", build, "in_review", "exif_location", FRAUD)


def device_at_another_connection(n: int) -> Scenario:
    """The meter was photographed here, but its head-end says it connected at another address."""

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        d = await gather(client, make, seed=seed)
        ok(await ask_help(client, d, "Ik weet niet of het goed zit"))  # in review, waiting for a person
        system = make.party(Role.SYSTEM)
        report = {
            "report_id": f"suite-{seed}",
            "device_serial": d.serial,
            "ean": await make.connection(),
            "reported_at": _now().isoformat(),
            "source": "head-end",
        }
        r = await client.post("/integrations/v1/device-reports", json=report, headers=system.headers)
        assert r.status_code == 201, r.text
        return result_of_view(ok(await client.get(d.url, headers=d.who.headers)))

    return Scenario(f"device reports at another connection #{n}", "bad", build, "in_review", "device_report", FRAUD)


def offline(days: float, kind: str) -> Scenario:
    """Photographed `days` ago without a network, synced now."""

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        then = _now() - timedelta(days=days)
        d = await gather(
            client,
            make,
            seed=seed,
            create_extra={"started_at": then.isoformat()},
            fix_options={"captured_at": (then + timedelta(minutes=5)).isoformat()},
            every_photo={"captured_at": timedelta(days=-days, minutes=10)},
        )
        return await finish(client, d)

    if kind == "clean":
        return Scenario(f"made offline {days:g} days ago", "clean", build)
    return Scenario(f"made offline {days:g} days ago (beyond the limit)", "bad", build, "needs_retake", "capture_time")


def no_exif_through_every_retake(n: int) -> Scenario:
    """Photos without a capture time, however often retaken: uncertain for a specialist."""

    async def build(client: AsyncClient, make: Factory, seed: int) -> Result:
        serial, payload = await make.asset()
        photos = {
            slot: {"data": _without_exif(make.photo(slot, payload=payload, serial=serial, seed=seed + 90 + i))}
            for i, slot in enumerate(SLOTS)
        }
        d = await gather(client, make, seed=seed, asset=(serial, payload), photos=photos)
        result = await finish(client, d)
        rounds = 0
        while result.outcome == "needs_retake":
            rounds += 1
            for i, slot in enumerate(SLOTS):
                data = make.photo(slot, payload=d.payload, serial=d.serial, gps=None, seed=seed + 10 * rounds + i)
                ok(await upload(client, d, slot, _without_exif(data)))
            result = await finish(client, d)
        return result

    return Scenario(f"no EXIF on any photo, every retake #{n}", "bad", build, "in_review", "capture_time", "uncertain")


def _without_exif(data: bytes) -> bytes:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def real_scenarios() -> tuple[list[Scenario], list[Scenario]]:
    """(clean, bad) scenarios; the real photos must be there (the suite says where it looks)."""
    photos = phone_photos()
    clean = [clean_real(i) for i in range(len(photos))]
    clean += [offline(2, "clean"), offline(6.5, "clean")]
    bad: list[Scenario] = []
    failure_pieces = [(i, w) for i in range(PREMISE_PHOTOS, len(photos)) for w in (0, 1)]
    for n, (i, w) in enumerate(failure_pieces[: 8 * len(SOURCED_FAILURES)]):
        bad.append(failure_real(SOURCED_FAILURES[n % len(SOURCED_FAILURES)], i, w))
    bad += [failure_generated(kind, n) for kind in ("blank", "pocket") for n in range(8)]
    premise_pieces = [(i, w) for i in range(PREMISE_PHOTOS) for w in (0, 1)]
    for n, (i, w) in enumerate(premise_pieces):
        bad.append(reuse_trick(list(TRICKS)[n % len(TRICKS)], i, w))
    bad += [reuse_trick_generated(trick) for trick in TRICKS]
    bad += [same_photo_two_slots(n) for n in range(4)]
    bad += [fix_from("manual", n) for n in range(3)] + [fix_from("network", n) for n in range(2)]
    bad += [fix_from("manual", 9, persist=True)]
    # Out of any sane range: refused at the API's boundary; in range but outside the install window:
    # judged by location_time (before the install: retake; ahead of the server's clock: fraud).
    epoch, far_future = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    out_of_range = "refused:request/timestamp-out-of-range"
    bad += [fix_dated(epoch, out_of_range, None, 0), fix_dated(far_future, out_of_range, None, 0)]
    today = datetime.now(UTC).replace(microsecond=0)
    bad += [fix_dated(today - timedelta(days=3), "needs_retake", None, 0)]
    bad += [fix_dated(today + timedelta(days=30), "in_review", FRAUD, 0)]
    bad += [offline(10, "bad"), no_exif_through_every_retake(1)]
    bad += [photo_taken_elsewhere(n) for n in range(3)]
    bad += [device_at_another_connection(n) for n in range(3)]
    return clean, bad
