"""Reading QR codes out of a photo with zxing-cpp: the working-size image first, more only when needed.

The tries, each only if everything before it read nothing:
1. the working image (about 1000 px long side), zxing's LocalAverage binarizer: the happy path;
2. a small photo (long side below `upscale_below_px`: a close crop or a screenshot of the label),
   up-scaled 2x, read with LocalAverage and then with GlobalHistogram (one threshold for the whole
   image: the corpus's qrcode-2/12.png, whose dark modules hold an aerial photo, has its finder
   patterns broken apart by local thresholds, so no try locates it; this retry is gated on the
   photo's size, as the 2x one always was, not on a located symbol);
3. a big photo: the full-size decode (a small label in a big photo);
4. only when one of these located a symbol but could not decode it: a crop around its corners (from
   the largest image at hand), scaled so the symbol spans 400 px with its grey levels stretched, then
   at 200 px, stretched and sharpened (a label slightly blurred or low in contrast).

A photo without any located symbol (most photos that are not of a label) never pays for step 4;
a big one never pays for step 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import zxingcpp
from PIL import Image, ImageFilter, ImageOps

FORMATS = ["JPEG", "PNG", "HEIF"]

# A located symbol is cropped with this share of its side around it: QR codes need a quiet zone of
# 4 modules, about 10-20% of the side for the versions a label uses.
CROP_MARGIN = 0.25
# The repair tries: symbol side in pixels after scaling (400 px: 10-16 px a module for versions
# 2-6), and whether to sharpen (an unsharp mask narrows a blurred module edge again). Chosen, out of
# scales 200-600 px, autocontrast/equalize/median/unsharp, LocalAverage/GlobalHistogram/FixedThreshold
# and perspective-corrected pure reads, on 254 generated label photos whose QR was located but not
# read (blur, glare, blots, low contrast, JPEG artefacts; 117 of them held out): each rung alone
# reads 30-40% of them, the two 42-44%, and no try ever produced a different text.
REPAIR_RUNGS: tuple[tuple[int, bool], ...] = ((400, False), (200, True))
# At most this many located-but-unread symbols are repaired (a photo holds one label).
MAX_REPAIRED = 2

Quad = tuple[tuple[float, float], ...]  # corners top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True, slots=True)
class QrRead:
    texts: tuple[str, ...]  # exact texts of valid symbols, in the order found
    symbol_seen: bool  # a QR symbol was located (decoded or not): a partly readable label


def find_qr(
    fp: BinaryIO,
    work: Image.Image,
    full_size: tuple[int, int],
    upscale_below_px: int,
    full_grey: Image.Image | None = None,
) -> QrRead:
    """QR texts: on the working image, then up-scaled if the photo is small, then at full size,
    then, only for a symbol located but not decoded, repaired crops around it.

    `full_grey` is the full-size greyscale image where the caller already decoded it (PNG, HEIF:
    they have no reduced decode), so it is never decoded twice.
    """
    texts, seen, located = _read_qr(work)
    if texts:
        return QrRead(texts=texts, symbol_seen=True)
    source = work
    if max(full_size) < upscale_below_px:
        big = work.resize((work.width * 2, work.height * 2), Image.Resampling.BICUBIC)
        for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
            texts, seen2, found = _read_qr(big, binarizer)
            if texts:
                return QrRead(texts=texts, symbol_seen=True)
            seen, located = seen or seen2, located + _scaled(found, 0.5)
    if work.size != full_size:  # a small label in a big photo
        source = full_grey if full_grey is not None else _decode_grey(fp)
        texts, seen2, found = _read_qr(source)
        if texts:
            return QrRead(texts=texts, symbol_seen=True)
        # Corners found at full size are the more precise; else those of the working image, scaled up.
        seen, located = seen or seen2, found + _scaled(located, source.width / work.width)
    for quad in _distinct(located)[:MAX_REPAIRED]:
        texts = _repair(source, quad)
        if texts:
            return QrRead(texts=texts, symbol_seen=True)
    return QrRead(texts=(), symbol_seen=seen)


def _decode_grey(fp: BinaryIO) -> Image.Image:
    """The whole photo in greyscale; a JPEG decodes its luma only (no colour conversion)."""
    fp.seek(0)
    with Image.open(fp, formats=FORMATS) as full:
        if full.format == "JPEG":
            full.draft("L", full.size)
        return full.convert("L")


def _read_qr(
    gray: Image.Image, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage
) -> tuple[tuple[str, ...], bool, list[Quad]]:
    """Texts of the valid symbols; whether any symbol was located; corners of the QR symbols located
    but not decoded (a located Micro QR is mostly one finder pattern of a QR code: too little to crop)."""
    found = zxingcpp.read_barcodes(
        gray,
        formats=zxingcpp.BarcodeFormat.QRCode,  # the QR family: QR, Micro QR, rMQR
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=binarizer,
        return_errors=True,
    )
    found = [b for b in found if b.format != zxingcpp.BarcodeFormat.NONE]  # NONE: no symbol at all
    texts = tuple(dict.fromkeys(b.text for b in found if b.valid and b.text))
    located = [_corners(b.position) for b in found if not b.valid and b.format == zxingcpp.BarcodeFormat.QRCode]
    return texts, bool(found), located


def _corners(position: zxingcpp.Position) -> Quad:
    return tuple(
        (float(p.x), float(p.y))
        for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    )


def _scaled(quads: list[Quad], factor: float) -> list[Quad]:
    return [tuple((x * factor, y * factor) for x, y in quad) for quad in quads]


def _bounds(quad: Quad) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in quad], [y for _, y in quad]
    return min(xs), min(ys), max(xs), max(ys)


def _distinct(quads: list[Quad]) -> list[Quad]:
    """The quads in order, without those whose centre lies inside an earlier one (the same symbol)."""
    kept: list[Quad] = []
    for quad in quads:
        x0, y0, x1, y1 = _bounds(quad)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if not any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in map(_bounds, kept)):
            kept.append(quad)
    return kept


def _repair(gray: Image.Image, quad: Quad) -> tuple[str, ...]:
    """Read a located symbol from a crop around it: normalised in size, grey levels stretched."""
    x0, y0, x1, y1 = _bounds(quad)
    side = max(x1 - x0, y1 - y0, 1.0)
    margin = side * CROP_MARGIN
    box = (
        max(0, int(x0 - margin)),
        max(0, int(y0 - margin)),
        min(gray.width, int(x1 + margin) + 1),
        min(gray.height, int(y1 + margin) + 1),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return ()
    crop = gray.crop(box)
    for target, sharpen in REPAIR_RUNGS:
        factor = target / side
        size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
        img = ImageOps.autocontrast(crop.resize(size, Image.Resampling.BICUBIC), cutoff=1)
        if sharpen:
            img = img.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=0))
        texts, _, _ = _read_qr(img)
        if texts:
            return texts
    return ()
