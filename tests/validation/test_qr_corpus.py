"""The QR-in-photo reader against ZXing's public black-box corpus of QR photographs and scans.

ZXing's own Java reader decodes 87 of the 97 images (its test suite's record). We must read at least
96 with the exact text and never report a different text than the one the code holds: a misread
label would compare a photo against the wrong payload.

96 is all there is: qrcode-2/13.png is the symbol of qrcode-2/12.png restyled (version 6-Q both; sampled
at module centres, 1 of their 1681 modules differs), so it holds "... aerial photography of ..." while
its 13.txt (as upstream in ZXing) says "photograph". A reader that decodes it (GlobalHistogram on an
equalised or median-filtered image does) reports the code's true text, which this test counts as
wrong; ours does not decode it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from httpx import AsyncClient

from backend.installs.context import load_policy
from backend.validation.photo import inspect_photo
from tests.conftest import CORPUS, corpus_dir
from tests.factories import Factory
from tests.mobile_api.helpers import new_install, scan, submit, upload

QR_PHOTOS = CORPUS / "qr-photos"
FOLDERS = ("qrcode-1", "qrcode-2", "qrcode-3")
CORPUS_SIZE = 97
MIN_EXACT = 96
ZXING_JAVA_REFERENCE = 87


@dataclass(frozen=True)
class Read:
    image: Path
    expected: str
    decoded: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.image.parent.name}/{self.image.name}"

    @property
    def exact(self) -> bool:
        return self.expected in self.decoded

    @property
    def wrong(self) -> bool:
        """Something was decoded, but not the text the code holds."""
        return bool(self.decoded) and not self.exact


def corpus_images() -> list[Path]:
    root = corpus_dir("qr-photos")
    return sorted(p for folder in FOLDERS for p in (root / folder).glob("*") if p.suffix in (".png", ".jpg"))


def expected_text(image: Path) -> str:
    # Binary, so that a \r\n inside the code's text is compared as it is, not as \n.
    return image.with_suffix(".txt").read_bytes().decode("utf-8")


@cache
def corpus_reads() -> tuple[Read, ...]:
    """Every image read once per test run, exactly as an uploaded label photo is inspected."""
    upscale_below = load_policy().photo.qr_retry_upscale_below_px
    reads = []
    for image in corpus_images():
        with image.open("rb") as fp:
            facts = inspect_photo(fp, max_pixels=50_000_000, find_qr=True, qr_upscale_below_px=upscale_below)
        assert facts.qr_texts is not None  # asked for QR codes: a tuple, possibly empty
        reads.append(Read(image, expected_text(image), facts.qr_texts))
    return tuple(reads)


class TestQrCorpus:
    async def test_the_corpus_is_complete(self) -> None:
        images = corpus_images()
        assert len(images) == CORPUS_SIZE, f"expected {CORPUS_SIZE} images under {QR_PHOTOS}, found {len(images)}"
        assert all(p.with_suffix(".txt").is_file() for p in images)

    async def test_reads_at_least_min_exact_exactly_and_never_a_wrong_text(self) -> None:
        reads = corpus_reads()
        assert len(reads) == CORPUS_SIZE, f"corpus incomplete under {QR_PHOTOS}: {len(reads)} images"
        exact = [r for r in reads if r.exact]
        wrong = [r for r in reads if r.wrong]
        missed = [r for r in reads if not r.decoded]
        print(
            f"\nqr corpus: {len(exact)}/{len(reads)} exact, {len(wrong)} wrong, {len(missed)} unreadable "
            f"(ZXing Java reference {ZXING_JAVA_REFERENCE})"
        )
        print("qr corpus misses:", ", ".join(r.name for r in missed) or "none")
        assert not wrong, [(r.name, r.expected, r.decoded) for r in wrong]
        assert len(exact) >= MIN_EXACT, [r.name for r in reads if not r.exact]

    async def test_each_folder_beats_the_zxing_java_reference(self) -> None:
        reference = {"qrcode-1": 17, "qrcode-2": 32, "qrcode-3": 38}  # corpus README
        reads = corpus_reads()
        for folder, java in reference.items():
            exact = sum(r.exact for r in reads if r.image.parent.name == folder)
            assert exact >= java, (folder, exact, java)

    async def test_a_text_with_crlf_is_kept_byte_exact(self) -> None:
        # The corpus holds codes whose text has \r\n; reading it as text mode would hide a mismatch.
        with_crlf = [r for r in corpus_reads() if "\r\n" in r.expected]
        assert with_crlf, "the corpus is expected to hold texts with \\r\\n"
        assert all(r.exact for r in with_crlf), [(r.name, r.decoded) for r in with_crlf if not r.exact]


class TestLabelEvidenceThroughTheApp:
    async def test_decoded_text_of_a_foreign_qr_is_evidence_and_never_passes(
        self, client: AsyncClient, make: Factory
    ) -> None:
        read = next(r for r in corpus_reads() if r.exact and r.image.suffix == ".png")
        d = await new_install(client, make)
        d.serial, d.payload = await make.asset()
        r = await scan(client, d, d.payload)
        assert r.status_code == 200, r.text
        r = await upload(client, d, "meter_label", read.image.read_bytes(), "image/png")
        assert r.status_code == 201, r.text
        uploaded = [c for c in r.json()["photo"]["checks"] if c["check"] == "label_qr"]
        assert len(uploaded) == 1, r.json()["photo"]["checks"]
        assert read.expected in uploaded[0]["evidence"]["decoded"]
        assert uploaded[0]["evidence"]["expected"] == d.payload
        assert uploaded[0]["status"] in ("fail", "uncertain")

        r = await submit(client, d)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["state"] != "approved"
        label = [c for c in body["checks"] if c["check"] == "label_qr" and c["subject"] == "meter_label"]
        assert len(label) == 1, body["checks"]
        assert read.expected in label[0]["evidence"]["decoded"]
        assert label[0]["status"] in ("fail", "uncertain")
