"""The portal's and the console's static files (backend/static_files.py) through the real app: pages name them by
content hash, a hashed URL is kept for good and any other asks again, gzip for a client that takes it, no
CSRF cookie; the JSON API and the photos are not touched by any of it."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

from backend.static_files import IMMUTABLE, REVALIDATE, StaticDirectory, accepts_gzip
from tests.factories import Factory
from tests.helpers.static import hashed, on_disk
from tests.mobile_api.helpers import new_install, upload

WASM = "/portal/static/vendor/zxing-wasm/zxing_reader.wasm"
GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}  # httpx asks for gzip unless told otherwise


async def raw(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its bytes as they travelled (httpx would decode a gzip'd body)."""
    async with client.stream("GET", url, headers=headers) as r:
        return r, b"".join([chunk async for chunk in r.aiter_raw()])


class TestHashedUrls:
    @pytest.mark.parametrize(
        "page, files",
        [
            ("/portal/login", {"/portal/static/portal.css", "/portal/static/portal.js"}),
            ("/console/login", {"/console/static/console.css", "/console/static/console.js"}),
        ],
    )
    async def test_a_page_names_its_files_by_hash_and_they_are_kept_for_good(
        self, client: httpx.AsyncClient, page: str, files: set[str]
    ) -> None:
        html = (await client.get(page)).text
        named = set(re.findall(r'(?:href|src)="(/(?:portal|console)/static/[^"]+)"', html))
        assert named == {hashed(path) for path in files}
        for url in named:
            r = await client.get(url, headers=IDENTITY)
            assert r.status_code == 200 and r.content == on_disk(url.split("?")[0])
            assert r.headers["cache-control"] == IMMUTABLE

    @pytest.mark.parametrize("query", ["", "?v=000000000000", "?v="])
    async def test_without_the_current_hash_it_is_asked_about_again(
        self, client: httpx.AsyncClient, query: str
    ) -> None:
        r = await client.get(f"/portal/static/portal.css{query}", headers=IDENTITY)
        assert r.status_code == 200 and r.content == on_disk("/portal/static/portal.css")
        assert r.headers["cache-control"] == REVALIDATE
        again = await client.get(f"/portal/static/portal.css{query}", headers={"If-None-Match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b"" and again.headers["cache-control"] == REVALIDATE
        other = await client.get(f"/portal/static/portal.css{query}", headers={"If-None-Match": '"0"'})
        assert other.status_code == 200 and other.content == r.content

    async def test_head_says_what_get_would_send(self, client: httpx.AsyncClient) -> None:
        got, sent = await raw(client, hashed(WASM), GZIP)
        r = await client.head(hashed(WASM), headers=GZIP)
        assert r.status_code == 200 and r.content == b""
        for name in ("content-length", "content-encoding", "content-type", "cache-control", "etag"):
            assert r.headers[name] == got.headers[name], name
        assert int(r.headers["content-length"]) == len(sent)

    async def test_a_file_that_is_not_there(self, client: httpx.AsyncClient) -> None:
        for url in ("/portal/static/nothing.js", "/console/static/vendor", "/console/static/%2e%2e/headers.py"):
            assert (await client.get(url)).status_code == 404, url

    def test_a_template_naming_a_missing_file_fails(self, tmp_path: Path) -> None:
        (tmp_path / "a.css").write_text("p { margin: 0 }")
        files = StaticDirectory("/x/static", tmp_path)
        assert files.url("a.css") == f"/x/static/a.css?v={hashlib.sha256(b'p { margin: 0 }').hexdigest()[:12]}"
        with pytest.raises(KeyError):
            files.url("b.css")


class TestCompression:
    @pytest.mark.parametrize("url", [WASM, "/portal/static/vendor/zxing-wasm/reader.js", "/console/static/console.css"])
    async def test_gzip_decompresses_to_the_exact_file(self, client: httpx.AsyncClient, url: str) -> None:
        r, sent = await raw(client, hashed(url), GZIP)
        assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
        assert int(r.headers["content-length"]) == len(sent) < len(on_disk(url))
        assert gzip.decompress(sent) == on_disk(url)
        assert "accept-encoding" in r.headers["vary"].lower() and r.headers["cache-control"] == IMMUTABLE

    async def test_the_wasm_keeps_its_type_and_shrinks_to_under_half(self, client: httpx.AsyncClient) -> None:
        r, sent = await raw(client, hashed(WASM), GZIP)
        assert r.headers["content-type"] == "application/wasm"  # streaming compilation needs it
        assert len(sent) < len(on_disk(WASM)) / 2

    @pytest.mark.parametrize("accept", ["identity", "gzip;q=0, identity", "br", ""])
    async def test_as_it_is_to_a_client_that_takes_no_gzip(self, client: httpx.AsyncClient, accept: str) -> None:
        r, sent = await raw(client, hashed(WASM), {"Accept-Encoding": accept})
        assert "content-encoding" not in r.headers and sent == on_disk(WASM)
        assert int(r.headers["content-length"]) == len(sent)

    def test_accept_encoding_weights(self) -> None:
        assert accepts_gzip("gzip, deflate, br") and accepts_gzip("br;q=1.0, gzip;q=0.8") and accepts_gzip("*")
        assert not accepts_gzip("gzip;q=0") and not accepts_gzip("*;q=0") and not accepts_gzip("deflate")
        assert not accepts_gzip("gzip;q=zero") and not accepts_gzip("")

    def test_images_and_small_files_go_as_they_are(self, tmp_path: Path) -> None:
        (tmp_path / "photo.png").write_bytes(b"\x89PNG" + bytes(range(256)) * 40)
        (tmp_path / "tiny.css").write_text("p{}")
        (tmp_path / "big.css").write_text("p { margin: 0 }\n" * 200)
        files = StaticDirectory("/x/static", tmp_path).files
        assert files["photo.png"].gzipped is None and files["tiny.css"].gzipped is None
        assert gzip.decompress(files["big.css"].gzipped or b"") == (tmp_path / "big.css").read_bytes()


class TestNoCsrfCookie:
    async def test_a_static_file_sets_none_a_page_does(self, client: httpx.AsyncClient) -> None:
        assert "csrftoken" in (await client.get("/portal/login")).headers.get("set-cookie", "")
        for url in (hashed("/portal/static/scan.js"), "/console/static/console.js"):
            r = await client.get(url)
            assert r.status_code == 200 and "set-cookie" not in r.headers, url


class TestTheRestIsNotCompressed:
    async def test_a_photo_and_the_json_api_with_gzip_accepted(self, client: httpx.AsyncClient, make: Factory) -> None:
        d = await new_install(client, make)
        photo = make.photo("cabinet_overview")
        created = await upload(client, d, "cabinet_overview", photo)
        assert created.status_code == 201, created.text
        r, sent = await raw(client, created.json()["photo"]["url"], {**d.who.headers, **GZIP})
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
        assert "content-encoding" not in r.headers and sent[:2] == b"\xff\xd8"  # a JPEG as it travelled
        r, sent = await raw(client, d.url, {**d.who.headers, **GZIP})
        assert r.status_code == 200 and "content-encoding" not in r.headers
        assert int(r.headers["content-length"]) == len(sent) and json.loads(sent)["id"] == d.id
