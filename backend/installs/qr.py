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
