"""Stored photo bytes as an HTTP response: streamed chunk by chunk with their length, whichever store holds them."""

from __future__ import annotations

from litestar.response import Stream

from backend.storage.base import PhotoBody


def photo_response(body: PhotoBody, media_type: str, *, filename: str | None = None, max_age_s: int = 3600) -> Stream:
    """A private, cacheable, inline response; a client that goes away stops the reading from the store."""
    headers = {"Content-Length": str(body.size), "Cache-Control": f"private, max-age={max_age_s}"}
    if filename is not None:
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return Stream(body.chunks, media_type=media_type, headers=headers)
