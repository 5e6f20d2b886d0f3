"""Steps of the resumable upload tests: create an upload (IETF draft or tus), append, ask the offset."""

from __future__ import annotations

import base64
from typing import Any

from httpx import AsyncClient, Response

from tests.mobile_api.helpers import Draft

PARTIAL = {"Content-Type": "application/partial-upload"}
TUS = {"Tus-Resumable": "1.0.0"}


def flag(value: bool) -> str:
    """An RFC 9651 Boolean."""
    return "?1" if value else "?0"


async def create_ietf(
    client: AsyncClient, d: Draft, slot: str, body: bytes = b"", complete: bool = False, **headers: str
) -> Response:
    """Upload creation on the photo route; with an empty body and `?0`, the draft's careful creation."""
    return await client.put(
        f"{d.url}/photos/{slot}",
        content=body,
        headers={
            **d.who.headers,
            "Content-Type": "image/jpeg",
            "Upload-Complete": flag(complete),
            **headers,
        },
    )


async def append(
    client: AsyncClient, url: str, who: dict[str, str], offset: int, body: Any, complete: bool, **headers: str
) -> Response:
    return await client.patch(
        url,
        content=body,
        headers={
            **who,
            **PARTIAL,
            "Upload-Offset": str(offset),
            "Upload-Complete": flag(complete),
            **headers,
        },
    )


def tus_metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


async def create_tus(client: AsyncClient, d: Draft, slot: str, length: int, **headers: str) -> Response:
    meta = tus_metadata(install_id=d.id, slot=slot, filetype="image/jpeg")
    return await client.post(
        "/mobile/v1/tus",
        headers={**d.who.headers, **TUS, "Upload-Length": str(length), "Upload-Metadata": meta, **headers},
    )


def checks_of(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The photo's checks as (check, status): what must be the same however the bytes arrived."""
    return sorted((c["check"], c["status"]) for c in answer["photo"]["checks"])
