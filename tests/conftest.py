"""One real database per run (a fresh SQLite file, or PostgreSQL via DATABASE_URL), real photo store
(a local folder, or with TEST_PHOTO_STORE=s3 a real S3 server: tests/helpers/seaweed.py).

The environment is set before any project module is imported: Piccolo binds its engine then.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

_DATA_DIR = tempfile.mkdtemp(prefix="selfinstall-test-")
os.environ["DATA_DIR"] = _DATA_DIR
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_DATA_DIR}/test.sqlite3")
# The suite sends thousands of requests from one address; tests/test_rate_limit.py tests the limiter.
os.environ["RATE_LIMIT_PER_MINUTE"] = "0"
# Tests fire bursts at one app on purpose; tests/test_admission.py tests the in-flight bound.
os.environ["MAX_REQUESTS_IN_FLIGHT"] = "0"
# Tests read /metrics right after acting; tests/test_metrics.py tests the refresh interval itself.
os.environ["METRICS_REFRESH_S"] = "0"
# Photos in S3 for the whole run (.ci/run's PostgreSQL run): a SeaweedFS started for it, or the server
# S3_ENDPOINT_URL names; under a prefix of the run's own. Server processes the tests start inherit it.
if os.environ.get("TEST_PHOTO_STORE") == "s3":
    from tests.helpers import seaweed

    os.environ.update(seaweed.endpoint().environment(seaweed.run_prefix()))

# The message catalogs' .mo files are build products (Makefile, setup.py): compiled for a run from the sources.
from babel.messages.frontend import CommandLineInterface  # noqa: E402

CommandLineInterface().run(["pybabel", "-q", "compile", "-d", str(Path(__file__).parents[1] / "backend/locale")])

import httpx  # noqa: E402
import pytest  # noqa: E402
from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from backend.app import create_app  # noqa: E402
from backend.db import BoundedSQLiteEngine  # noqa: E402
from backend.installs.tables import Install  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.piccolo_conf import APP_REGISTRY  # noqa: E402
from backend.settings import Settings, get_settings  # noqa: E402
from tests.factories import Factory  # noqa: E402
from tests.helpers.oidc_provider import LocalProvider, local_provider  # noqa: E402
from tests.helpers.photo_store import close_run_store  # noqa: E402

# The public corpora (README, "Test corpora"): SHARED_DIR if set, else a shared/ beside the checkout
# (CI clones next to a copy of shared/, one level further up at most).
_BESIDE = [Path(__file__).resolve().parents[i] / "shared" for i in (2, 3)]
SHARED = (
    Path(os.environ["SHARED_DIR"])
    if os.environ.get("SHARED_DIR")
    else next((p for p in _BESIDE if p.exists()), _BESIDE[0])
)
CORPUS = SHARED / "corpus"


def corpus_dir(name: str) -> Path:
    """A folder of the shared corpora. Missing, the test (or the module that collects from it) fails
    saying which folder and how to point at it: never a skip, a suite without its corpus is not a pass."""
    folder = CORPUS / name
    if not folder.is_dir():
        pytest.fail(
            f"test corpus missing: {folder} (public test corpora, see the README's 'Test corpora'). "
            f"Lay shared/ beside the checkout (../shared/corpus/{name}, as CI does) or set SHARED_DIR "
            "to the folder that holds corpus/.",
            pytrace=False,
        )
    return folder


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
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c
    await app.state.ctx.store.aclose()
    await close_run_store()
    if pooled:
        await engine.close_connection_pool()
    elif isinstance(engine, BoundedSQLiteEngine):
        await engine.close_connections()  # before the loop closes: their threads call back into it


@pytest.fixture
def make(settings: Settings) -> Factory:
    return Factory(settings)


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[LocalProvider]:
    """A real OpenID Connect provider on a local port (tests/helpers/oidc_provider.py)."""
    with local_provider() as provider:
        yield provider
