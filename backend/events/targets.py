"""Where webhooks may go outside development: https to a public address, never this machine or the
internal network (SSRF: a subscription must not make the service POST to an admin port, a cloud metadata
service or a database on the private network). Development and the tests keep local http receivers."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: Address) -> bool:
    """Not loopback, private, link-local (169.254.169.254: cloud metadata), shared, reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def refusal(url: str) -> str | None:
    """Why `url` may not be a webhook outside development, as the name's own words: None when it may
    (a name, or a public address, over https); whether a name resolves to a public address is checked
    at every delivery (`private_resolution`), since what it resolves to can change."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "https"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return "address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name
    return None if is_public(address) else "address"


async def private_resolution(url: str) -> str | None:
    """At delivery outside development: the non-public address the URL's host resolves to, if any (then
    nothing is sent), or why it could not be resolved."""
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"{host} does not resolve: {exc}"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).partition("%")[0])
        if not is_public(address):
            return f"{host} resolves to {address}, not a public address"
    return None
