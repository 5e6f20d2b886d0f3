"""A specialist's view of a photo: upright, reduced, with each QR code's detected outline drawn on it."""

from __future__ import annotations

import io
from pathlib import Path

import zxingcpp
from PIL import Image, ImageDraw, ImageFont, ImageOps

from backend.validation.photo import CONTENT_TYPES

MAX_SIDE = 1400


def annotated_jpeg(path: Path) -> bytes:
    """The photo at most MAX_SIDE px, the QR outline(s) in red with the decoded text beside them."""
    with Image.open(path, formats=list(CONTENT_TYPES)) as img:
        upright = ImageOps.exif_transpose(img).convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    draw = ImageDraw.Draw(upright)
    font = ImageFont.load_default(size=max(14, upright.width // 60))
    found = zxingcpp.read_barcodes(upright, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
    for code in found:
        p = code.position
        corners = [
            (p.top_left.x, p.top_left.y),
            (p.top_right.x, p.top_right.y),
            (p.bottom_right.x, p.bottom_right.y),
            (p.bottom_left.x, p.bottom_left.y),
        ]
        draw.polygon(corners, outline=(230, 30, 30), width=max(3, upright.width // 300))
        x, y = min(c[0] for c in corners), max(c[1] for c in corners) + 6
        draw.rectangle(draw.textbbox((x, y), code.text, font=font), fill=(255, 255, 255))
        draw.text((x, y), code.text, fill=(200, 0, 0), font=font)
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=85)
    return out.getvalue()
