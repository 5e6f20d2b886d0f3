"""Where webhooks may go outside development: https to a public address, never this machine or the
internal network (SSRF: a subscription must not make the service POST to an admin port, a cloud metadata
service or a database on the private network). Development and the tests keep local http receivers."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Awaitable[list[Any]]]  # getaddrinfo's answers for a host name


def is_public(address: Address) -> bool:
    """Not loopback, private, link-local (169.254.169.254: cloud metadata), shared, reserved or multicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def refusal(url: str) -> str | None:
    """Why `url` may not be a webhook outside development, as the name's own words: None when it may
    (a name, or a public address, over https); whether a name resolves to a public address is checked
    at every delivery (`public_address`), since what it resolves to can change."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "https"
    host = (parts.hostname or "").rstrip(".").lower()
    if not host or host == "localhost" or host.endswith(".localhost") or not _resolvable(parts.netloc, host):
        return "address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name
    return None if is_public(address) else "address"


def _resolvable(netloc: str, host: str) -> bool:
    """A port that is a number, and a name DNS can carry (IDNA: no empty label, none over 63 octets)."""
    try:
        urlsplit(f"//{netloc}").port  # noqa: B018 - read for the ValueError a port like ':abc' raises
        host.encode("idna")
    except ValueError:  # UnicodeError is one
        return False
    return True


async def system_resolver(host: str) -> list[Any]:
    return await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)


async def public_address(url: str, resolve: Resolver = system_resolver) -> Address | str:
    """At delivery outside development: the address the delivery connects to (`pinned`) — the URL's host
    resolved once, every answer public — or why nothing may be sent (a non-public answer, or none).
    Connecting to the very address checked is what stops DNS rebinding: a name that answers a public
    address to the check and an internal one to a second lookup, made by the HTTP client, would
    otherwise pass."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if not _resolvable(parts.netloc, host):  # made before the check at creation, or in development
        return f"{host} is not a name or port a delivery can reach"
    try:
        infos = await resolve(host)
    except (OSError, ValueError) as exc:  # ValueError: a name getaddrinfo will not encode
        return f"{host} does not resolve: {exc}"
    addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos]
    for address in addresses:
        if not is_public(address):
            return f"{host} resolves to {address}, not a public address"
    return addresses[0] if addresses else f"{host} does not resolve"


def pinned(url: str, address: Address) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(url, headers, extensions) that send a request for `url` to `address`: the URL's own host stays
    in Host and, over https, in the TLS server name the certificate is checked against. The connection
    is closed after it: httpx pools connections by address, not by name, so another name on the same
    address would otherwise be sent over a TLS session checked for this one's certificate."""
    parts = urlsplit(url)
    netloc = f"[{address}]" if address.version == 6 else str(address)
    if parts.port is not None:
        netloc += f":{parts.port}"
    host = parts.hostname or ""
    headers = {"Host": parts.netloc.rpartition("@")[2], "Connection": "close"}
    return urlunsplit(parts._replace(netloc=netloc)), headers, {"sni_hostname": host}
