"""/console: the specialists' web pages (the operators' are beside them: backend/console/pages.py).
Signing in with a specialist's or an admin's token opens a server-side session
(backend/console/sessions.py) whose random id lives in a Secure, HttpOnly, SameSite=Strict cookie
(backend/console/access.py: the session before any body is read, which role a page is for); signing out
ends it. Every form carries a CSRF token (Litestar's CSRF middleware); a case page's forms are read as
the review API's request Structs; every response carries the security headers of
backend/console/headers.py (a hook in create_app)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Stream, Template

from backend.console import sessions
from backend.console.access import COOKIE, HANDLERS, HOME, StaffSession, principal_of, session_cookie, staff
from backend.console.annotate import annotated_jpeg
from backend.console.charts import number
from backend.console.oidc import CONSOLE_ROLES, STAFF_ONLY, pasted_tokens_allowed, provider_sign_in
from backend.console.said import error_flash, flash, reader
from backend.console.svgmap import MapPoint, render_map
from backend.console.words import FLASH, FORM_REFUSED, KIND_WORDS, VERDICT_WORDS, VISIT_STATE_WORDS
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.errors import DomainError
from backend.i18n import N_, DataWords, translate
from backend.installs.catalog import Catalog
from backend.installs.context import InstallContext
from backend.installs.conversation import Ask
from backend.installs.snapshot import REASON_TEXT_FOR_STAFF
from backend.jobs import visits
from backend.jobs.planning import load_planning_rule
from backend.jobs.visit_http import OfferVisitIn
from backend.local_time import on_operator_clock
from backend.principal import Principal, Role
from backend.review import followups, service
from backend.review.config import load_review_config
from backend.review.http import DecisionIn, VerdictIn
from backend.review.views import CheckDetail, case_view, queue_view
from backend.storage.serve import photo_response
from backend.validation.results import Reason

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Wire = TypeVar("Wire", bound=msgspec.Struct)
_CSRF_FIELD = "_csrf_token"  # the hidden field Litestar's `csrf_input` renders into every form


def _login_page(
    ctx: InstallContext, lang: str, status: int, error: str | None, who: Principal | None = None
) -> Template:
    """The sign-in page: the provider's button when one is configured, the paste form in development;
    `error` is a msgid."""
    context = {
        "who": who,
        "flash": {"kind": "error", "text": translate(lang, error)} if error else None,
        "provider": provider_sign_in(ctx.settings) is not None,
        "paste": pasted_tokens_allowed(ctx.settings),
    }
    return Template("login.html", status_code=status, context=context)


def _labels(catalog: Catalog, lang: str) -> dict[str, str]:
    """The asset types' and photo slots' names in the reader's language (the catalog's words)."""
    specs = {**catalog.types, **catalog.slots}
    return {name: DataWords(spec.label_nl, spec.label_en).words(lang) for name, spec in specs.items()}


def _findings(checks: list[CheckDetail]) -> list[CheckDetail]:
    """What did not pass in the latest submit (and since): the first thing a specialist reads."""
    latest = max((c.attempt for c in checks), default=0)
    return sorted((c for c in checks if c.attempt >= latest and c.status != "pass"), key=lambda c: c.status != "fail")


async def _act(
    request: Request[Principal, Any, Any], ctx: InstallContext, action: Awaitable[object], case_id: int, success: str
) -> Response[Any]:
    """Run a review action: on success back to the case page with its outcome as the message (POST/redirect/GET);
    refused, the case page at once with the refusal's status and words (see `_refusal`)."""
    try:
        await action
    except DomainError as exc:
        return await _refusal(request, ctx, case_id, exc)
    return _back(case_id, success)


async def _refusal(
    request: Request[Principal, Any, Any], ctx: InstallContext, case_id: int, exc: DomainError
) -> Template:
    """The case page with a refusal said in full: its detail with its parameters (the holder, a serial, a state)
    in the reader's language, which a redirect's `?msg=` could not carry. Someone else acting first keeps the
    plain sentence of words.FLASH (the page below shows the current state)."""
    lang = reader(request)
    message = flash(exc.code, lang) if exc.code in FLASH else error_flash(exc, lang)
    return await _case_page(request, ctx, case_id, message, exc.status)


