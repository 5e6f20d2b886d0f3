"""A static file's bytes and its content-hashed URL, computed here from the file itself rather than by the
code under test (backend/static_files.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def on_disk(url_path: str) -> bytes:
    """The file a static URL path names: /portal/static/x is backend/portal/static/x."""
    area, _static, name = url_path.lstrip("/").split("/", 2)
    return (BACKEND / area / "static" / name).read_bytes()


def hashed(url_path: str) -> str:
    """`url_path` as a page names it: `?v=` the first 12 hex digits of the file's SHA-256."""
    return f"{url_path}?v={hashlib.sha256(on_disk(url_path)).hexdigest()[:12]}"
