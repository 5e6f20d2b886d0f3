"""/mobile/v1/jobs: an installer's jobs (today's first, then upcoming) and starting an install from one."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth import requires_role
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.i18n import DataWords
from backend.installs.catalog import Catalog
from backend.installs.context import InstallContext
from backend.jobs import service, visits
from backend.jobs.repository import JobRec, VisitRec
from backend.principal import Principal, Role
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import install_view
from mobile_api.v1.visits import visit_brief


def job_summary(catalog: Catalog, job: JobRec, lang: str, visit: VisitRec | None = None) -> s.JobSummary:
    spec = catalog.types[job.asset_type]
    return s.JobSummary(
        id=job.id,
        state=job.state,
        connection=s.ConnectionView(**{name: getattr(job, name) for name in s.ConnectionView.__struct_fields__}),
        asset_type=job.asset_type,
        asset_label=DataWords(spec.label_nl, spec.label_en).words(lang),
        serial=job.serial,
        window_start=job.window_start,
        window_end=job.window_end,
        install_id=job.install,
        visit=visit_brief(visit, lang) if visit else None,
    )


class JobController(Controller):
    path = "/mobile/v1/jobs"
    tags = ["jobs"]
    guards = [requires_role(Role.INSTALLER)]

    @get("/", operation_id="ListMyJobs")
    async def list_jobs(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 20,
        cursor: FromQuery[str | None] = None,
    ) -> s.JobPage:
        """The caller's open jobs from today on, by window: today's first, then upcoming; by cursor."""
        after = decode_cursor(cursor, aware_datetime, int) if cursor else None
        rows = await service.my_jobs(ctx, request.user, limit + 1, after)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].window_start, page[-1].id) if len(rows) > limit else None
        briefs = await visits.visits_of_jobs(page)
        items = [job_summary(ctx.catalog, j, lang, briefs.get(j.id)) for j in page]
        return s.JobPage(items=items, next_cursor=next_cursor)

    @post("/{job_id:int}/install", operation_id="StartJobInstall", status_code=HTTP_201_CREATED)
    async def start_install(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        lang: NamedDependency[str],
        job_id: FromPath[int],
        data: JSONBody[s.StartJobInstall],
    ) -> Response[s.InstallView]:
        """Start the install of an assigned job (idempotent on the client-made id); the job is then in progress."""
        snap, created = await service.start_install(
            ctx, request.user, job_id, data.id, data.started_at, data.client_time
        )
        return Response(install_view(ctx.catalog, snap, lang), status_code=HTTP_201_CREATED if created else HTTP_200_OK)