async def _form_refused(request: Request[Principal, Any, Any], ctx: InstallContext, case_id: int) -> Template:
    """The case page after a form its request Struct refuses: 400, as the API answers the same values."""
    message = {"kind": "error", "text": translate(reader(request), FORM_REFUSED)}
    return await _case_page(request, ctx, case_id, message, 400)


def _filled(form: Mapping[str, str]) -> dict[str, str]:
    """A form's fields that were filled in, trimmed (an empty field is one not sent: the request Struct's
    default), without the CSRF token (the middleware's, no field of any request)."""
    return {k: v.strip() for k, v in form.items() if v.strip() and k != _CSRF_FIELD}


def _wire(values: dict[str, Any], struct: type[Wire]) -> Wire | None:
    """A case-page form as the API's request Struct, so one definition says what it may carry (an unknown
    field refused too); the version from text (`strict=False`). None where the API refuses the same values."""
    try:
        return msgspec.convert(values, struct, strict=False)
    except (msgspec.ValidationError, DomainError):  # DomainError: WireRequest's timestamp bounds
        return None


def _back(case_id: int, code: str) -> Redirect:
    return Redirect(f"/console/cases/{case_id}?msg={code}", status_code=303)


async def _case_page(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    case_id: int,
    message: dict[str, str] | None,
    status: int = 200,
) -> Template:
    """A case page: what was submitted, checked and decided, its forms, and `message` above them."""
    who = request.user
    detail = await service.case_detail(who, case_id)
    view = case_view(ctx, detail)
    conn = detail.snapshot.connection
    points = [MapPoint(f"{conn.street} {conn.house_number}", conn.lat, conn.lon, "address")]
    points += [MapPoint(f"GPS ±{f.accuracy_m:.0f} m", f.lat, f.lon, "fix", f.accuracy_m) for f in detail.fixes[-1:]]
    exif: dict[tuple[float, float], list[str]] = {}  # photos taken at one spot share a marker
    for p in detail.snapshot.photos:
        if p.exif_lat is not None and p.exif_lon is not None:
            exif.setdefault((round(p.exif_lat, 5), round(p.exif_lon, 5)), []).append(p.slot)
    lang = reader(request)
    labels = _labels(ctx.catalog, lang)
    points += [
        MapPoint(f"EXIF {', '.join(labels.get(s, s) for s in slots)}", lat, lon, "exif")
        for (lat, lon), slots in exif.items()
    ]
    order = {slot: i for i, slot in enumerate(ctx.catalog.types[detail.snapshot.install.asset_type].slots)}
    photos = sorted(view.photos, key=lambda p: (not p.current, order.get(p.slot, 99), -p.id))
    now = ctx.clock()
    reason_codes = load_review_config().reason_codes
    # A specialist's reason code in words (review.toml's Dutch and English): decisions and the form's choices.
    code_words = {code: DataWords(*words).words(lang) for by in reason_codes.values() for code, words in by.items()}
    codes = {outcome: [[c, code_words[c]] for c in sorted(by)] for outcome, by in reason_codes.items()}
    return Template(
        "case.html",
        status_code=status,
        context={
            "who": who,
            "flash": message,
            "case": view,
            "photos": photos,
            "checks": view.checks,
            "policy": ctx.policy,
            "map_svg": render_map(ctx.territory.geometry, points, lang),
            "holds": view.claimed_by == who.subject,
            "overdue": view.due_at < now,
            "reason_words": {
                r: translate(lang, REASON_TEXT_FOR_STAFF.get(r) or KIND_WORDS.get(r, r)) for r in view.reasons
            },
            "kind_words": KIND_WORDS,
            "labels": labels,
            "verdict_words": VERDICT_WORDS,
            "codes_json": json.dumps(codes),
            "code_words": code_words,
            "policy_versions": sorted({d["policy_version"] for d in view.decisions}),
            "findings": _findings(view.checks),
            "extra_labels": {r["photo_slot"]: r["photo_label"] for r in view.info_requests if r["photo_slot"]},
            "visit": await visits.latest_visit(detail.case.install),
            "visit_words": VISIT_STATE_WORDS,
            "planning_rule": load_planning_rule(),
        },
    )


