"""QR reading: what the extra tries of `qr_read.find_qr` cost, and what they read.

Every figure is a median of per-round ratios, the subject and its baseline interleaved in each round
(each photo read by both in turn, the order alternating), on the same already-decoded working
images. Times are CPU time of this process (`time.process_time`): on a shared machine wall time
also counts the waits for a CPU, which swamped these differences; the work is single-threaded.
- corpus: the 97 public QR photos, find_qr against the single first try (zxing-cpp on the working
  image) and against the previous ladder (working image, 2x if small, full size), with the exact
  and wrong reads of each;
- phone photos: real camera photos without a label, find_qr against the previous ladder: nothing is
  located there, so no extra try runs (the previous ladder against itself gives the noise);
- located label: an 8 MP camera photo with a pasted label that is found but too damaged to decode,
  against the previous ladder: the cost of the repair tries.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

import qrcode
import zxingcpp
from PIL import Image, ImageDraw

from backend.installs.context import load_policy
from backend.validation import qr_read
from backend.validation.photo import _decode_working, inspect_photo
from bench.common import SHARED

QR_PHOTOS = SHARED / "corpus" / "qr-photos"
PHONE_PHOTOS = SHARED / "corpus" / "phone-photos"
# A sample of the real camera photos, 4-10 MP (HEIC takes the same path: it only decodes slower).
PHONES = ("Apple_iPhone_6.jpg", "HTC_One_M8.jpg", "Nexus_4.jpg", "Samsung_GT-I9505_Galaxy_S4.jpg")
Reader = Callable[["Photo"], object]
ROUNDS = {"corpus": 7, "phone": 5, "located": 15}


@dataclass(frozen=True, slots=True)
class Photo:
    name: str
    data: bytes
    work: Image.Image
    full_size: tuple[int, int]
    expected: str = ""


def _photo(name: str, data: bytes, expected: str = "") -> Photo:
    with Image.open(io.BytesIO(data)) as img:
        full_size = img.size
        work, _ = _decode_working(img)
    return Photo(name, data, work, full_size, expected)


def _previous_find_qr(
    fp: BinaryIO, work: Image.Image, full_size: tuple[int, int], upscale_below_px: int
) -> tuple[str, ...]:
    """The ladder before the repair tries: working image, 2x if small, full size (LocalAverage only)."""
    texts = _first_try(work)
    if not texts and max(full_size) < upscale_below_px:
        texts = _first_try(work.resize((work.width * 2, work.height * 2), Image.Resampling.BICUBIC))
    if not texts and work.size != full_size:
        fp.seek(0)
        with Image.open(fp, formats=qr_read.FORMATS) as full:
            texts = _first_try(full.convert("L"))
    return texts


def _first_try(gray: Image.Image) -> tuple[str, ...]:
    found = zxingcpp.read_barcodes(
        gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain, return_errors=True
    )
    return tuple(dict.fromkeys(b.text for b in found if b.valid and b.text))


def _ratio(
    photos: list[Photo], subject: Reader, baseline: Reader, rounds: int, *, warm: bool = True
) -> tuple[float, float, float]:
    """Median of per-round subject/baseline time ratios (each photo read by both in turn, the order
    alternating), and the median round times in ms."""
    if warm:  # caches and lazy imports, once
        for p in photos:
            subject(p), baseline(p)
    ratios, subject_s, baseline_s = [], [], []
    for i in range(rounds):
        totals = [0.0, 0.0]  # subject, baseline
        for j, p in enumerate(photos):
            for k in (0, 1) if (i + j) % 2 == 0 else (1, 0):
                start = time.process_time()
                (subject, baseline)[k](p)
                totals[k] += time.process_time() - start
        ratios.append(totals[0] / totals[1])
        subject_s.append(totals[0])
        baseline_s.append(totals[1])
    return statistics.median(ratios), statistics.median(subject_s) * 1000, statistics.median(baseline_s) * 1000


def _located_label_photo() -> bytes:
    """A real 8 MP camera photo with a QR label pasted in, found but wiped beyond error correction."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=7)
    qr.add_data("SI1:K1:MTR1-000001:JVHVHWKTJMJN7N365FDI")
    qr.make(fit=True)
    code = qr.make_image().get_image().convert("RGB")
    n, o = qr.modules_count, 4 * 7
    ImageDraw.Draw(code).rectangle((o + 9 * 7, o + 9 * 7, o + (n - 9) * 7, o + (n - 9) * 7), fill="white")
    with Image.open(PHONE_PHOTOS / "Nexus_4.jpg") as img:
        photo = img.convert("RGB")
    photo.paste(code, (photo.width // 3, photo.height // 3))
    out = io.BytesIO()
    photo.save(out, format="JPEG", quality=92)
    return out.getvalue()


def _corpus() -> list[Photo]:
    images = sorted(p for p in QR_PHOTOS.glob("qrcode-*/*") if p.suffix in (".png", ".jpg"))
    return [_photo(p.name, p.read_bytes(), p.with_suffix(".txt").read_bytes().decode("utf-8")) for p in images]


def run() -> None:
    upscale_below = load_policy().photo.qr_retry_upscale_below_px

    def new(p: Photo) -> tuple[str, ...]:
        return qr_read.find_qr(io.BytesIO(p.data), p.work, p.full_size, upscale_below).texts

    def previous(p: Photo) -> tuple[str, ...]:
        return _previous_find_qr(io.BytesIO(p.data), p.work, p.full_size, upscale_below)

    def first(p: Photo) -> tuple[str, ...]:
        return _first_try(p.work)

    corpus = _corpus()
    reads = []
    for label, read in (("find_qr", new), ("previous ladder", previous), ("first try", first)):
        texts = [read(p) for p in corpus]
        exact = sum(p.expected in t for p, t in zip(corpus, texts, strict=True))
        wrong = sum(bool(t) and p.expected not in t for p, t in zip(corpus, texts, strict=True))
        reads.append(f"{label} {exact}/{len(corpus)} exact, {wrong} wrong")
    vs_first, new_ms, first_ms = _ratio(corpus, new, first, ROUNDS["corpus"])
    vs_previous, _, previous_ms = _ratio(corpus, new, previous, ROUNDS["corpus"])
    print(
        f"qr corpus ({len(corpus)} images): find_qr {vs_first:.2f}x the first try alone, {vs_previous:.2f}x the "
        f"previous ladder ({new_ms:.0f} ms vs {first_ms:.0f} ms, {previous_ms:.0f} ms); {'; '.join(reads)}",
        flush=True,
    )

    phones = [_photo(name, (PHONE_PHOTOS / name).read_bytes()) for name in PHONES]
    seen = [p.name for p in phones if qr_read.find_qr(io.BytesIO(p.data), p.work, p.full_size, 0).symbol_seen]
    assert not seen, seen  # else the extra tries would run: the figure would not be the one printed
    ratio, new_ms, previous_ms = _ratio(phones, new, previous, ROUNDS["phone"], warm=False)  # warmed just above
    # Both run the same code here; the previous ladder against itself shows this run's noise.
    noise, _, _ = _ratio(phones, lambda p: previous(p), previous, ROUNDS["phone"], warm=False)
    print(
        f"qr phone photos without a label ({len(phones)}, no symbol located): find_qr {ratio:.2f}x the previous "
        f"ladder ({new_ms / len(phones):.0f} ms vs {previous_ms / len(phones):.0f} ms a photo; the previous "
        f"ladder against itself {noise:.2f}x)",
        flush=True,
    )

    located = _photo("located label", _located_label_photo())
    facts = inspect_photo(
        io.BytesIO(located.data), max_pixels=50_000_000, find_qr=True, qr_upscale_below_px=upscale_below
    )
    assert facts.qr_symbol_seen and not facts.qr_texts, facts  # the repair tries ran and read nothing
    ratio, new_ms, previous_ms = _ratio([located], new, previous, ROUNDS["located"])
    megapixels = located.full_size[0] * located.full_size[1] / 1e6
    print(
        f"qr {megapixels:.0f}MP photo, label located but unreadable: find_qr {ratio:.2f}x the previous ladder "
        f"({new_ms:.0f} ms vs {previous_ms:.0f} ms)",
        flush=True,
    )
