"""/admin/v1/jobs: dispatch. Create, import (JSON or CSV), list, read, assign and cancel jobs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.admin.http import batch_body
from backend.auth import requires_role
from backend.batches import read_batch
from backend.bounds import LINE, PROSE, Version, WireRequest
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.installs.context import InstallContext
from backend.jobs import service
from backend.jobs.repository import JobRec
from backend.openapi import raw_body
from backend.principal import Principal, Role

Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE, examples=["inst-joost"])]
Window = Annotated[datetime, msgspec.Meta(tz=True, examples=["2026-05-12T08:00:00+02:00"])]
StateName = Literal["planned", "assigned", "in_progress", "done", "cancelled"]
_BATCH = "jobs/invalid-batch"


class JobIn(WireRequest):
    """A job to create: one JSON object, or one line of a batch."""

    ean: Annotated[str, msgspec.Meta(pattern=r"^[0-9]{18}$", examples=["871687000000000054"])]
    asset_type: Annotated[
        str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$", examples=["smart_meter_1p"])
    ]
    window_start: Window
    window_end: Annotated[datetime, msgspec.Meta(tz=True, examples=["2026-05-12T12:00:00+02:00"])]
    installer: Subject | None = None  # assign to this installer ...
    self_install: bool = False  # ... or to the connection's customer; neither: planned
    # An asset to allocate: in stock, of this type, not allocated to another live job.
    serial: Annotated[str, msgspec.Meta(max_length=40, pattern=LINE, examples=["MTR1-000010"])] | None = None


JOB_COLUMNS = ("ean", "asset_type", "window_start", "window_end", "installer", "self_install", "serial")
IMPORT_BODY = batch_body(
    JobIn,
    JOB_COLUMNS,
    "ean,asset_type,window_start,window_end,installer,self_install,serial\n"
    "871687000000000054,smart_meter_1p,2026-05-12T08:00:00+02:00,2026-05-12T12:00:00+02:00,inst-joost,,MTR1-000010\n",
    "jobs",
)


class AssignJobIn(WireRequest):
    version: Annotated[Version, msgspec.Meta(examples=[1])]  # the job's version as last read
    installer: Subject | None = None
    self_install: bool = False


class CancelJobIn(WireRequest):
    version: Annotated[Version, msgspec.Meta(examples=[1])]
    reason: Annotated[str, msgspec.Meta(max_length=500, pattern=PROSE, examples=["De klant heeft afgezegd."])] = ""


class JobView(msgspec.Struct, kw_only=True):  # examples: documentation only (backend/openapi_schemas.py)
    id: Annotated[int, msgspec.Meta(examples=[42])]
    state: Annotated[str, msgspec.Meta(examples=["assigned"])]
    ean: Annotated[str, msgspec.Meta(examples=["871687000000000054"])]
    address: Annotated[str, msgspec.Meta(examples=["Jansbinnensingel 14, 6811AL Arnhem"])]
    asset_type: Annotated[str, msgspec.Meta(examples=["smart_meter_1p"])]
    serial: Annotated[str | None, msgspec.Meta(examples=["MTR1-000010"])]
    window_start: Window
    window_end: Annotated[datetime, msgspec.Meta(examples=["2026-05-12T12:00:00+02:00"])]
    assignee: Annotated[str | None, msgspec.Meta(examples=["installer"])]  # installer | customer | null
    installer: Annotated[str | None, msgspec.Meta(examples=["inst-joost"])]
    install_id: uuid.UUID | None
    version: Annotated[int, msgspec.Meta(examples=[1])]
    created_by: Annotated[str, msgspec.Meta(examples=["admin-kees"])]
    created_at: datetime
    updated_at: datetime


class AdminJobPage(msgspec.Struct, kw_only=True):
    items: list[JobView]
    next_cursor: Annotated[str | None, msgspec.Meta(examples=["MjAyNi0wNS0xMlQwNjowMDowMCswMDowMHw0Mg"])]


class ImportedJobs(msgspec.Struct, kw_only=True):
    created: Annotated[int, msgspec.Meta(examples=[1])]
    jobs: list[JobView]


def job_view(job: JobRec) -> JobView:
    suffix = f" {job.house_number_suffix}" if job.house_number_suffix else ""
    return JobView(
        id=job.id,
        state=job.state,
        ean=job.ean,
        address=f"{job.street} {job.house_number}{suffix}, {job.postcode} {job.city}",
        asset_type=job.asset_type,
        serial=job.serial,
        window_start=job.window_start,
        window_end=job.window_end,
        assignee=job.assignee,
        installer=job.installer_subject,
        install_id=job.install,
        version=job.version,
        created_by=job.created_by,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def job_draft(line: int, item: JobIn) -> service.JobDraft:
    """The service's draft of one request item (the console's forms and CSV use it too)."""
    return service.JobDraft(line=line, **{name: getattr(item, name) for name in JOB_COLUMNS})


class JobAdminController(Controller):
    path = "/admin/v1/jobs"
    tags = ["admin"]
    guards = [requires_role(Role.ADMIN)]

    @post("/", operation_id="CreateJob", status_code=HTTP_201_CREATED)
    async def create(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: JSONBody[JobIn]
    ) -> JobView:
        """Create a job: a connection, an asset type, a window, optionally an allocated asset and an assignee."""
        (job,) = await service.create_jobs(ctx, request.user, [job_draft(1, data)], "jobs/invalid")
        return job_view(job)

    @post(
        "/import",
        operation_id="ImportJobs",
        status_code=HTTP_201_CREATED,
        request_max_body_size=5 * 1024 * 1024,
        operation_class=raw_body(IMPORT_BODY),
    )
    async def import_jobs(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext]
    ) -> Response[ImportedJobs]:
        """Create a batch of jobs (JSON list or CSV with a header); all lines or none, each fault by its line."""
        items = read_batch(request.headers.get("content-type", ""), await request.body(), JobIn, JOB_COLUMNS, _BATCH)
        jobs = await service.create_jobs(ctx, request.user, [job_draft(line, item) for line, item in items], _BATCH)
        return Response(ImportedJobs(created=len(jobs), jobs=[job_view(j) for j in jobs]), status_code=HTTP_201_CREATED)

    @get("/", operation_id="ListJobs")
    async def list_jobs(
        self,
        limit: FromQuery[Annotated[int, Parameter(ge=1, le=100)]] = 25,
        cursor: FromQuery[str | None] = None,
        job_state: Annotated[StateName | None, QueryParameter(name="state")] = None,
        installer: FromQuery[Annotated[str | None, Parameter(min_length=1, max_length=128, pattern=LINE)]] = None,
    ) -> AdminJobPage:
        """Every job by window start, optionally of one state or installer; by cursor."""
        after = decode_cursor(cursor, aware_datetime, int) if cursor else None
        rows = await service.list_jobs(limit + 1, after, job_state, installer)
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].window_start, page[-1].id) if len(rows) > limit else None
        return AdminJobPage(items=[job_view(j) for j in page], next_cursor=next_cursor)

    @get("/{job_id:int}", operation_id="GetJob")
    async def get(self, job_id: FromPath[int]) -> JobView:
        """One job."""
        return job_view(await service.get_job(job_id))

    @post("/{job_id:int}/assign", operation_id="AssignJob", status_code=HTTP_200_OK)
    async def assign(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        job_id: FromPath[int],
        data: JSONBody[AssignJobIn],
    ) -> JobView:
        """Assign or re-assign a job not yet begun: to an installer, or to the customer themselves."""
        job = await service.assign_job(ctx, request.user, job_id, data.version, data.installer, data.self_install)
        return job_view(job)

    @post("/{job_id:int}/cancel", operation_id="CancelJob", status_code=HTTP_200_OK)
    async def cancel(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        job_id: FromPath[int],
        data: JSONBody[CancelJobIn],
    ) -> JobView:
        """Cancel a job not yet begun; its allocated asset is free again."""
        return job_view(await service.cancel_job(ctx, request.user, job_id, data.version, data.reason))
