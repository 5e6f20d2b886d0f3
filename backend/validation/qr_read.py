"""Reading QR codes out of a photo with zxing-cpp: the working-size image first, more only when needed.

The tries, each only if everything before it read nothing:
1. the working image (about 1000 px long side), zxing's LocalAverage binarizer: the happy path;
2. a small photo (long side below `upscale_below_px`: a close crop or a screenshot of the label),
   up-scaled 2x, read with LocalAverage and then with GlobalHistogram (one threshold for the whole
   image: the corpus's qrcode-2/12.png, whose dark modules hold an aerial photo, has its finder
   patterns broken apart by local thresholds, so no try locates it; this retry is gated on the
   photo's size, as the 2x one always was, not on a located symbol);
3. a big photo: a second look at higher resolution, only where the working image showed a symbol
   (located, not decoded) or a label-like patch (`label_patches`: a small label's modules are about
   a pixel at working size, unreadable but a dense texture in both directions). A JPEG has its luma
   decoded again only down to the lowest such region's last row (the rows above must be decoded to
   reach it), at 1/2 scale when that still leaves SECOND_LOOK_LONG_SIDE px; a HEIC or PNG is cropped
   from the full-size grey image its single decode made. A photo without either is never decoded
   twice;
4. only when one of these located a symbol but could not decode it: a crop around its corners,
   scaled so the symbol spans 400 px with its grey levels stretched, then at 200 px, stretched and
   sharpened (a label slightly blurred or low in contrast).

A photo without any located symbol or label-like patch (most photos that are not of a label) never
pays for steps 3 and 4; a big one never pays for step 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import zxingcpp
from PIL import Image, ImageChops, ImageFilter, ImageOps

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
# Label-like patches: the mean grey step to the right and downwards, the smaller of the two, over a
# square of 3x3 cells of PATCH_CELL px at working size. A printed label pasted at 4 % of a 12 MP
# phone photo's width (~1.2 px a module at working size) measured 47-75 on the corpus's 12 MP phone
# photos; those photos as taken measured 19-42 at their strongest spot, except a mesh chair back (65).
PATCH_CELL = 8
PATCH_SCORE = 44
MAX_PATCHES = 2
# A patch is read again over this many working pixels each side of its centre: a label up to ~10 %
# of a 12 MP photo's width with its quiet zone (a bigger one is read at working size).
PATCH_HALF = 56
# The second look of a JPEG decodes at 1/2 scale when that leaves at least this long a side: a label
# at 4 % of the width then still spans ~160 px (~4-5 px a module), and a 48 MP photo's strip is a
# 12 MP buffer at most.
SECOND_LOOK_LONG_SIDE = 4000

Quad = tuple[tuple[float, float], ...]  # corners top-left, top-right, bottom-right, bottom-left
Box = tuple[int, int, int, int]  # left, top, right, bottom in full-size pixels


@dataclass(frozen=True, slots=True)
class QrRead:
    texts: tuple[str, ...]  # exact texts of valid symbols, in the order found
    symbol_seen: bool  # a QR symbol was located (decoded or not): a partly readable label
    second_look_px: int = 0  # pixels decoded again for the second look (JPEG rows; 0: none)


@dataclass(frozen=True, slots=True)
class Region:
    """A box of the photo at higher resolution than the working image."""

    image: Image.Image
    box: Box  # where it lies, in full-size pixels
    scale: float  # its pixels per full-size pixel


def find_qr(
    fp: BinaryIO,
    work: Image.Image,
    full_size: tuple[int, int],
    upscale_below_px: int,
    full_grey: Image.Image | None = None,
) -> QrRead:
    """QR texts: on the working image, then up-scaled if the photo is small, then at higher resolution
    only where the working image showed a symbol or a label-like patch, then, only for a symbol
    located but not decoded, repaired crops around it.

    `full_grey` is the full-size greyscale image where the caller already decoded it (PNG, HEIF:
    they have no reduced decode), so it is never decoded twice; a JPEG's rows are decoded again
    only as far down as a region to look at.
    """
    texts, seen, located = _read_qr(work)
    if texts:
        return QrRead(texts=texts, symbol_seen=True)
    if max(full_size) < upscale_below_px:
        big = work.resize((work.width * 2, work.height * 2), Image.Resampling.BICUBIC)
        for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
            texts, seen2, found = _read_qr(big, binarizer)
            if texts:
                return QrRead(texts=texts, symbol_seen=True)
            seen, located = seen or seen2, located + _scaled(found, 0.5)
    if work.size == full_size:
        for quad in _distinct(located)[:MAX_REPAIRED]:
            texts = _repair(work, quad)
            if texts:
                return QrRead(texts=texts, symbol_seen=True)
        return QrRead(texts=(), symbol_seen=seen)
    # A small label in a big photo: look again at higher resolution, only where there is something.
    factor = full_size[0] / work.width
    quads = _scaled(_distinct(located)[:MAX_REPAIRED], factor)
    boxes = [_margin_box(q, full_size) for q in quads]
    boxes += [b for b in _patch_boxes(work, factor, full_size) if not any(_inside(b, q) for q in quads)]
    if not boxes:
        return QrRead(texts=(), symbol_seen=seen)
    regions, decoded = _crops(full_grey, boxes) if full_grey is not None else _jpeg_strip(fp, full_size, boxes)
    for i, region in enumerate(regions):
        texts, seen2, found = _read_qr(region.image)
        seen = seen or seen2
        # Corners found at this resolution are the more precise; else those of the working image.
        repairs = found or ([_into(quads[i], region)] if i < len(quads) else [])
        for quad in [] if texts else _distinct(repairs)[:MAX_REPAIRED]:
            texts = _repair(region.image, quad)
            if texts:
                break
        if texts:
            return QrRead(texts=texts, symbol_seen=True, second_look_px=decoded)
    return QrRead(texts=(), symbol_seen=seen, second_look_px=decoded)


def label_patches(work: Image.Image) -> list[tuple[int, int]]:
    """Centres (working pixels) of at most MAX_PATCHES label-like patches, strongest first: squares
    of 3x3 cells whose smaller mean grey step (right, down) is at least PATCH_SCORE. In C (Pillow)
    but for the peak search on the cell grid (~1 ms for a 1000 px image)."""
    w, h = work.size
    if w < 4 * PATCH_CELL or h < 4 * PATCH_CELL:
        return []
    inner = work.crop((0, 0, w - 1, h - 1))
    right = ImageChops.difference(inner, work.crop((1, 0, w, h - 1))).reduce(PATCH_CELL)
    down = ImageChops.difference(inner, work.crop((0, 1, w - 1, h))).reduce(PATCH_CELL)
    score = np.asarray(ImageChops.darker(right, down).filter(ImageFilter.BoxBlur(1)), dtype=np.int16)
    score = score[1:-1, 1:-1]  # the box blur's edge cells see a padded border
    reach = PATCH_HALF // PATCH_CELL
    centres = []
    for _ in range(MAX_PATCHES):
        y, x = np.unravel_index(int(score.argmax()), score.shape)
        if score[y, x] < PATCH_SCORE:
            break
        centres.append((int(x + 1) * PATCH_CELL + PATCH_CELL // 2, int(y + 1) * PATCH_CELL + PATCH_CELL // 2))
        score[max(0, y - reach) : y + reach + 1, max(0, x - reach) : x + reach + 1] = 0
    return centres


def _patch_boxes(work: Image.Image, factor: float, full_size: tuple[int, int]) -> list[Box]:
    return [
        _clip(
            (x - PATCH_HALF) * factor,
            (y - PATCH_HALF) * factor,
            (x + PATCH_HALF) * factor,
            (y + PATCH_HALF) * factor,
            full_size,
        )
        for x, y in label_patches(work)
    ]


def _margin_box(quad: Quad, size: tuple[int, int]) -> Box:
    x0, y0, x1, y1 = _bounds(quad)
    margin = max(x1 - x0, y1 - y0, 1.0) * CROP_MARGIN
    return _clip(x0 - margin, y0 - margin, x1 + margin, y1 + margin, size)


def _clip(x0: float, y0: float, x1: float, y1: float, size: tuple[int, int]) -> Box:
    return max(0, int(x0)), max(0, int(y0)), min(size[0], int(x1) + 1), min(size[1], int(y1) + 1)


def _inside(box: Box, quad: Quad) -> bool:
    x0, y0, x1, y1 = _bounds(quad)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return x0 <= cx <= x1 and y0 <= cy <= y1


def _into(quad: Quad, region: Region) -> Quad:
    """A full-size quad in the region's pixels."""
    return tuple(((x - region.box[0]) * region.scale, (y - region.box[1]) * region.scale) for x, y in quad)


