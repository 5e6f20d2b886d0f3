"""A client generated from the app's OpenAPI document (openapi-python-client) drives the README walk-through.

The client is generated once per run into a temporary folder and talks to the real app in the test's
event loop (httpx.ASGITransport): if the document lies about a path, a body, a media type or an answer,
a step here fails.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from backend.app import create_app
from backend.principal import Role
from backend.settings import Settings
from tests.factories import ARNHEM, Factory

PACKAGE = "selfinstall_client"
# openapi-python-client takes binary bodies as application/octet-stream only: mapping image/jpeg onto it
# makes UploadPhoto send JPEG (the generator's photos). Mapping the other image types too would give
# the operation several bodies, and 0.29's template then annotates with an `Unset` it never imports.
# A resumable upload's PATCH has one binary body each (the IETF draft's and tus's media type).
CONFIG = f"""\
project_name_override: selfinstall-client
package_name_override: {PACKAGE}
post_hooks: []
content_type_overrides:
  image/jpeg: application/octet-stream
  application/partial-upload: application/octet-stream
  application/offset+octet-stream: application/octet-stream
"""


@pytest.fixture(scope="session")
async def app_spec(client: httpx.AsyncClient) -> bytes:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.content


@pytest.fixture(scope="session")
def generated(app_spec: bytes, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported (generation takes about a second)."""
    folder = tmp_path_factory.mktemp("generated-client")
    (folder / "openapi.json").write_bytes(app_spec)
    (folder / "config.yaml").write_text(CONFIG)
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [generator, "generate", "--path", "openapi.json", "--config", "config.yaml", "--meta", "none"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # Every operation is generated; what is left out is the forms of a body the client does not send.
    output = done.stdout + done.stderr
    unsupported = {line.split()[-1] for line in output.splitlines() if line.startswith("Unsupported")}
    assert unsupported == {"image/heic", "image/heif", "image/png", "text/csv"}, output  # CSV: asset and job batches
    assert "will not be generated" not in output, output
    # The label's PNG or SVG (GET the issued one, POST to issue one) is not parsed (those types are not
    # mapped, see above): `.content` holds it.
    omitted = [line for line in output.splitlines() if "response will be omitted" in line]
    assert len(omitted) == 2 and all("image/png, image/svg+xml" in line for line in omitted), output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
async def transport(client: httpx.AsyncClient, settings: Settings) -> AsyncIterator[httpx.ASGITransport]:
    """The real app (needs the `client` fixture: it opens the PostgreSQL pool)."""
    app = create_app(settings)
    yield httpx.ASGITransport(app=app)
    await app.state.ctx.store.aclose()


def api(generated: ModuleType, transport: httpx.ASGITransport, headers: dict[str, str] | None = None) -> Any:
    """A generated Client over the real app, with the party's bearer token when given."""
    c = generated.Client(base_url="http://testserver")
    c.set_async_httpx_client(httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers))
    return c


def op(name: str) -> ModuleType:
    """An operation module of the generated package, e.g. op('installs.create_install')."""
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


class TestGeneratedClient:
    async def test_the_walk_through_ends_approved(
        self, generated: ModuleType, transport: httpx.ASGITransport, make: Factory
    ) -> None:
        admin, customer = make.party(Role.ADMIN), make.party(Role.CUSTOMER)
        as_admin, as_customer = api(generated, transport, admin.headers), api(generated, transport, customer.headers)

        # The warehouse loads the meter (its label payload comes back), the customer links the connection.
        serial = f"MTR1-G{uuid.uuid4().int % 10**8:08d}"
        row = model("ImportAssetsJsonAssetIn")(serial=serial, asset_type="smart_meter_1p")
        r = await op("admin.import_assets").asyncio_detailed(client=as_admin, body=[row])
        assert r.status_code == 201, r.content
        (imported,) = r.parsed.assets
        r = await op("admin.get_asset_label").asyncio_detailed(serial, client=as_admin)
        assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.headers
        assert r.content.startswith(b"\x89PNG"), r.content[:8]  # the printable label
        ean = await make.connection(owner=None, postcode="6811AL", house_number=14)
        claim = model("ClaimConnection")(ean=ean, postcode="6811AL", house_number=14)
        r = await op("connections.claim_connection").asyncio_detailed(client=as_customer, body=claim)
        assert r.status_code == 201 and r.parsed.newly_claimed, r.content

        # 1. Start the install.
        install_id = uuid.uuid4()
        body = model("CreateInstall")(id=install_id, connection_ean=ean, asset_type="smart_meter_1p")
        r = await op("installs.create_install").asyncio_detailed(client=as_customer, body=body)
        assert r.status_code == 201, r.content
        assert r.parsed.state == "draft" and r.parsed.connection.ean == ean

        # 2. Scan the label. 3. Share the location. 4. Enter the reading.
        scanned = await op("installs.scan_label").asyncio(
            install_id, client=as_customer, body=model("ScanLabel")(payload=imported.payload)
        )
        assert scanned.asset.serial == serial
        fix = model("ReportLocation")(
            lat=ARNHEM[0],
            lon=ARNHEM[1],
            accuracy_m=6.0,
            captured_at=datetime.now(UTC),
            provider=model("ReportLocationProvider").GPS,
            mocked=False,
        )
        located = await op("installs.report_location").asyncio(install_id, client=as_customer, body=fix)
        assert located.location.accuracy_m == 6.0
        read = await op("installs.enter_reading").asyncio(
            install_id, client=as_customer, body=model("EnterReading")(value=4512.7)
        )
        assert read.reading == 4512.7

        # 5. Upload the three photos (JPEGs with the label, EXIF time and GPS) as the raw body.
        File = importlib.import_module(f"{PACKAGE}.types").File
        for slot in ("meter_label", "meter_display", "cabinet_overview"):
            # bytes, not the BytesIO File is typed for: httpx's AsyncClient refuses a synchronous stream
            photo = File(payload=make.photo(slot, payload=imported.payload, serial=serial))
            r = await op("installs.upload_photo").asyncio_detailed(install_id, slot, client=as_customer, body=photo)
            assert r.status_code == 201, r.content
            assert r.parsed.photo.slot == slot and r.parsed.photo.content_type == "image/jpeg"
            assert all(c.status.value == "pass" for c in r.parsed.photo.checks), r.content

        # 6. Submit: approved, the meter installed.
        r = await op("installs.submit_install").asyncio_detailed(install_id, client=as_customer)
        assert r.status_code == 200, r.content
        assert r.parsed.state == "approved", [(c.check, c.status) for c in r.parsed.checks]
        assert r.parsed.asset.status == "installed"
        assert [a.code for a in r.parsed.next_actions] == ["ask_for_help"]  # a person, even when approved

    async def test_problems_come_back_as_problem_models(
        self, generated: ModuleType, transport: httpx.ASGITransport, make: Factory
    ) -> None:
        Problem = model("Problem")
        customer = make.party(Role.CUSTOMER)
        get_install = op("installs.get_install")
        missing = await get_install.asyncio(uuid.uuid4(), client=api(generated, transport, customer.headers))
        assert isinstance(missing, Problem) and (missing.status, missing.code) == (404, "install/not-found")
        anonymous = await get_install.asyncio(uuid.uuid4(), client=api(generated, transport))
        assert isinstance(anonymous, Problem) and (anonymous.status, anonymous.code) == (401, "auth/unauthenticated")
        assert anonymous.request_id
