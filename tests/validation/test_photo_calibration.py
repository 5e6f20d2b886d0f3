"""The photo checks on real camera output: every phone photo of the corpus passes as taken, and the
same photo blurred, shaken, darkened, blown out or blanked does not (the thresholds' calibration)."""

from __future__ import annotations

import io
import random
from functools import cache
from pathlib import Path

import pytest

from backend.installs.context import load_policy
from backend.validation.photo import PhotoFacts, inspect_photo
from backend.validation.photo_checks import PhotoEvidence, check_content, check_exposure, check_sharpness
from backend.validation.results import Status
from fixtures.degrade import FAILURES, encode, open_upright
from tests.validation.real_scenarios import phone_photos

POLICY = load_policy()
# The failure kinds are applied to the photo reduced to this long side (a 12 MP Gaussian blur
# takes seconds); they scale with the width, so the same visible flaw results.
DEGRADE_LONG_SIDE = 2000
# A blurred photo of a nearly featureless surface (Issue_437: a grey wall) loses its last edges:
# it is caught as showing nothing rather than as blurred. Either is a retake.
CAUGHT_BY = {
    "gaussian_blur": ("sharpness", "content"),
    "motion_blur": ("sharpness", "content"),
    "dark": ("exposure",),
    "blown_out": ("exposure",),
    "blank": ("content",),
    "pocket": ("content",),
}


def inspect(data: bytes) -> PhotoFacts:
    return inspect_photo(io.BytesIO(data), max_pixels=50_000_000, find_qr=False, qr_upscale_below_px=1200)


def quality(facts: PhotoFacts) -> dict[str, Status]:
    evidence = PhotoEvidence.from_facts("cabinet_overview", facts)
    checks = (check_content(evidence, POLICY), check_sharpness(evidence, POLICY), check_exposure(evidence, POLICY))
    return {c.check: c.status for c in checks}


@cache
def reduced(path: Path) -> bytes:
    img = open_upright(path)
    img.thumbnail((DEGRADE_LONG_SIDE, DEGRADE_LONG_SIDE))
    return encode(img, None, None, quality=92)


def photo_ids() -> list[str]:
    return [p.name for p in phone_photos()]


def by_name(name: str) -> Path:
    return next(p for p in phone_photos() if p.name == name)


class TestPhonePhotosAsTaken:
    @pytest.mark.parametrize("name", photo_ids())
    async def test_passes_every_quality_check(self, name: str) -> None:
        statuses = quality(inspect(by_name(name).read_bytes()))
        assert set(statuses.values()) == {Status.PASS}, statuses


class TestFailureKinds:
    @pytest.mark.parametrize("kind", sorted(CAUGHT_BY))
    @pytest.mark.parametrize("name", photo_ids())
    async def test_the_same_photo_with_the_flaw_is_caught(self, name: str, kind: str) -> None:
        base = open_upright(reduced(by_name(name)))
        flawed = encode(FAILURES[kind](base, random.Random(name)), None, None)
        statuses = quality(inspect(flawed))
        assert any(statuses.get(check) is Status.FAIL for check in CAUGHT_BY[kind]), (kind, statuses)
