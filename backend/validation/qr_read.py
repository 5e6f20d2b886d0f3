"""Reading QR codes out of a photo with zxing-cpp: the working-size image first, more only when needed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

import zxingcpp
from PIL import Image

FORMATS = ["JPEG", "PNG", "HEIF"]


@dataclass(frozen=True, slots=True)
class QrRead:
    texts: tuple[str, ...]  # exact texts of valid symbols, in the order found
    symbol_seen: bool  # a QR symbol was located (decoded or not): a partly readable label


def find_qr(fp: BinaryIO, work: Image.Image, full_size: tuple[int, int], upscale_below_px: int) -> QrRead:
    """QR texts: on the working image, then 2x up-scaled if the photo is small, then at full size."""
    texts, seen = _read_qr(work)
    if not texts and max(full_size) < upscale_below_px:
        texts, seen2 = _read_qr(work.resize((work.width * 2, work.height * 2), Image.Resampling.BICUBIC))
        seen = seen or seen2
    if not texts and work.size != full_size:  # a small label in a big photo
        fp.seek(0)
        with Image.open(fp, formats=FORMATS) as full:
            texts, seen2 = _read_qr(full.convert("L"))
        seen = seen or seen2
    return QrRead(texts=texts, symbol_seen=seen or bool(texts))


def _read_qr(gray: Image.Image) -> tuple[tuple[str, ...], bool]:
    found = zxingcpp.read_barcodes(
        gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain, return_errors=True
    )
    texts = tuple(dict.fromkeys(b.text for b in found if b.valid and b.text))
    return texts, bool(found)
