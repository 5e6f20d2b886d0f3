"""create_app(settings) -> Litestar: routers, plugins, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from litestar import Litestar, get
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader, State
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from backend.admin.http import AdminController
from backend.admin.known_answers import KnownAnswerController
from backend.auth import confine_systems, jwt_auth
from backend.console.http import ConsoleController
from backend.events.delivery import run_forever as run_deliveries
from backend.events.outbox import outbox_hook
from backend.installs.context import build_context
from backend.installs.tables import Install
from backend.integrations import metrics as integrations_metrics
from backend.integrations.flows import confirmation_hook
from backend.integrations.http import DeviceReportController
from backend.integrations.sweep import run_forever as run_device_sweeps
from backend.metrics import render as render_metrics
from backend.problems import UNEXPECTED_HANDLERS, problem_details_plugin
from backend.quality import metrics as quality_metrics
from backend.quality.flows import qa_sample_hook
from backend.quality.http import CalibrationController
from backend.review import flows as review_flows
from backend.review.http import ReviewController
from backend.settings import Settings, get_settings
from mobile_api.v1.connections import ConnectionController
from mobile_api.v1.deps import DEPENDENCIES
from mobile_api.v1.installs import InstallController


@get("/health", operation_id="Health", exclude_from_auth=True)
async def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@get("/metrics", operation_id="Metrics", exclude_from_auth=True, media_type="text/plain; version=0.0.4")
async def metrics(state: State) -> str:
    """Prometheus metrics (aggregates only: no personal data)."""
    return await render_metrics(state.ctx.clock(), METRIC_PRODUCERS)


# Each domain's own /metrics lines, after the core families (backend/metrics.py LineProducer).
METRIC_PRODUCERS = (quality_metrics.render_lines, integrations_metrics.render_lines)


DEVICE_SWEEP_INTERVAL_S = 3600.0  # silence is measured in days: hourly is plenty


def create_app(settings: Settings | None = None) -> Litestar:
    """The ASGI application."""
    settings = settings or get_settings()
    ctx = build_context(
        settings,
        state_hooks=(
            review_flows.on_state_change,
            outbox_hook(settings.webhook_urls),
            confirmation_hook(settings.webhook_urls),
        ),
    )
    # QA sampling reads the policy the context loaded, so its hook is added once the context exists.
    ctx = replace(ctx, state_hooks=(*ctx.state_hooks, qa_sample_hook(ctx.policy.quality.qa_sample_share)))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = Install._meta.db
        pooled = isinstance(engine, PostgresEngine)  # SQLite opens a connection per query
        if pooled:
            await engine.start_connection_pool()
        delivery = None
        if settings.webhook_urls:
            delivery = asyncio.create_task(
                run_deliveries(settings.webhook_secret, settings.webhook_interval_s, ctx.clock)
            )
        # Every worker sweeps for silent devices; the sweep is idempotent across workers.
        device_sweeps = asyncio.create_task(run_device_sweeps(ctx, DEVICE_SWEEP_INTERVAL_S))
        try:
            yield
        finally:
            device_sweeps.cancel()
            if delivery is not None:
                delivery.cancel()
            if pooled:
                await engine.close_connection_pool()
            ctx.cpu.shutdown(wait=False)

    auth = jwt_auth(settings)
    middleware = []
    if settings.rate_limit_per_minute:
        # Litestar's limiter (in-process store: per worker); 429s become problem+json like any error.
        limiter = RateLimitConfig(
            rate_limit=("minute", settings.rate_limit_per_minute), exclude=["^/health", "^/metrics", "^/console/static"]
        )
        middleware.append(limiter.middleware)
    console_dir = Path(__file__).parent / "console"
    return Litestar(
        route_handlers=[
            health,
            metrics,
            InstallController,
            ConnectionController,
            AdminController,
            ReviewController,
            CalibrationController,
            KnownAnswerController,
            DeviceReportController,
            ConsoleController,
            create_static_files_router(
                path="/console/static",
                directories=[console_dir / "static"],
                include_in_schema=False,
                opt={"exclude_from_auth": True},
            ),
        ],
        template_config=TemplateConfig(directory=console_dir / "templates", engine=JinjaTemplateEngine),
        # Forms of the console carry a CSRF token; the JSON APIs use bearer tokens, not cookies.
        csrf_config=CSRFConfig(
            secret=settings.jwt_secret,
            cookie_secure=True,
            cookie_samesite="strict",
            cookie_path="/console",
            exclude=["^/mobile", "^/review", "^/admin", "^/integrations", "^/health", "^/metrics", "^/schema"],
        ),
        dependencies=DEPENDENCIES,
        middleware=middleware,
        state=State({"ctx": ctx}),
        on_app_init=[auth.on_app_init],
        guards=[confine_systems],
        plugins=[problem_details_plugin()],
        exception_handlers=UNEXPECTED_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=1024 * 1024,
        # Texts follow Accept-Language, so caches must key on it.
        response_headers=[
            ResponseHeader(name="Vary", value="Accept-Language")
        ],  # JSON routes; the photo route streams under its own limit
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=OpenAPIConfig(
            title="selfinstall",
            version="1.0.0",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
            use_handler_docstrings=True,  # each handler's one-line docstring is its OpenAPI text
        ),
    )