def _crops(full_grey: Image.Image, boxes: list[Box]) -> tuple[list[Region], int]:
    return [Region(full_grey.crop(b), b, 1.0) for b in boxes], 0


def _jpeg_strip(fp: BinaryIO, full_size: tuple[int, int], boxes: list[Box]) -> tuple[list[Region], int]:
    """The boxes from one more luma-only decode of the JPEG, down to the lowest box's last row only
    (the entropy-coded rows above it cannot be skipped; the rows below are never read), at 1/2 scale
    when that leaves SECOND_LOOK_LONG_SIDE px. Returns the regions and the pixels decoded."""
    scale = 2 if max(full_size) // 2 >= SECOND_LOOK_LONG_SIDE else 1
    fp.seek(0)
    with Image.open(fp, formats=["JPEG"]) as strip:
        strip.draft("L", (full_size[0] // scale, full_size[1] // scale))
        width, height = strip.size
        s = width / full_size[0]
        rows = min(height, -(-max(b[3] for b in boxes) * height // full_size[1]) + 16)  # + an MCU row
        if rows < height:
            # Decode only the top `rows`: libjpeg stops there and then reports the rest missing at its
            # finish step (OSError), after every row asked for was written. The working decode already
            # read the whole file, so that error says nothing new.
            strip.tile = [strip.tile[0]._replace(extents=(0, 0, width, rows))]
            strip._size = (width, rows)
            try:
                strip.load()
            except OSError:
                pass
        else:
            strip.load()
        regions = [
            Region(strip.crop((round(b[0] * s), round(b[1] * s), round(b[2] * s), round(b[3] * s))), b, s)
            for b in boxes
        ]
    return regions, width * rows


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
