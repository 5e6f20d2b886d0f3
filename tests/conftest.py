"""One real database per run (a fresh SQLite file, or PostgreSQL via DATABASE_URL), real photo store.

The environment is set before any project module is imported: Piccolo binds its engine then.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

_DATA_DIR = tempfile.mkdtemp(prefix="selfinstall-test-")
os.environ["DATA_DIR"] = _DATA_DIR
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_DATA_DIR}/test.sqlite3")
# The suite sends thousands of requests from one address; tests/test_rate_limit.py tests the limiter.
os.environ["RATE_LIMIT_PER_MINUTE"] = "0"

import httpx  # noqa: E402
import pytest  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.installs.tables import Install  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.piccolo_conf import APP_REGISTRY  # noqa: E402
from backend.settings import Settings, get_settings  # noqa: E402
from tests.factories import Factory  # noqa: E402

# The public corpora (../shared/corpus: CI lays it there), or wherever SHARED_DIR points.
SHARED = Path(os.environ.get("SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
if not SHARED.exists():  # CI clones next to a copy of shared/, one level further up at most
    SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "corpus"


async def _reset_postgres() -> None:
    """Start PostgreSQL runs from an empty schema, so the committed migrations are what is tested."""
    engine = Install._meta.db
    tables = [t._meta.tablename for app in APP_REGISTRY.app_configs.values() for t in app.table_classes]
    tables.append("migration")
    for table in tables:
        await engine.run_ddl(f'DROP TABLE IF EXISTS "{table}" CASCADE')


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session", autouse=True)
async def database(settings: Settings) -> None:
    if not settings.is_sqlite:
        await _reset_postgres()
    await migrate()


@pytest.fixture(scope="session")
async def client(database: None) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in the test's own event loop, with the pool its lifespan would open."""
    engine = Install._meta.db
    pooled = isinstance(engine, PostgresEngine)
    if pooled:
        await engine.start_connection_pool()
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    if pooled:
        await engine.close_connection_pool()


@pytest.fixture
def make(settings: Settings) -> Factory:
    return Factory(settings)