class ConsoleLoginController(Controller):
    """The console's pages without a session: the index, signing in with a pasted token, signing out."""

    path = "/console"
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext]) -> Redirect:
        """The signed-in role's first page (the sign-in page without a session)."""
        who = await principal_of(request, ctx)
        return Redirect(HOME[who.role] if who else "/console/login", status_code=303)

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext]) -> Template:
        return _login_page(ctx, reader(request), 200, None, await principal_of(request, ctx))

    @post("/login", status_code=303)
    async def login(
        self, request: Request[Any, Any, Any], state: State, ctx: NamedDependency[InstallContext], data: Form
    ) -> Response[Any]:
        """Development only: a pasted token, checked exactly like a bearer token (backend/console/oidc.py)."""
        lang = reader(request)
        if not pasted_tokens_allowed(ctx.settings):
            return _login_page(ctx, lang, 403, N_("Signing in with a pasted token works in development only."))
        try:
            token = await state.verifier.verify(data.get("token", "").strip())
        except NotAuthorizedException:
            return _login_page(ctx, lang, 401, N_("This token is invalid or has expired."))
        role = state.verifier.role(token)
        if role not in CONSOLE_ROLES:
            return _login_page(ctx, lang, 403, STAFF_ONLY)
        now = ctx.clock()
        session = await sessions.open_session(Principal(subject=token.sub, role=role), now, token.exp)
        max_age = max(60, int((token.exp - now).total_seconds()))
        return Redirect(HOME[role], status_code=303, cookies=[session_cookie(session, max_age)])

    @post("/logout", status_code=303)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        await sessions.end_session(request.cookies.get(COOKIE))
        return Redirect("/console/login", status_code=303, cookies=[session_cookie("", 0)])


