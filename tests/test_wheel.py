"""The built wheel is the product: built from the sources alone, installed into a fresh virtual
environment with only the dependencies it declares, it migrates, seeds and serves the console.

A wheel missing a template answered /console/login with a 500, and a dependency used but not declared
would only show on a clean machine: both fail here. pip resolves the declared dependencies from the
package index as an operator's install would (its cache makes a rerun quick).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import START_WITHIN_S, free_port

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "backend", "mobile_api", "fixtures")
PACKAGES = ("backend", "mobile_api", "fixtures")
# The .mo files too: the wheel's build compiles the message catalogs itself (setup.py).
_BUILD_LEFTOVERS = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "*.mo")


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the sources (nothing of the working tree's build state goes in)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=_BUILD_LEFTOVERS)
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(source, src / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", tmp / "dist", src, cwd=tmp)
    (built,) = (tmp / "dist").glob("selfinstall-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Path:
    """A fresh environment holding the wheel and what it declares, nothing of the development one."""
    env_dir = wheel.parent.parent / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", env_dir, cwd=wheel.parent)
    python = env_dir / "bin" / "python"
    # This pip installs into that interpreter (--python): no pip of its own to bootstrap.
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-compile", wheel, cwd=wheel.parent)
    return env_dir


def _runtime_files(package: str) -> set[str]:
    """Files beside the code that the package reads at run time (templates, static files, catalogs)."""
    root = ROOT / package
    return {
        str(p.relative_to(ROOT))
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    }


class TestWheelContents:
    def test_every_file_the_code_reads_is_packaged(self, wheel: Path) -> None:
        packaged = set(zipfile.ZipFile(wheel).namelist())
        wanted = set().union(*(_runtime_files(p) for p in PACKAGES))
        assert {"backend/console/templates/login.html", "backend/console/static/console.css"} <= wanted
        assert {"backend/locale/nl/LC_MESSAGES/messages.mo", "backend/locale/en/LC_MESSAGES/messages.mo"} <= packaged
        assert wanted - packaged == set()

    def test_every_migration_is_packaged(self, wheel: Path) -> None:
        packaged = set(zipfile.ZipFile(wheel).namelist())
        migrations = {str(p.relative_to(ROOT)) for p in (ROOT / "backend").glob("*/piccolo_migrations/*.py")}
        assert migrations and migrations <= packaged


@pytest.fixture(scope="module")
def served(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`selfinstall migrate`, `seed` and `serve` of the installed wheel, from an empty folder, on SQLite."""
    workdir = tmp_path_factory.mktemp("installed")
    drop = {"DATABASE_URL", "PYTHONPATH", "VIRTUAL_ENV", "PROMETHEUS_MULTIPROC_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {"DATA_DIR": str(workdir / "data")}
    cli = venv / "bin" / "selfinstall"
    _run(cli, "migrate", cwd=workdir, env=env)
    _run(cli, "seed", cwd=workdir, env=env)
    port = free_port()
    with (workdir / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [str(cli), "serve", "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _until_alive(url, proc, workdir / "serve.log")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _until_alive(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Readiness (not a timing assertion): the first answer of /health/live, or the server's own words."""
    deadline = time.monotonic() + START_WITHIN_S
    while True:
        try:
            if httpx.get(f"{url}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, f"serve did not start:\n{log.read_text()}"
        time.sleep(0.1)


class TestInstalledWheel:
    def test_the_code_is_the_installed_copy(self, venv: Path) -> None:
        out = _run(venv / "bin" / "python", "-c", "import backend, fixtures; print(backend.__file__)", cwd=venv)
        assert Path(out.strip()).is_relative_to(venv)

    def test_it_serves_the_console(self, served: str) -> None:
        login = httpx.get(f"{served}/console/login", timeout=10)
        assert login.status_code == 200, login.text
        assert login.headers["content-type"].startswith("text/html")
        assert "<form" in login.text and "/console/static/console.css" in login.text
        css = httpx.get(f"{served}/console/static/console.css", timeout=10)
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert css.text == (ROOT / "backend/console/static/console.css").read_text()

    def test_it_serves_the_portals_qr_reader(self, served: str) -> None:
        """The vendored zxing-wasm reader (backend/portal/static/vendor) comes from the install itself, offline."""
        wasm = httpx.get(f"{served}/portal/static/vendor/zxing-wasm/zxing_reader.wasm", timeout=10)
        assert wasm.status_code == 200 and wasm.headers["content-type"] == "application/wasm"
        assert wasm.content == (ROOT / "backend/portal/static/vendor/zxing-wasm/zxing_reader.wasm").read_bytes()

    def test_it_serves_the_api_and_its_health(self, served: str) -> None:
        assert httpx.get(f"{served}/health/ready", timeout=10).json() == {"status": "ready"}
        assert httpx.get(f"{served}/schema/openapi.json", timeout=10).status_code == 200

    def test_it_answers_in_the_compiled_catalogs_languages(self, served: str) -> None:
        dutch = httpx.get(f"{served}/no-such-route", timeout=10)
        assert dutch.status_code == 404 and dutch.json()["detail"] == "Deze pagina of route bestaat niet."
        english = httpx.get(f"{served}/no-such-route", headers={"Accept-Language": "en"}, timeout=10)
        assert english.json()["detail"] == "This route does not exist."
