"""Signed QR labels: `SI1:<kid>:<serial>:<signature>`, sign, verify and render.

The payload uses only QR alphanumeric characters (upper case, digits, ':' and '-'), so the code
has few, large modules and reads well from a phone photo. The signature is an HMAC-SHA256 over
version, key id and serial, truncated to 100 bits and base32-encoded; the key id lets keys rotate
(every configured key verifies, the first one signs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from html import escape

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont

from backend.errors import Invalid

VERSION = "SI1"
_SIG_CHARS = 20  # 100 bits of base32
_PAYLOAD = re.compile(rf"^{VERSION}:([A-Z0-9]{{1,8}}):([A-Z0-9][A-Z0-9-]{{2,38}}):([A-Z2-7]{{{_SIG_CHARS}}})$")
SERIAL_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,38}$")


@dataclass(frozen=True, slots=True)
class LabelPayload:
    key_id: str
    serial: str


def _signature(key: str, key_id: str, serial: str) -> str:
    mac = hmac.new(key.encode(), f"{VERSION}:{key_id}:{serial}".encode(), hashlib.sha256).digest()
    return base64.b32encode(mac).decode()[:_SIG_CHARS]


def sign(serial: str, keys: dict[str, str], key_id: str) -> str:
    """The label payload for `serial`, signed with the key `key_id`."""
    if not SERIAL_PATTERN.fullmatch(serial):
        raise ValueError(f"serial {serial!r} must be 3-39 upper-case letters, digits or '-'")
    return f"{VERSION}:{key_id}:{serial}:{_signature(keys[key_id], key_id, serial)}"


def verify(payload: str, keys: dict[str, str]) -> LabelPayload:
    """Parse and check a scanned payload; raises qr/malformed, qr/unknown-key or qr/forged."""
    match = _PAYLOAD.fullmatch(payload.strip())
    if not match:
        raise Invalid("qr/malformed")
    key_id, serial, signature = match.groups()
    key = keys.get(key_id)
    if key is None:
        raise Invalid("qr/unknown-key")
    if not hmac.compare_digest(signature, _signature(key, key_id, serial)):
        raise Invalid("qr/forged")
    return LabelPayload(key_id=key_id, serial=serial)


def _qr(payload: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(payload)
    code.make(fit=True)
    return code


def render_png(payload: str, caption: str) -> bytes:
    """A printable label: the QR code with the serial as caption underneath."""
    qr_img = _qr(payload).make_image(fill_color="black", back_color="white").get_image().convert("L")
    font = ImageFont.load_default(size=max(18, qr_img.width // 14))
    label = Image.new("L", (qr_img.width, qr_img.height + font.size * 2), 255)
    label.paste(qr_img, (0, 0))
    draw = ImageDraw.Draw(label)
    draw.text((qr_img.width // 2, qr_img.height + font.size // 2), caption, fill=0, font=font, anchor="mt")
    out = io.BytesIO()
    label.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(payload: str) -> bytes:
    """The QR code as a scalable SVG path, for label printers."""
    out = io.BytesIO()
    _qr(payload).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class SheetLabel:
    """One label on a printed sheet: its signed payload and the two lines printed beside the code."""

    payload: str
    serial: str
    caption: str


# A4 with 3 x 7 labels of 63.5 x 38.1 mm (the common L7160 layout), in millimetres.
SHEET_COLUMNS, SHEET_ROWS = 3, 7
SHEET_SIZE = SHEET_COLUMNS * SHEET_ROWS
_PAGE_W, _PAGE_H = 210.0, 297.0
_LABEL_W, _LABEL_H, _TOP, _LEFT, _GAP = 63.5, 38.1, 15.15, 7.2, 2.5
_CODE = 32.0  # the QR code's side, quiet zone included


def _modules(payload: str, x: float, y: float) -> str:
    """The code's dark modules as one path at (x, y), `_CODE` mm wide (the quiet zone included)."""
    matrix = _qr(payload).get_matrix()
    size = _CODE / len(matrix)
    return "".join(
        f"M{x + c * size:.3f} {y + r * size:.3f}h{size:.3f}v{size:.3f}h-{size:.3f}z"
        for r, row in enumerate(matrix)
        for c, dark in enumerate(row)
        if dark
    )


def render_sheet_svg(labels: list[SheetLabel]) -> bytes:
    """An A4 sheet of up to SHEET_SIZE labels as SVG in millimetres (prints at true size): each label the QR
    code and, beside it, the serial and a caption (the asset type in words)."""
    if len(labels) > SHEET_SIZE:
        raise ValueError(f"a sheet holds {SHEET_SIZE} labels")
    parts = []
    for i, label in enumerate(labels):
        x = _LEFT + (i % SHEET_COLUMNS) * (_LABEL_W + _GAP)
        y = _TOP + (i // SHEET_COLUMNS) * _LABEL_H
        text_x = x + _CODE + 1
        parts.append(
            f'<path d="{_modules(label.payload, x + 1, y + (_LABEL_H - _CODE) / 2)}"/>'
            f'<text x="{text_x:.2f}" y="{y + 16:.2f}" font-size="3.6" font-weight="bold">{escape(label.serial)}</text>'
            f'<text x="{text_x:.2f}" y="{y + 22:.2f}" font-size="2.4">{escape(label.caption)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_PAGE_W:g}mm" height="{_PAGE_H:g}mm" '
        f'viewBox="0 0 {_PAGE_W:g} {_PAGE_H:g}" font-family="sans-serif">'
        f'<rect width="{_PAGE_W:g}" height="{_PAGE_H:g}" fill="#fff"/><g fill="#000">{"".join(parts)}</g></svg>'
    ).encode()
