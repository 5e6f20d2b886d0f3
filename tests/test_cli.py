"""The `selfinstall` console script, run as a user runs it: a subprocess on the test database and DATA_DIR."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
import zxingcpp
from httpx import AsyncClient
from PIL import Image

from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.ean import is_valid_ean18
from backend.notifications import repository as notifications_repo
from backend.principal import Role
from backend.settings import Settings
from fixtures.seed import DEMO_EMAIL
from tests.factories import Factory

SCRIPT = Path(sys.executable).parent / "selfinstall"


@dataclass
class Run:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode()


def _cli(*args: str | Path) -> Run:
    """Run the installed script with this test run's environment (DATA_DIR, DATABASE_URL)."""
    done = subprocess.run(
        [str(SCRIPT), *map(str, args)], capture_output=True, env=dict(os.environ), timeout=300, check=False
    )
    return Run(done.returncode, done.stdout, done.stderr.decode())


def _serial() -> str:
    return f"MTR1-C{uuid.uuid4().hex[:10].upper()}"


def _qr_texts(png: bytes) -> list[str]:
    return [b.text for b in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


class TestToken:
    @pytest.mark.parametrize(
        "role, status",
        [(Role.CUSTOMER, 200), (Role.INSTALLER, 200), (Role.SPECIALIST, 403), (Role.ADMIN, 403), (Role.SYSTEM, 403)],
    )
    async def test_printed_token_is_accepted_by_the_api(
        self, client: AsyncClient, settings: Settings, role: Role, status: int
    ) -> None:
        subject = f"cli-{uuid.uuid4().hex[:8]}"
        run = _cli("token", "--role", role.value, "--sub", subject)
        assert run.code == 0, run.err
        token = run.text.strip()
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
        assert claims["sub"] == subject and claims["extras"]["role"] == role.value
        r = await client.get("/mobile/v1/installs", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == status, r.text
        if status == 200:
            assert r.json() == {"items": [], "next_cursor": None}

    async def test_ttl_sets_the_expiry(self, settings: Settings) -> None:
        run = _cli("token", "--role", "customer", "--sub", "cli-ttl", "--ttl", "60")
        assert run.code == 0, run.err
        claims = jwt.decode(
            run.text.strip(), settings.jwt_secret, algorithms=[settings.jwt_algorithm], audience=settings.jwt_audience
        )
        assert claims["exp"] - claims["iat"] == 60
        for typo in ("-5", "0"):  # a token expired before it is made: said as the typo it is
            run = _cli("token", "--role", "customer", "--sub", "cli-ttl", "--ttl", typo)
            assert run.code == 2 and "must be a number of seconds above 0" in run.err and "500" not in run.err

    async def test_email_is_the_claim_a_providers_token_carries(self, client: AsyncClient, settings: Settings) -> None:
        run = _cli("token", "--role", "customer", "--sub", "cli-mail", "--email", "anna@example.com")
        assert run.code == 0, run.err
        r = await client.get("/mobile/v1/me/notifications", headers={"Authorization": f"Bearer {run.text.strip()}"})
        assert (r.json()["email"], r.json()["email_source"]) == ("anna@example.com", "account")
        refused = _cli("token", "--role", "customer", "--sub", "cli-mail", "--email", "not an address")
        assert refused.code == 2 and "e-mail address" in refused.err

    def test_ttl_beyond_the_maximum_lifetime_is_refused(self, settings: Settings) -> None:
        """The command never prints a token the API would refuse."""
        run = _cli("token", "--role", "customer", "--sub", "cli-long", "--ttl", str(settings.jwt_max_lifetime_s + 1))
        assert run.code == 2 and run.out == b""
        assert "JWT_MAX_LIFETIME_S" in run.err

    def test_subject_the_api_would_refuse_is_refused(self) -> None:
        run = _cli("token", "--role", "customer", "--sub", "x" * 129)
        assert run.code == 2 and run.out == b""

    def test_unknown_role_is_refused(self) -> None:
        run = _cli("token", "--role", "nope", "--sub", "x")
        assert run.code != 0
        assert run.out == b""
        assert "nope" in run.err


class TestLabel:
    async def test_png_file_holds_the_signed_payload(self, make: Factory, tmp_path: Path) -> None:
        serial, payload = await make.asset()
        out = tmp_path / "label.png"
        run = _cli("label", serial, "-o", out)
        assert run.code == 0, run.err
        assert payload in run.text
        assert out.read_bytes().startswith(b"\x89PNG")
        assert _qr_texts(out.read_bytes()) == [payload]

    async def test_png_to_stdout_without_output_file(self, make: Factory) -> None:
        serial, payload = await make.asset("home_battery")
        run = _cli("label", serial)
        assert run.code == 0, run.err
        assert _qr_texts(run.out) == [payload]

    async def test_svg_format(self, make: Factory, tmp_path: Path) -> None:
        serial, _ = await make.asset()
        out = tmp_path / "label.svg"
        run = _cli("label", serial, "--format", "svg", "-o", out)
        assert run.code == 0, run.err
        svg = out.read_text()
        assert svg.startswith("<?xml") or "<svg" in svg

    def test_unknown_serial_exits_2_with_the_error_code(self, tmp_path: Path) -> None:
        out = tmp_path / "label.png"
        serial = _serial()
        run = _cli("label", serial, "-o", out)
        assert run.code == 2
        assert "assets/not-found" in run.err and serial in run.err
        assert not out.exists()


class TestImportAssets:
    async def test_csv_is_imported_and_each_payload_printed(self, settings: Settings, tmp_path: Path) -> None:
        serials = [_serial(), _serial()]
        batch = tmp_path / "batch.csv"
        batch.write_text("serial,asset_type\n" + "".join(f"{s},smart_meter_1p\n" for s in serials))
        run = _cli("import-assets", batch)
        assert run.code == 0, run.err
        lines = [line.split("\t") for line in run.text.splitlines()]
        assert [(f[0], f[1], f[2]) for f in lines] == [(s, "smart_meter_1p", "created") for s in serials]
        assert [qr.verify(f[3], settings.qr_keys).serial for f in lines] == serials
        stored = {a.serial: a for a in await repo.assets_by_serials(serials)}
        assert {s: (a.asset_type, a.status) for s, a in stored.items()} == {
            s: ("smart_meter_1p", "in_stock") for s in serials
        }
        again = _cli("import-assets", batch)
        assert again.code == 0, again.err
        assert [line.split("\t")[2] for line in again.text.splitlines()] == ["unchanged", "unchanged"]

    async def test_json_list_is_imported(self, settings: Settings, tmp_path: Path) -> None:
        serial = _serial()
        batch = tmp_path / "batch.json"
        batch.write_text(json.dumps([{"serial": serial, "asset_type": "smart_meter_1p"}]))
        run = _cli("import-assets", batch)
        assert run.code == 0, run.err
        assert qr.verify(run.text.split("\t")[3].strip(), settings.qr_keys).serial == serial
        assert await repo.asset_by_serial(serial) is not None

    async def test_bad_row_exits_2_with_its_line_and_stores_nothing(self, tmp_path: Path) -> None:
        good = [_serial(), _serial()]
        batch = tmp_path / "bad.csv"
        batch.write_text(f"serial,asset_type\n{good[0]},smart_meter_1p\n{good[1]},toaster\n")
        run = _cli("import-assets", batch)
        assert run.code == 2
        assert "assets/invalid-batch" in run.err and "line 3" in run.err
        assert await repo.assets_by_serials(good) == []


class TestSeed:
    async def test_seed_is_idempotent_and_writes_demo_json(self, settings: Settings) -> None:
        first = _cli("seed")
        assert first.code == 0, first.err
        second = _cli("seed")
        assert second.code == 0, second.err
        assert "0 new connections, 0 new assets" in second.text
        demo = json.loads((settings.data_dir / "demo.json").read_text())
        assert set(demo) >= {"users", "connections", "assets"}
        # Every role a person holds; a system's token is minted by `report-device` itself.
        assert {u["role"] for u in demo["users"]} >= {r.value for r in Role} - {Role.SYSTEM.value}
        assert demo["connections"] and demo["assets"]
        for c in demo["connections"]:
            assert is_valid_ean18(c["ean"]), c["ean"]
            stored = await repo.connection_by_ean(c["ean"])
            assert stored is not None and stored.owner_subject == c["owner"]
        assert len({c["ean"] for c in demo["connections"]}) == len(demo["connections"])
        for a in demo["assets"]:
            assert qr.verify(a["payload"], settings.qr_keys).serial == a["serial"]
        stored_assets = await repo.assets_by_serials([a["serial"] for a in demo["assets"]])
        assert len(stored_assets) == len(demo["assets"])
        # The demo installers have jobs (dispatched once), each with its allocated meter.
        assert sorted((j["installer"], j["serial"]) for j in demo["jobs"]) == [
            ("inst-fatima", "MTR3-000002"),
            ("inst-joost", "MTR1-000010"),
            ("inst-joost", "MTR3-000001"),
        ]
        # The demo customers' addresses are in use at once (their sign-in vouches for them), none waiting
        # for a check link: the README's walk-through mails them.
        for subject, email, _ in DEMO_EMAIL:
            preference = await notifications_repo.preference(subject)
            assert preference is not None and (preference.email, preference.email_pending) == (email, None)


class TestServe:
    async def test_a_busy_port_is_refused_not_shared(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            run = _cli("serve", "--port", port)
        assert run.code != 0
        assert f"127.0.0.1:{port} is already in use" in run.err


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`selfinstall serve` as a user starts it, on this run's database; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port)],
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # readiness, not a wait for behaviour: the first answer of /health
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class TestReportDevice:
    async def test_posts_a_report_that_confirms_an_approved_install(
        self, client: AsyncClient, make: Factory, server: str
    ) -> None:
        from tests.integrations.helpers import approved, install_row

        d = await approved(client, make)
        run = _cli("report-device", d.serial, "--ean", d.ean, "--reading", "4513.2", "--url", server)
        assert run.code == 0, run.err
        status, _, text = run.text.partition("\n")
        answer = json.loads(text)
        assert status == "HTTP 201" and answer["outcomes"] == ["confirmed"] and answer["install_id"] == d.id
        assert answer["readings"]["import_kwh"] == 4513.2 and answer["source"] == "head-end"
        assert (await install_row(d.id))["confirmed_at"] is not None
        again = _cli("report-device", d.serial, "--ean", d.ean, "--url", server, "--report-id", answer["report_id"])
        assert again.code == 2 and "HTTP 409" in again.text and "device-report/id-conflict" in again.text

    def test_an_invalid_ean_is_the_services_answer(self, server: str) -> None:
        run = _cli("report-device", "MTR1-000001", "--ean", "871687000000000000", "--url", server)
        assert run.code == 2 and "HTTP 422" in run.text and "connection/invalid-ean" in run.text

    def test_no_server_is_said_in_words(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        run = _cli("report-device", "MTR1-000001", "--ean", "871687000000000009", "--url", f"http://127.0.0.1:{port}")
        assert run.code != 0 and "is `selfinstall serve` running?" in run.err


class TestSweepDevices:
    async def test_opens_a_case_for_a_silent_device(self, client: AsyncClient, make: Factory) -> None:
        from datetime import UTC, datetime, timedelta

        from backend.installs.tables import Install
        from tests.integrations.helpers import approved, cases

        d = await approved(client, make)
        decided = datetime.now(UTC) - timedelta(days=30)
        await Install.update({Install.decided_at: decided}).where(Install.id == uuid.UUID(d.id))
        run = _cli("sweep-devices")
        assert run.code == 0, run.err
        assert int(run.text.split()[0]) >= 1 and "device_silent cases opened" in run.text
        assert (await cases(d.id))["device_silent"]["state"] == "open"
