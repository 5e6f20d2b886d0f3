"""The portal's browser tests use the console's live server, Chromium and screenshot folder, and axe-core
from the npm registry (`make axe` installs it into build/axe; it is not committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.console.conftest import browser, live_server, screenshots  # noqa: F401 - shared fixtures

AXE = Path(__file__).resolve().parents[2] / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def axe_source() -> str:
    assert AXE.exists(), "axe-core is required: `make axe` (npm install axe-core into build/axe)"
    return AXE.read_text()
