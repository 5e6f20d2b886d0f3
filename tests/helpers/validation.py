"""Small helpers shared by the validation-engine tests (HTTP and unit)."""

from __future__ import annotations

import io
from typing import Any

from httpx import AsyncClient
from PIL import Image

from backend.i18n import translate
from backend.validation.results import CheckResult
from tests.mobile_api.helpers import Draft, submit

M_PER_DEG_LAT = 6_371_008.8 * 3.141592653589793 / 180


def north_of(origin: tuple[float, float], metres: float) -> tuple[float, float]:
    return origin[0] + metres / M_PER_DEG_LAT, origin[1]


def reencoded(data: bytes, quality: int = 70, scale: float = 0.9, keep_exif: bool = True) -> bytes:
    """The same picture resized and saved again as JPEG, as a forwarded copy would be."""
    with Image.open(io.BytesIO(data)) as img:
        exif = img.info.get("exif", b"") if keep_exif else b""
        smaller = img.convert("RGB").resize(
            (round(img.width * scale), round(img.height * scale)), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    smaller.save(out, format="JPEG", quality=quality, **({"exif": exif} if exif else {}))
    return out.getvalue()


def check_of(checks: list[dict[str, Any]], name: str, subject: str | None = None) -> dict[str, Any]:
    """The one check named `name` (on `subject`) in a list of CheckViews."""
    found = [c for c in checks if c["check"] == name and (subject is None or c["subject"] == subject)]
    assert len(found) == 1, (name, subject, checks)
    return found[0]


async def submitted(client: AsyncClient, d: Draft, state: str, **headers: str) -> dict[str, Any]:
    """Submit and assert the resulting state (showing what did not pass otherwise)."""
    r = await submit(client, d, **headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == state, ([c for c in body["checks"] if c["status"] != "pass"], body["reasons"])
    return body


def said(result: CheckResult, lang: str) -> str:
    """A check's fix in `lang`, as the API words it ("" when there is nothing to fix)."""
    return translate(lang, result.fix, **result.fix_params) if result.fix else ""