class ConsoleController(Controller):
    """The specialists' pages: the queue, a case and its forms."""

    path = "/console"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [StaffSession]
    guards = [staff(Role.SPECIALIST)]

    @get("/queue")
    async def queue(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        reason: FromQuery[str | None] = None,
        asset_type: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        who = request.user
        reason = reason if reason in {r.value for r in Reason} else None
        asset_type = asset_type if asset_type in ctx.catalog.types else None
        kind = kind if kind in KIND_WORDS else None
        after = decode_cursor(cursor, aware_datetime, int, int) if cursor else None
        page = await service.queue(25, after, reason, asset_type, None, ctx.clock(), kind)
        view = queue_view(page, encode_cursor(*page.next_after) if page.next_after else None, ctx.clock())
        lang, age_s = reader(request), view.oldest_case_age_s
        oldest = translate(lang, N_("{hours} hours"), hours=number(round(age_s / 3600, 1), lang)) if age_s else None
        return Template(
            "queue.html",
            context={
                "who": who,
                "flash": None,
                "items": view.items,
                "counts": view.counts,
                "total": view.depth,
                "oldest": oldest,
                "reasons": [r.value for r in Reason],
                "asset_types": sorted(ctx.catalog.types),
                "kinds": KIND_WORDS,
                "labels": _labels(ctx.catalog, lang),
                "filters": {"reason": reason, "asset_type": asset_type, "kind": kind},
                "next_cursor": view.next_cursor,
            },
        )

    @get("/cases/{case_id:int}")
    async def case(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        msg: FromQuery[str | None] = None,
    ) -> Template:
        return await _case_page(request, ctx, case_id, flash(msg, reader(request)))

    @get("/cases/{case_id:int}/photos/{photo_id:int}/annotated.jpg", media_type="image/jpeg")
    async def annotated(
        self, ctx: NamedDependency[InstallContext], case_id: FromPath[int], photo_id: FromPath[int]
    ) -> Response[bytes]:
        photo = await service.original_photo(case_id, photo_id)
        async with ctx.store.original_file(photo.sha256) as path:
            data = await ctx.run_cpu(annotated_jpeg, path)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @get("/cases/{case_id:int}/photos/{photo_id:int}/original")
    async def original(
        self, ctx: NamedDependency[InstallContext], case_id: FromPath[int], photo_id: FromPath[int]
    ) -> Stream:
        photo = await service.original_photo(case_id, photo_id)
        return photo_response(await ctx.store.original(photo.sha256), photo.content_type)

    @post("/cases/{case_id:int}/claim", status_code=303)
    async def claim(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> Response[Any]:
        return await _act(request, ctx, service.claim(ctx, request.user, case_id), case_id, "claimed")

    @post("/cases/{case_id:int}/release", status_code=303)
    async def release(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> Response[Any]:
        return await _act(request, ctx, service.release(ctx, request.user, case_id), case_id, "released")

    @post("/cases/{case_id:int}/decision", status_code=303)
    async def decision(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Approve, reject or ask for information: the form read as the API's DecisionIn."""
        item = _wire(_filled(data), DecisionIn)
        if item is None:
            return await _form_refused(request, ctx, case_id)
        ask = Ask(photo_label=item.extra_photo, question=item.question)
        try:
            case = await service.decide(
                ctx,
                request.user,
                case_id,
                item.outcome,
                item.reason_code,
                item.note,
                item.message_to_customer,
                item.version,
                ask,
            )
        except DomainError as exc:
            return await _refusal(request, ctx, case_id, exc)
        return _back(case_id, "first_approval" if case.state == "open" else "decided")

    @post("/cases/{case_id:int}/verdict", status_code=303)
    async def verdict(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Close a follow-up: the form read as the API's VerdictIn."""
        item = _wire(_filled(data), VerdictIn)
        if item is None:
            return await _form_refused(request, ctx, case_id)
        action = followups.give_verdict(ctx, request.user, case_id, item.verdict, item.note, item.version)
        return await _act(request, ctx, action, case_id, "verdict")

    @post("/cases/{case_id:int}/visit", status_code=303)
    async def visit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        data: Form,
    ) -> Response[Any]:
        """Plan a visit: the windows typed in (local time), or the planning rule's when none is; the form
        read as the API's OfferVisitIn."""
        windows, filled = _visit_windows(data), _filled(data)
        values: dict[str, Any] = {name: filled[field] for field, name in _VISIT_FIELDS.items() if field in filled}
        if windows:
            values["windows"] = [{"window_start": start, "window_end": end} for start, end in windows]
        item = _wire(values, OfferVisitIn) if windows is not None else None
        if item is None:
            return await _form_refused(request, ctx, case_id)
        typed = [(w.window_start, w.window_end) for w in item.windows] if item.windows is not None else None
        urls = ctx.settings.webhook_urls
        action = visits.offer_visit(urls, request.user, case_id, ctx.clock(), typed, item.installer, item.note)
        return await _act(request, ctx, action, case_id, "visit_offered")


VISIT_FORM_ROWS = 3  # windows a specialist may type on the case page
# The form's own names (the case page has another form's `note`) and the request's; the windows are typed in rows.
_VISIT_FIELDS = {"visit_installer": "installer", "visit_note": "note"}


def _visit_windows(data: dict[str, str]) -> list[tuple[datetime, datetime]] | None:
    """The form's windows (`start_n`/`end_n`, datetime-local on the operator's clock), or None if one
    is half filled or not a time."""
    windows = []
    for n in range(1, VISIT_FORM_ROWS + 1):
        start, end = data.get(f"start_{n}", ""), data.get(f"end_{n}", "")
        if not start and not end:
            continue
        try:
            windows.append((_local(start), _local(end)))
        except ValueError:
            return None
    return windows


def _local(value: str) -> datetime:
    at = datetime.fromisoformat(value)
    if at.tzinfo is not None or not 2000 <= at.year < 2100:
        raise ValueError(value)
    return on_operator_clock(at)  # a time the clock skips: ValueError too
