"""Every file of the hostile and valid image corpora, uploaded as a photo through HTTP.

Each must get a normal answer (accepted) or a clear 4xx problem+json, within two seconds, never a
5xx; a refused file leaves no photo row, no original and no partial upload behind.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from httpx import AsyncClient

from backend.principal import Role
from backend.settings import Settings
from tests.conftest import corpus_dir
from tests.factories import Factory, Party
from tests.helpers.photo_store import stored_originals

SLOT = "cabinet_overview"
MAX_SECONDS = 2.0
VALID_IMAGES = {"exif-200dpcm.jpg", "exif_gps.jpg", "hopper.jpg", "hopper.png"}


def corpus_files(name: str) -> list[Path]:
    """The corpus files; a missing corpus is a failure, never a skip."""
    folder = corpus_dir(name)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    assert files, f"test corpus {folder} is empty"
    return files


def content_types(path: Path) -> list[str]:
    return ["image/jpeg", "image/png"] if path.suffix.lower() == ".png" else ["image/jpeg"]


async def stored_files() -> set[str]:
    """The originals in the run's store (a folder, or a bucket)."""
    return set(await stored_originals())


def partial_uploads(settings: Settings) -> list[Path]:
    return sorted((settings.photo_dir / "incoming").glob("*.part"))


@dataclass
class Outcome:
    name: str
    content_type: str
    status: int
    code: str | None
    seconds: float
    problems: list[str]


async def draft_install(client: AsyncClient, make: Factory, customer: Party) -> str:
    ean = await make.connection(owner=customer.subject)
    install_id = str(uuid.uuid4())
    r = await client.post(
        "/mobile/v1/installs",
        json={"id": install_id, "connection_ean": ean, "asset_type": "smart_meter_1p"},
        headers=customer.headers,
    )
    assert r.status_code == 201, r.text
    return install_id


async def upload(
    client: AsyncClient, make: Factory, settings: Settings, customer: Party, path: Path, content_type: str
) -> Outcome:
    """Upload one file to a fresh draft install and check everything the answer promises."""
    install_id = await draft_install(client, make, customer)
    before = await stored_files()
    data = path.read_bytes()
    started = time.perf_counter()
    r = await client.put(
        f"/mobile/v1/installs/{install_id}/photos/{SLOT}",
        content=data,
        headers={**customer.headers, "Content-Type": content_type},
    )
    seconds = time.perf_counter() - started
    outcome = Outcome(path.name, content_type, r.status_code, None, seconds, [])
    problems = outcome.problems
    if seconds >= MAX_SECONDS:
        problems.append(f"took {seconds:.2f} s")
    if r.status_code in (200, 201):
        photo = r.json()["photo"]
        if photo["slot"] != SLOT or photo["size_bytes"] != len(data):
            problems.append(f"accepted but photo is {photo}")
        sha = hashlib.sha256(data).hexdigest()
        if photo["sha256"] != sha or sha not in await stored_files():
            problems.append(f"accepted, but the original is not stored under {sha}")
        if photo["content_type"] not in ("image/jpeg", "image/png", "image/heic"):
            problems.append(f"accepted as {photo['content_type']}")
        shown = await client.get(photo["url"], headers=customer.headers)
        if shown.status_code != 200 or shown.headers.get("content-type") != "image/jpeg":
            problems.append(f"accepted, but its rendition answers {shown.status_code}: {shown.text[:200]}")
    elif 400 <= r.status_code < 500:
        if not r.headers.get("content-type", "").startswith("application/problem+json"):
            problems.append(f"{r.status_code} is not problem+json: {r.headers.get('content-type')}")
        else:
            outcome.code = r.json().get("code")
            if not outcome.code:
                problems.append(f"{r.status_code} problem without a code: {r.text[:200]}")
        view = await client.get(f"/mobile/v1/installs/{install_id}", headers=customer.headers)
        slots = [p["slot"] for p in view.json()["photos"]]
        if view.status_code != 200 or SLOT in slots:
            problems.append(f"refused, but the install shows photos {slots} ({view.status_code})")
        gained = await stored_files() - before
        if gained:
            problems.append(f"refused, but originals gained {sorted(gained)}")
    else:
        problems.append(f"answered {r.status_code}: {r.text[:300]}")
    leftovers = partial_uploads(settings)
    if leftovers:
        problems.append(f"left partial uploads {[p.name for p in leftovers]}")
    return outcome


def summary(label: str, outcomes: list[Outcome]) -> str:
    accepted = sum(o.status in (200, 201) for o in outcomes)
    refused = Counter(o.code or str(o.status) for o in outcomes if o.status not in (200, 201))
    slowest = max(outcomes, key=lambda o: o.seconds)
    by_code = ", ".join(f"{code}: {n}" for code, n in sorted(refused.items()))
    return (
        f"{label}: {len(outcomes)} uploads, {accepted} accepted, {sum(refused.values())} refused ({by_code}); "
        f"slowest {slowest.name} {slowest.seconds:.3f} s"
    )


class TestCorpusPresent:
    async def test_corpora_are_there(self) -> None:
        assert len(corpus_files("hostile-images")) >= 80
        assert {p.name for p in corpus_files("valid-images")} >= VALID_IMAGES


class TestHostileImages:
    async def test_every_file_gets_a_safe_answer(self, client: AsyncClient, make: Factory, settings: Settings) -> None:
        customer = make.party(Role.CUSTOMER)
        outcomes = [
            await upload(client, make, settings, customer, path, content_type)
            for folder in ("hostile-images", "valid-images")
            for path in corpus_files(folder)
            for content_type in content_types(path)
        ]
        print("\n" + summary("image corpora", outcomes))
        failures = [f"{o.name} as {o.content_type}: {'; '.join(o.problems)}" for o in outcomes if o.problems]
        assert not failures, "\n".join(failures)

    async def test_files_that_lie_about_their_format_are_unsupported(
        self, client: AsyncClient, make: Factory, settings: Settings
    ) -> None:
        customer = make.party(Role.CUSTOMER)
        liars = [p for p in corpus_files("hostile-images") if p.suffix in (".tif", ".sgi", ".psd", ".gif", ".eps")]
        assert liars
        for path in liars:
            outcome = await upload(client, make, settings, customer, path, "image/jpeg")
            assert (outcome.status, outcome.code, outcome.problems) == (415, "photo/unsupported-type", []), path.name


class TestValidImages:
    async def test_every_valid_image_is_accepted(self, client: AsyncClient, make: Factory, settings: Settings) -> None:
        customer = make.party(Role.CUSTOMER)
        images = [p for p in corpus_files("valid-images") if p.name != "LICENSE"]
        assert {p.name for p in images} >= VALID_IMAGES
        for path in images:
            for content_type in content_types(path):
                outcome = await upload(client, make, settings, customer, path, content_type)
                assert (outcome.status, outcome.problems) == (201, []), (path.name, content_type, outcome)
