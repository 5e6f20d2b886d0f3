"""The guide's label scan without a browser: the vendored zxing-wasm reader is the pinned release and the app
serves it itself (the .wasm as application/wasm, for streaming compilation); only the scan step's page
loads scan.js, deferred, and no page loads the reader (scan.js fetches it on the press); the portal's CSP
lets WebAssembly compile and the .wasm be fetched from this origin, the console's does not."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
import pytest

from backend.console.headers import CONTENT_SECURITY_POLICY, PORTAL_CONTENT_SECURITY_POLICY
from tests.factories import Factory
from tests.helpers.static import hashed
from tests.mobile_api.helpers import new_install
from tests.portal.helpers import form, portal_headers

VENDOR = Path(__file__).resolve().parents[2] / "backend" / "portal" / "static" / "vendor" / "zxing-wasm"
# zxing-wasm 3.1.4 from the npm registry (`make zxing-wasm`): dist/iife/reader/index.js, dist/reader's .wasm,
# its MIT licence; and the Apache-2.0 licence of zxing-cpp, which the .wasm is built from.
PINNED = {
    "reader.js": "d33d09ce132a692faffbed0dce656c36cb2573b4b843885a6e036390d1071d95",
    "zxing_reader.wasm": "e8af31edb56d0522f4de74495839385ef019ba8bc90d38e5ecb2f18795d86fb2",
    "LICENSE": "fb506e4ade12d7a9efa67c9d76a9a28c8e15d347ca49a69e48e29b40b34ad2ab",
    "LICENSE.zxing-cpp": "c6596eb7be8581c18be736c846fb9173b69eccf6ef94c5135893ec56bd92ba08",
}
PAGE_BUDGET = 100_000  # README: a portal page with what it loads, before photos


class TestVendoredReader:
    def test_the_files_are_the_pinned_release(self) -> None:
        found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in VENDOR.iterdir()}
        assert found == PINNED
        # The reader checks its .wasm against the hash it was built with: the two files belong together.
        assert f"ZXING_WASM_SHA256=`{PINNED['zxing_reader.wasm']}`" in (VENDOR / "reader.js").read_text()

    @pytest.mark.parametrize(
        # text/ or application/javascript, as the host's mime.types says; the .wasm's type is Python's own.
        "name, kind",
        [("zxing_reader.wasm", "application/wasm"), ("reader.js", "javascript")],
    )
    async def test_the_app_serves_it(self, client: httpx.AsyncClient, name: str, kind: str) -> None:
        r = await client.get(f"/portal/static/vendor/zxing-wasm/{name}")
        assert r.status_code == 200 and kind in r.headers["content-type"]
        assert r.content == (VENDOR / name).read_bytes()


class TestScanStep:
    async def test_only_the_scan_step_loads_scan_js_and_no_page_the_reader(
        self, client: httpx.AsyncClient, make: Factory
    ) -> None:
        d = await new_install(client, make)
        _serial, payload = await make.asset()
        headers = await portal_headers(client, d.who.subject)
        url = f"/portal/installs/{d.id}/guide"
        page = await client.get(url, headers=headers)
        scripts = re.findall(r"<script[^>]*>", page.text)
        assert f'<script src="{hashed("/portal/static/scan.js")}" defer>' in scripts
        assert all(" defer" in tag and "zxing" not in tag for tag in scripts)
        # The reader is named only to scan.js (data-reader, data-wasm), by the URLs browsers keep for good.
        named = re.findall(r'="([^"]*zxing[^"]*)"', page.text)
        assert named == [
            hashed(f"/portal/static/vendor/zxing-wasm/{name}") for name in ("reader.js", "zxing_reader.wasm")
        ]
        assert "data-scan hidden" in page.text and "data-scan-form" in page.text  # the typed form stays
        loaded = [page.content, *[(await client.get(src)).content for src in re.findall(r'src="([^"]+)"', page.text)]]
        loaded.append((await client.get("/portal/static/portal.css")).content)
        assert sum(len(body) for body in loaded) < PAGE_BUDGET

        r = await client.post(f"{url}/scan", headers=headers, data=form(headers, payload=payload))
        assert r.status_code == 303
        after = await client.get(url, headers=headers)
        assert "scan.js" not in after.text and "data-scan" not in after.text


class TestContentSecurityPolicy:
    async def test_webassembly_only_on_the_portal(self, client: httpx.AsyncClient) -> None:
        portal = (await client.get("/portal/login")).headers["content-security-policy"]
        console = (await client.get("/console/login")).headers["content-security-policy"]
        assert portal == PORTAL_CONTENT_SECURITY_POLICY and console == CONTENT_SECURITY_POLICY
        directives = dict(d.strip().split(" ", 1) for d in portal.split(";"))
        assert directives["script-src"] == "'self' 'wasm-unsafe-eval'" and directives["connect-src"] == "'self'"
        assert "'unsafe-eval'" not in portal and "'unsafe-inline'" not in portal
        assert "wasm" not in console and "connect-src" not in console
