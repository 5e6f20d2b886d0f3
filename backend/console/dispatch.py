"""/console/jobs: dispatch for operators (admins). The page lists jobs by window start (filters, keyset
cursor); its forms create, assign, re-assign and cancel a job and import a CSV file. Each form is read
as the admin API's own request Struct and handed to the same service functions (backend/jobs), so a
rule is written once; a refusal shows the problem's words, a batch's faults by their line."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from backend.batches import CSV, read_batch
from backend.bounds import LINE
from backend.console.access import HANDLERS, StaffSession, staff
from backend.console.language import type_words
from backend.console.said import bad_lines, error_flash, flash, reader
from backend.console.words import ASSIGNEE_WORDS, JOB_STATE_WORDS
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.errors import DomainError, Invalid, RowError
from backend.installs.context import InstallContext
from backend.jobs import service
from backend.jobs.enums import DISPATCHABLE
from backend.jobs.http import JOB_COLUMNS, AssignJobIn, CancelJobIn, JobIn, job_draft, job_view
from backend.local_time import OPERATOR_ZONE, NoSuchLocalTime, on_operator_clock
from backend.principal import Principal, Role

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PAGE = 25
_INVALID, _BATCH = "jobs/invalid", "jobs/invalid-batch"
_SUBJECT = msgspec.json.Decoder(type=Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=LINE)])


def _local_time(field: str, value: str, code: str) -> str:
    """A `datetime-local` field ('2026-05-12T08:00') is a wall time where the work is done: with the
    zone's offset it reads as the API's timestamp (a time the clock skips is refused by its field);
    anything else goes on unchanged, to be refused there."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return moment.isoformat()
    try:
        return on_operator_clock(moment).isoformat()
    except NoSuchLocalTime:
        raise Invalid(code, rows=[RowError(1, "no-such-local-time", field, {"time": value})]) from None


def _read(form: dict[str, str], struct: type[msgspec.Struct], fields: tuple[str, ...], code: str) -> Any:
    """A form as the API's request Struct: the same bounds and patterns; a fault as a line-1 RowError."""
    values: dict[str, Any] = {k: form[k].strip() for k in fields if form.get(k, "").strip()}
    values |= {k: _local_time(k, values[k], code) for k in ("window_start", "window_end") if k in values}
    if "self_install" in fields:
        values["self_install"] = "self_install" in form  # a checkbox is sent only when ticked
    try:
        return msgspec.convert(values, struct, strict=False)
    except msgspec.ValidationError as exc:
        raise Invalid(code, rows=[RowError(1, "invalid", validator=str(exc))]) from None


def _installer_filter(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _SUBJECT.decode(msgspec.json.encode(value.strip()))
    except msgspec.ValidationError:
        return None


def _default_window(now: datetime) -> tuple[str, str]:
    """Tomorrow 08:00-12:00 where the work is done, as `datetime-local` values."""
    day = now.astimezone(OPERATOR_ZONE) + timedelta(days=1)
    start = day.replace(hour=8, minute=0, second=0, microsecond=0)
    return f"{start:%Y-%m-%dT%H:%M}", f"{start + timedelta(hours=4):%Y-%m-%dT%H:%M}"


async def _page(
    ctx: InstallContext,
    who: Principal,
    lang: str,
    *,
    state: str | None = None,
    installer: str | None = None,
    cursor: str | None = None,
    message: dict[str, str] | None = None,
    faults: list[dict[str, Any]] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Template:
    after = decode_cursor(cursor, aware_datetime, int) if cursor else None
    rows = await service.list_jobs(PAGE + 1, after, state, installer)
    page = rows[:PAGE]
    next_cursor = encode_cursor(page[-1].window_start, page[-1].id) if len(rows) > PAGE else None
    start, end = _default_window(ctx.clock())
    return Template(
        "jobs.html",
        status_code=status,
        context={
            "who": who,
            "flash": message,
            "faults": faults or [],
            "jobs": [job_view(j) for j in page],
            "dispatchable": {s.value for s in DISPATCHABLE},
            "states": JOB_STATE_WORDS,
            "assignees": ASSIGNEE_WORDS,
            "types": type_words(ctx.catalog, lang),
            "filters": {"state": state, "installer": installer or ""},
            "next_cursor": next_cursor,
            "form": {"window_start": start, "window_end": end, **(form or {})},
        },
    )


async def _refused(
    ctx: InstallContext, who: Principal, lang: str, exc: DomainError, form: dict[str, str] | None = None
) -> Template:
    """The page again with what was refused; 422 for a fault in what was sent, the error's own status else."""
    message, faults = error_flash(exc, lang), bad_lines(exc, lang)
    return await _page(ctx, who, lang, message=message, faults=faults, form=form, status=exc.status)


class DispatchController(Controller):
    path = "/console/jobs"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.ADMIN)]

    @get("/")
    async def jobs(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        job_state: Annotated[str | None, QueryParameter(name="state")] = None,
        installer: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        msg: FromQuery[str | None] = None,
    ) -> Template:
        """Jobs by window start, of one state or installer, 25 a page."""
        who = request.user
        state = job_state if job_state in JOB_STATE_WORDS else None
        lang = reader(request)
        installer_filter = _installer_filter(installer)
        return await _page(
            ctx, who, lang, state=state, installer=installer_filter, cursor=cursor, message=flash(msg, lang)
        )

    @post("/", status_code=303)
    async def create(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: Form
    ) -> Response[Any]:
        who = request.user
        try:
            item = _read(data, JobIn, JOB_COLUMNS, _INVALID)
            await service.create_jobs(ctx, who, [job_draft(1, item)], _INVALID)
        except DomainError as exc:
            return await _refused(ctx, who, reader(request), exc, form=data)
        return Redirect("/console/jobs?msg=job_created", status_code=303)

    @post("/import", status_code=303, request_max_body_size=5 * 1024 * 1024)
    async def import_csv(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: Upload
    ) -> Response[Any]:
        """A CSV file with the admin API's header: every line a job, all or none."""
        who = request.user
        upload = data.get("file")
        body = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            items = read_batch(CSV, body, JobIn, JOB_COLUMNS, _BATCH)
            await service.create_jobs(ctx, who, [job_draft(line, item) for line, item in items], _BATCH)
        except DomainError as exc:
            return await _refused(ctx, who, reader(request), exc)
        return Redirect("/console/jobs?msg=jobs_imported", status_code=303)

    @post("/{job_id:int}/assign", status_code=303)
    async def assign(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        job_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        who = request.user
        try:
            item = _read(data, AssignJobIn, ("version", "installer", "self_install"), _INVALID)
            await service.assign_job(ctx, who, job_id, item.version, item.installer, item.self_install)
        except DomainError as exc:
            return await _refused(ctx, who, reader(request), exc)
        return Redirect("/console/jobs?msg=job_assigned", status_code=303)

    @post("/{job_id:int}/cancel", status_code=303)
    async def cancel(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        job_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        who = request.user
        try:
            item = _read(data, CancelJobIn, ("version", "reason"), _INVALID)
            await service.cancel_job(ctx, who, job_id, item.version, item.reason)
        except DomainError as exc:
            return await _refused(ctx, who, reader(request), exc)
        return Redirect("/console/jobs?msg=job_cancelled", status_code=303)
