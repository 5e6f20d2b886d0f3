"""Apps on the same database with their own sampling shares, so the loops can be tested without
searching for lucky ids (the shared `client` keeps the shipped policy)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest

from backend.app import create_app
from backend.settings import Settings
from backend.validation.policy import DEFAULT_POLICY_PATH


@asynccontextmanager
async def _app_with_shares(
    settings: Settings, folder: pytest.TempPathFactory, share: float
) -> AsyncIterator[httpx.AsyncClient]:
    text = DEFAULT_POLICY_PATH.read_text()
    for key in ("qa_sample_share", "known_answer_share"):
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {share}", text)
        assert n == 1, key
    path = folder.mktemp("policy") / "policy.toml"
    path.write_text(text)
    app = create_app(replace(settings, policy_path=path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c
    await app.state.ctx.store.aclose()


@pytest.fixture(scope="session")
async def always_client(
    client: httpx.AsyncClient, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """Every automatic approval sampled; a known answer served on every first queue page."""
    async with _app_with_shares(settings, tmp_path_factory, 1.0) as c:
        yield c


@pytest.fixture(scope="session")
async def never_client(
    client: httpx.AsyncClient, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[httpx.AsyncClient]:
    """Nothing sampled, nothing served."""
    async with _app_with_shares(settings, tmp_path_factory, 0.0) as c:
        yield c
