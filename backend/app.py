"""create_app(settings) -> Litestar: routers, plugins, lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import ResponseHeader, State
from litestar.middleware import DefineMiddleware
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from backend.access import observe_requests
from backend.admin.assets import AssetAdminController
from backend.admin.connections import ConnectionAdminController
from backend.admin.http import AdminController
from backend.admin.known_answers import KnownAnswerController
from backend.admission import AdmissionLimit, InFlight
from backend.auth import TokenVerifier, confine_systems, jwt_auth
from backend.console.access import PATH as CONSOLE_PATH
from backend.console.access import problem_page as console_problem_page
from backend.console.headers import console_security_headers
from backend.console.language import add_template_helpers
from backend.console.oidc import provider_sign_in
from backend.console.pages import CONSOLE_CONTROLLERS
from backend.console.signin import ConsoleSignInController
from backend.db import BoundedSQLiteEngine, ping
from backend.events import metrics as events_metrics
from backend.events.delivery import deliver_due
from backend.events.http import DeliveryAdminController, WebhookAdminController
from backend.events.outbox import outbox_hook, registry_hook
from backend.http_guard import GuardedRequest, RequestGuard, bounded_path_ids
from backend.idempotency.http import IdempotencyKeys
from backend.idempotency.sweep import SWEEP_INTERVAL_S as KEY_SWEEP_INTERVAL_S
from backend.idempotency.sweep import key_round
from backend.identity.provider import identity_provider
from backend.installs.context import build_context
from backend.installs.orphans import file_round
from backend.installs.tables import Install
from backend.integrations import metrics as integrations_metrics
from backend.integrations.flows import confirmation_hook
from backend.integrations.http import DeviceReportController
from backend.integrations.sweep import device_round
from backend.jobs.flows import holds_asset, job_hook
from backend.jobs.http import JobAdminController
from backend.jobs.visit_http import VisitReviewController
from backend.jobs.visits import LAPSE_INTERVAL_S, lapse_round, visit_hook
from backend.logs import configure_logging
from backend.metrics import DomainSnapshot, check_scraper, decision_latency_hook, exposition
from backend.metrics import core_families as core_metrics
from backend.notifications import flows as notification_flows
from backend.notifications import metrics as notifications_metrics
from backend.notifications.http import AddressCheckController, UnsubscribeController
from backend.notifications.sender import channels_from, send_round
from backend.openapi import contract_plugins, openapi_config, problem_response
from backend.periodic import every
from backend.portal.access import PATH as PORTAL_PATH
from backend.portal.access import problem_page
from backend.portal.answer import AnswerController
from backend.portal.guide import GuideController
from backend.portal.http import PortalController, PortalLoginController
from backend.portal.signin import PortalSignInController
from backend.portal.uploads import PortalUploadController
from backend.problems import UNEXPECTED_HANDLERS, problem_details_plugin
from backend.quality import metrics as quality_metrics
from backend.quality.flows import qa_sample_hook
from backend.quality.http import CalibrationController
from backend.ratelimit import Limiter, RateLimit
from backend.review import flows as review_flows
from backend.review.http import ReviewController
from backend.settings import Settings, check_production_ready, get_settings
from backend.static_files import StaticDirectory, static_urls
from backend.uploads.sweep import upload_round
from mobile_api.v1.connections import ConnectionController
from mobile_api.v1.deps import DEPENDENCIES
from mobile_api.v1.installs import InstallController
from mobile_api.v1.jobs import JobController
from mobile_api.v1.notifications import NotificationController
from mobile_api.v1.resumable import UploadController
from mobile_api.v1.tus import tus_router
from mobile_api.v1.visits import VisitController


@get("/health/live", operation_id="Live", exclude_from_auth=True)
async def live() -> dict[str, str]:
    """Liveness: the process answers (it touches nothing else: a database outage must not restart it)."""
    return {"status": "ok"}


@get("/health", operation_id="Health", exclude_from_auth=True)
async def health() -> dict[str, str]:
    """Liveness, as /health/live (kept for the probes configured before it)."""
    return {"status": "ok"}


@get(
    "/health/ready",
    operation_id="Readiness",
    exclude_from_auth=True,
    responses={503: problem_response(503, "The database or the photo store does not answer (with Retry-After).")},
)
async def ready(state: State) -> dict[str, str]:
    """Readiness: the database and the photo store answer (503 with Retry-After while one does not)."""
    await ping(Install, state.ctx.settings.db_connect_timeout_s)
    await state.ctx.store.ping()
    return {"status": "ready"}


@get(
    "/metrics",
    operation_id="Metrics",
    exclude_from_auth=True,
    media_type="text/plain; version=0.0.4",
    responses={401: problem_response(401, "No or a wrong METRICS_TOKEN.")},
)
async def metrics(state: State, request: Request[Any, Any, Any]) -> bytes:
    """Prometheus metrics (aggregates only: no personal data); `Authorization: Bearer <METRICS_TOKEN>`."""
    settings = state.ctx.settings
    check_scraper(settings, request.headers.get("authorization"))  # not a parameter: OpenAPI ignores those
    return await exposition(state.metrics, settings.prometheus_multiproc_dir)


# The database's /metrics families, domain by domain (backend/metrics.py Producer).
METRIC_PRODUCERS = (
    core_metrics,
    quality_metrics.families,
    integrations_metrics.families,
    events_metrics.families,
    notifications_metrics.families,
)


DEVICE_SWEEP_INTERVAL_S = 3600.0  # silence is measured in days: hourly is plenty


def create_app(settings: Settings | None = None) -> Litestar:
    """The ASGI application."""
    settings = settings or get_settings()
    configure_logging(settings.log_format, settings.log_level)  # here: each worker process builds its app
    check_production_ready(settings)  # also under a server other than `selfinstall serve`
    ctx = build_context(
        settings,
        state_hooks=(
            review_flows.on_state_change,
            outbox_hook(settings.webhook_urls),
            confirmation_hook(settings.webhook_urls),
            job_hook(settings.webhook_urls),
            visit_hook(settings.webhook_urls),  # after the review hook: it offers on the case that one opened
            notification_flows.on_state_change,
        ),
        asset_holds=(holds_asset,),
    )
    # QA sampling reads the policy the context loaded, so its hook is added once the context exists.
    ctx = replace(ctx, state_hooks=(*ctx.state_hooks, qa_sample_hook(ctx.policy.quality.qa_sample_share)))
    ctx = replace(ctx, state_hooks=(*ctx.state_hooks, decision_latency_hook))  # last: see the hook
    ctx = replace(ctx, registry_hooks=(registry_hook(settings.webhook_urls),))  # connections and assets
    channels = channels_from(settings)  # none without SMTP_HOST: notifications are written and wait

    # Per principal, in Redis with REDIS_URL (across workers), else in this worker (backend/ratelimit.py).
    limiter = (
        Limiter(settings.rate_limit_per_minute, settings.redis_url, settings.redis_key_prefix)
        if settings.rate_limit_per_minute
        else None
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = Install._meta.db
        pooled = isinstance(engine, PostgresEngine)  # SQLite keeps its own connections (backend/db.py)
        if pooled:
            await engine.start_connection_pool()
        # Webhook deliveries (to WEBHOOK_URLS and to the admins' subscriptions, which may come at any time).
        webhooks = httpx.AsyncClient(timeout=10)
        max_age = timedelta(seconds=settings.webhook_max_age_s)

        async def delivery_round() -> None:
            await deliver_due(
                webhooks, settings.webhook_secret, ctx.clock, max_age, development=settings.is_development()
            )

        # Every worker sweeps (each sweep is safe to overlap): silent devices, files a crash left behind,
        # expired resumable uploads and their parts, expired Idempotency-Keys, visit offers left unpicked.
        grace_s, files_s = settings.orphan_grace_s, settings.file_sweep_interval_s
        sweeps = [
            asyncio.create_task(every(*loop))
            for loop in (
                (DEVICE_SWEEP_INTERVAL_S, "device sweep", lambda: device_round(ctx)),
                (files_s, "file sweep", lambda: file_round(ctx, grace_s)),
                (files_s, "upload sweep", lambda: upload_round(ctx, grace_s)),
                (KEY_SWEEP_INTERVAL_S, "idempotency sweep", lambda: key_round(ctx.clock())),
                (settings.webhook_interval_s, "webhook delivery", delivery_round),
                (LAPSE_INTERVAL_S, "visit lapse sweep", lambda: lapse_round(ctx)),
            )
        ]
        if channels:  # every worker sends: a compare-and-set holds each message for one of them
            sender = every(
                settings.notify_interval_s, "notifications", lambda: send_round(settings, channels, ctx.clock)
            )
            sweeps.append(asyncio.create_task(sender))
        try:
            yield
        finally:
            for sweep in sweeps:
                sweep.cancel()
            ctx.halves.stop()  # a first read still running (seconds at a million photos) ends with the worker
            await webhooks.aclose()
            if pooled:
                await engine.close_connection_pool()
            elif isinstance(engine, BoundedSQLiteEngine):
                await engine.close_connections()
            await ctx.store.aclose()
            if limiter is not None:
                await limiter.aclose()
            ctx.cpu.shutdown()

    # One verifier (and one cache of the provider's keys) for the bearer middleware and the console.
    verifier = TokenVerifier(settings, identity_provider(settings))
    auth = jwt_auth(settings, verifier)
    in_flight = InFlight(
        settings.max_requests_in_flight,
        settings.busy_retry_after_s,
        settings.admission_wait_s,
        settings.admission_queue,
    )
    # First: what the HTTP server lets through (backend/http_guard.py), before any other work.
    middleware = [
        DefineMiddleware(AdmissionLimit, in_flight=in_flight),  # before even that: a refusal costs little
        DefineMiddleware(RequestGuard, body_read_timeout_s=settings.body_read_timeout_s),
    ]
    if limiter is not None:
        # After the bearer middleware (Litestar puts it first): the verified principal is known here.
        middleware.append(DefineMiddleware(RateLimit, limiter=limiter))
    # Last: a request refused above never touches its key; a POST without the header passes for free.
    middleware.append(DefineMiddleware(IdempotencyKeys))
    console_dir, portal_dir = Path(__file__).parent / "console", Path(__file__).parent / "portal"
    portal_static = StaticDirectory("/portal/static", portal_dir / "static")
    console_static = StaticDirectory("/console/static", console_dir / "static")
    app = Litestar(
        route_handlers=[
            live,
            health,
            ready,
            metrics,
            InstallController,
            UploadController,
            tus_router,
            ConnectionController,
            JobController,
            VisitController,
            NotificationController,
            UnsubscribeController,
            AddressCheckController,
            AdminController,
            JobAdminController,
            ConnectionAdminController,
            AssetAdminController,
            WebhookAdminController,
            DeliveryAdminController,
            ReviewController,
            VisitReviewController,
            CalibrationController,
            KnownAnswerController,
            DeviceReportController,
            *CONSOLE_CONTROLLERS,
            *([ConsoleSignInController] if provider_sign_in(settings) else []),
            PortalLoginController,  # the customers' portal (backend/portal), beside the console: signing in
            PortalController,  # a customer's pages and forms
            GuideController,  # its step-by-step self-install guide
            AnswerController,  # the extra photo a specialist asks for
            PortalUploadController,  # the guide's photos, resumable (over backend/uploads)
            *([PortalSignInController] if provider_sign_in(settings) else []),
            portal_static.router(),  # content-hashed URLs, cached for good, gzip'd (backend/static_files.py)
            console_static.router(),
        ],
        template_config=TemplateConfig(
            directory=[console_dir / "templates", portal_dir / "templates"],  # the portal's under portal/
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: add_template_helpers(engine, static_urls(portal_static, console_static)),
        ),
        # Forms of the console and the portal carry a CSRF token; the JSON APIs use bearer tokens, not cookies.
        csrf_config=CSRFConfig(
            secret=settings.csrf_secret,  # its own: the JWT "secret" is public when it is an RS256 key
            cookie_secure=True,
            cookie_samesite="strict",
            cookie_path="/",  # the console's and the portal's forms
            exclude=[
                "^/mobile",
                "^/review",
                "^/admin",
                "^/integrations",
                "^/notifications",
                "^/health",
                "^/metrics",
                "^/schema",
                "^/portal/static/",  # files, not forms: no token cookie on their answers
                "^/console/static/",
            ],
        ),
        dependencies=DEPENDENCIES,
        middleware=middleware,
        state=State(
            {
                "ctx": ctx,
                "metrics": DomainSnapshot(METRIC_PRODUCERS, settings.metrics_refresh_s, ctx.clock),
                "verifier": verifier,
                "in_flight": in_flight,
                "limiter": limiter,  # closed in the lifespan; None with the limit off
                # A person's browser reads words, not JSON: the customer's portal, the staff's console.
                "problem_pages": ((PORTAL_PATH, problem_page), (CONSOLE_PATH, console_problem_page)),
            }
        ),
        on_app_init=[auth.on_app_init],
        guards=[confine_systems, bounded_path_ids],
        request_class=GuardedRequest,
        plugins=[problem_details_plugin(), *contract_plugins()],
        exception_handlers=UNEXPECTED_HANDLERS,
        before_send=[console_security_headers],
        lifespan=[lifespan],
        logging_config=None,  # backend/logs.py configures logging; Litestar's default would log each line twice
        request_max_body_size=1024 * 1024,
        # Texts follow Accept-Language, so caches must key on it.
        response_headers=[
            ResponseHeader(name="Vary", value="Accept-Language")
        ],  # JSON routes; the photo route streams under its own limit
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        openapi_config=openapi_config(),  # with contract_plugins: backend/openapi.py
    )
    return observe_requests(app, settings.forwarded_allow_ips)
