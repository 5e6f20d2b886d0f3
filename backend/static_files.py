"""The portal's and the console's static files, served from memory under content-hashed URLs.

A page names a file through one Jinja global, `static_url("/portal/static/scan.js")`, which appends
`?v=<the first 12 hex digits of the file's SHA-256>`. A request carrying the file's current hash is answered
`Cache-Control: public, max-age=31536000, immutable`: a new release changes the hash and with it the URL, so a
browser keeps a file for good and never asks again. Any other request (no `v`, a stale or a wrong one) is
answered `no-cache` with an ETag, so the browser revalidates (a 304 when nothing changed) and an old link never
pins an old file.

Text, JavaScript and WebAssembly of at least MIN_GZIP_BYTES go gzip'd to a client that accepts gzip,
compressed once per process rather than per request: the QR reader's 954 kB .wasm takes about 0.1 s of CPU to
compress, a stall of the event loop on every first visit (Litestar's CompressionConfig compresses each
response as it goes out). Images and other compressed formats go as they are.

Litestar's create_static_files_router serves from the disk with one Cache-Control for every request of the
router, compresses nothing and answers no If-None-Match, hence this router. The files are read and hashed once
per process (by directory, so the many apps of a test run share them): an edited file is served, under its new
hash, after a restart, like the templates' URLs that name it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePath
from types import MappingProxyType
from typing import Annotated, NamedTuple

from litestar import Request, Response, Router, get, head
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_304_NOT_MODIFIED

VERSION_HEX = 12  # 48 bits of the SHA-256: a release's few dozen files never collide
IMMUTABLE = "public, max-age=31536000, immutable"  # a year, the most HTTP caches keep anything
REVALIDATE = "no-cache"  # kept, but asked about (If-None-Match) before every use
MIN_GZIP_BYTES = 1024  # below about a packet, gzip's header and the CPU gain nothing
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm", "image/svg+xml")

Version = Annotated[str, Parameter(max_length=64, description="The file's content hash, from static_url().")]


class Answer(NamedTuple):
    status_code: int
    body: bytes  # empty for a 304
    headers: dict[str, str]  # with Content-Type: Litestar would serialize a HEAD's None body as its media type


@dataclass(frozen=True, slots=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None  # None: sent as it is (small, or a compressed format such as PNG)
    media_type: str
    version: str  # the first VERSION_HEX hex digits of the body's SHA-256

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.media_type.startswith("text/") else self.media_type


def _read(path: Path) -> StaticFile:
    body = path.read_bytes()
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    squeeze = len(body) >= MIN_GZIP_BYTES and media_type.startswith(COMPRESSIBLE)
    gzipped = gzip.compress(body, mtime=0) if squeeze else None  # mtime=0: the same bytes in every worker
    return StaticFile(body, gzipped, media_type, hashlib.sha256(body).hexdigest()[:VERSION_HEX])


@cache
def read_directory(directory: Path) -> Mapping[str, StaticFile]:
    """Every file under `directory` by its POSIX path relative to it, read, hashed and compressed once per process."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return MappingProxyType({p.relative_to(directory).as_posix(): _read(p) for p in files})


def _quality(params: str) -> float:
    name, _, value = params.partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0  # a garbled weight allows nothing


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding value allows gzip (RFC 9110 12.5.3: `gzip;q=0` refuses it, `*` stands for it)."""
    weights = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        weights[coding.strip()] = _quality(params)
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


class StaticDirectory:
    """The files of one directory under one URL path: their hashed URLs for the templates, and their router."""

    def __init__(self, path: str, directory: Path) -> None:
        self.path = path.rstrip("/")
        self.files = read_directory(directory.resolve())

    def url(self, name: str) -> str:
        """`<path>/<name>?v=<hash>`; a KeyError for a file that is not there, so a typo fails the page's test."""
        return f"{self.path}/{name}?v={self.files[name].version}"

    def answer(self, name: str, version: str | None, if_none_match: str | None, accept_encoding: str) -> Answer:
        """`name`'s answer (or a 304) with the cache policy its `version` earns."""
        found = self.files.get(name)
        if found is None:
            raise NotFoundException(f"no static file {name}")
        headers = {
            "Cache-Control": IMMUTABLE if version == found.version else REVALIDATE,
            "ETag": found.etag,
            "Vary": "Accept-Encoding",  # not Accept-Language: a file is the same in every language
        }
        if if_none_match is not None and found.etag in (tag.strip() for tag in if_none_match.split(",")):
            return Answer(HTTP_304_NOT_MODIFIED, b"", headers)
        headers["Content-Type"] = found.content_type
        if found.gzipped is not None and accepts_gzip(accept_encoding):
            return Answer(HTTP_200_OK, found.gzipped, {**headers, "Content-Encoding": "gzip"})
        return Answer(HTTP_200_OK, found.body, headers)

    def router(self) -> Router:
        """GET and HEAD <path>/{file_path:path}: public (no bearer token) and outside the OpenAPI document."""

        def answer(file_path: PurePath, request: Request[object, object, object], version: str | None) -> Answer:
            name, headers = file_path.as_posix().lstrip("/"), request.headers
            return self.answer(name, version, headers.get("if-none-match"), headers.get("accept-encoding", ""))

        @get("/{file_path:path}", include_in_schema=False)
        async def static_file(
            file_path: FromPath[PurePath], request: Request[object, object, object], v: FromQuery[Version | None] = None
        ) -> Response[bytes]:
            """A static file from memory."""
            a = answer(file_path, request, v)
            return Response(a.body, status_code=a.status_code, headers=a.headers)

        @head("/{file_path:path}", include_in_schema=False)
        async def static_file_head(
            file_path: FromPath[PurePath], request: Request[object, object, object], v: FromQuery[Version | None] = None
        ) -> Response[None]:
            """A static file's headers, as its GET would send them."""
            a = answer(file_path, request, v)
            length = {"Content-Length": str(len(a.body))} if a.status_code == HTTP_200_OK else {}
            return Response(None, status_code=a.status_code, headers={**a.headers, **length})

        return Router(path=self.path, route_handlers=[static_file, static_file_head], opt={"exclude_from_auth": True})


def static_urls(*directories: StaticDirectory) -> Callable[[str], str]:
    """The templates' `static_url("/portal/static/scan.js")`: the path as written, with its file's hash."""

    def static_url(path: str) -> str:
        for directory in directories:
            if path.startswith(directory.path + "/"):
                return directory.url(path.removeprefix(directory.path + "/"))
        raise KeyError(f"no static directory serves {path}")

    return static_url
