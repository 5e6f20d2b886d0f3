"""A second app on the same database whose policy lets a device report approve an install in review."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from backend.app import create_app
from backend.installs.context import InstallContext, build_context
from backend.settings import Settings
from backend.validation.policy import DEFAULT_POLICY_PATH


@pytest.fixture(scope="session")
def auto_policy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = DEFAULT_POLICY_PATH.read_text()
    assert "auto_approve_in_review = false" in text
    path = tmp_path_factory.mktemp("policy") / "policy.toml"
    path.write_text(text.replace("auto_approve_in_review = false", "auto_approve_in_review = true"))
    return path


@pytest.fixture(scope="session")
async def auto_client(
    client: httpx.AsyncClient, settings: Settings, auto_policy_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with POLICY_PATH at a copy with auto-approval on (the `client` fixture opened the pool)."""
    app = create_app(dataclasses.replace(settings, policy_path=auto_policy_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
    await app.state.ctx.store.aclose()


@pytest.fixture(scope="session")
def ctx(settings: Settings) -> InstallContext:
    """A context for calling the sweep directly (it needs no state hooks)."""
    return build_context(settings)
