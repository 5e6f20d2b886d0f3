"""/console: the specialists' web pages. A signed-in specialist's token lives in a Secure, HttpOnly,
SameSite=Strict cookie; every form carries a CSRF token (Litestar's CSRF middleware)."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import File, Redirect, Template
from litestar.security.jwt import Token

from backend.console.annotate import annotated_jpeg
from backend.console.svgmap import MapPoint, render_map
from backend.console.words import FLASH, KIND_WORDS, VERDICT_WORDS
from backend.cursor import aware_datetime, decode_cursor, encode_cursor
from backend.errors import MESSAGES, DomainError
from backend.installs.context import InstallContext
from backend.installs.snapshot import REASON_TEXT
from backend.principal import Principal, Role
from backend.review import followups, service
from backend.review.config import load_review_config
from backend.review.views import CheckDetail, case_view, queue_view
from backend.validation.results import Reason

COOKIE = "si_console"
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class ConsoleLoginRequired(Exception):
    """No valid specialist cookie: go to the sign-in page."""


def _principal(request: Request[Any, Any, Any], ctx: InstallContext) -> Principal | None:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    settings = ctx.settings
    try:
        token = Token.decode(
            raw,
            settings.jwt_secret,
            settings.jwt_algorithm,
            issuer=[settings.jwt_issuer] if settings.jwt_issuer else None,
        )
    except NotAuthorizedException:
        return None
    return Principal(subject=token.sub, role=Role.SPECIALIST) if token.extras.get("role") == "specialist" else None


def _require(request: Request[Any, Any, Any], ctx: InstallContext) -> Principal:
    who = _principal(request, ctx)
    if who is None:
        raise ConsoleLoginRequired
    return who


def _flash(code: str | None) -> dict[str, str] | None:
    if not code:
        return None
    if code in FLASH:
        kind, text = FLASH[code]
    elif code in MESSAGES:
        kind, text = "error", MESSAGES[code][0].format_map(_Blank())
    else:
        return None
    return {"kind": kind, "text": text}


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def _findings(checks: list[CheckDetail]) -> list[CheckDetail]:
    """What did not pass in the latest submit (and since): the first thing a specialist reads."""
    latest = max((c.attempt for c in checks), default=0)
    return sorted((c for c in checks if c.attempt >= latest and c.status != "pass"), key=lambda c: c.status != "fail")


async def _act(action: Awaitable[object], case_id: int, success: str) -> Redirect:
    """Run a review action and go back to the case page with its outcome as the message."""
    try:
        await action
    except DomainError as exc:
        return _back(case_id, exc.code)
    return _back(case_id, success)


def _back(case_id: int, code: str) -> Redirect:
    return Redirect(f"/console/cases/{case_id}?msg={code}", status_code=303)


class ConsoleController(Controller):
    path = "/console"
    include_in_schema = False
    exception_handlers = {ConsoleLoginRequired: lambda _r, _e: Redirect("/console/login", status_code=303)}

    @get("/", sync_to_thread=False)
    def index(self) -> Redirect:
        return Redirect("/console/queue", status_code=303)

    @get("/login")
    async def login_page(self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext]) -> Template:
        return Template("login.html", context={"who": _principal(request, ctx), "flash": None})

    @post("/login", status_code=303)
    async def login(self, ctx: NamedDependency[InstallContext], data: Form) -> Response[Any]:
        settings = ctx.settings
        try:
            token = Token.decode(
                data.get("token", "").strip(),
                settings.jwt_secret,
                settings.jwt_algorithm,
                issuer=[settings.jwt_issuer] if settings.jwt_issuer else None,
            )
        except NotAuthorizedException:
            return Template(
                "login.html",
                status_code=401,
                context={"who": None, "flash": {"kind": "error", "text": "Dit token is ongeldig of verlopen."}},
            )
        if token.extras.get("role") != "specialist":
            return Template(
                "login.html",
                status_code=403,
                context={"who": None, "flash": {"kind": "error", "text": "Deze console is alleen voor specialisten."}},
            )
        max_age = max(60, int((token.exp - datetime.now(UTC)).total_seconds()))
        return Redirect(
            "/console/queue",
            status_code=303,
            cookies=[
                Cookie(
                    key=COOKIE,
                    value=data["token"].strip(),
                    path="/console",
                    httponly=True,
                    secure=True,
                    samesite="strict",
                    max_age=max_age,
                )
            ],
        )

    @post("/logout", status_code=303)
    async def logout(self) -> Redirect:
        return Redirect(
            "/console/login",
            status_code=303,
            cookies=[
                Cookie(key=COOKIE, value="", path="/console", max_age=0, httponly=True, secure=True, samesite="strict")
            ],
        )

    @get("/queue")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        ctx: NamedDependency[InstallContext],
        reason: FromQuery[str | None] = None,
        asset_type: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        who = _require(request, ctx)
        reason = reason if reason in {r.value for r in Reason} else None
        asset_type = asset_type if asset_type in ctx.catalog.types else None
        kind = kind if kind in KIND_WORDS else None
        after = decode_cursor(cursor, aware_datetime, int, int) if cursor else None
        page = await service.queue(25, after, reason, asset_type, None, ctx.clock(), kind)
        view = queue_view(page, encode_cursor(*page.next_after) if page.next_after else None, ctx.clock())
        oldest = f"{view.oldest_case_age_s / 3600:.1f} uur" if view.oldest_case_age_s else None
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
                "filters": {"reason": reason, "asset_type": asset_type, "kind": kind},
                "next_cursor": view.next_cursor,
            },
        )

    @get("/cases/{case_id:int}")
    async def case(
        self,
        request: Request[Any, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        msg: FromQuery[str | None] = None,
    ) -> Template:
        who = _require(request, ctx)
        detail = await service.case_detail(who, case_id)
        view = case_view(ctx, detail)
        conn = detail.snapshot.connection
        points = [MapPoint(f"{conn.street} {conn.house_number}", conn.lat, conn.lon, "address")]
        points += [MapPoint(f"GPS ±{f.accuracy_m:.0f} m", f.lat, f.lon, "fix", f.accuracy_m) for f in detail.fixes[-1:]]
        exif: dict[tuple[float, float], list[str]] = {}  # photos taken at one spot share a marker
        for p in detail.snapshot.photos:
            if p.exif_lat is not None and p.exif_lon is not None:
                exif.setdefault((round(p.exif_lat, 5), round(p.exif_lon, 5)), []).append(p.slot)
        points += [MapPoint(f"EXIF {', '.join(slots)}", lat, lon, "exif") for (lat, lon), slots in exif.items()]
        order = {slot: i for i, slot in enumerate(ctx.catalog.types[detail.snapshot.install.asset_type].slots)}
        photos = sorted(view.photos, key=lambda p: (not p.current, order.get(p.slot, 99), -p.id))
        now = ctx.clock()
        codes = {outcome: sorted(c) for outcome, c in load_review_config().reason_codes.items()}
        return Template(
            "case.html",
            context={
                "who": who,
                "flash": _flash(msg),
                "case": view,
                "photos": photos,
                "checks": view.checks,
                "policy": ctx.policy,
                "map_svg": render_map(ctx.territory.geometry, points),
                "holds": view.claimed_by == who.subject,
                "overdue": view.due_at < now,
                "reason_words": {
                    r: REASON_TEXT[r][0] if r in REASON_TEXT else KIND_WORDS.get(r, r) for r in view.reasons
                },
                "kind_words": KIND_WORDS,
                "verdict_words": VERDICT_WORDS,
                "codes_json": json.dumps(codes),
                "policy_versions": sorted({d["policy_version"] for d in view.decisions}),
                "findings": _findings(view.checks),
            },
        )

    @get("/cases/{case_id:int}/photos/{photo_id:int}/annotated.jpg", media_type="image/jpeg")
    async def annotated(
        self,
        request: Request[Any, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        photo_id: FromPath[int],
    ) -> Response[bytes]:
        _require(request, ctx)
        photo = await service.original_photo(case_id, photo_id)
        data = await ctx.run_cpu(annotated_jpeg, ctx.store.original_path(photo.sha256))
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    @get("/cases/{case_id:int}/photos/{photo_id:int}/original")
    async def original(
        self,
        request: Request[Any, Any, Any],
        ctx: NamedDependency[InstallContext],
        case_id: FromPath[int],
        photo_id: FromPath[int],
    ) -> File:
        _require(request, ctx)
        photo = await service.original_photo(case_id, photo_id)
        return File(
            path=ctx.store.original_path(photo.sha256), media_type=photo.content_type, content_disposition_type="inline"
        )

    @post("/cases/{case_id:int}/claim", status_code=303)
    async def claim(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> Redirect:
        return await _act(service.claim(ctx, _require(request, ctx), case_id), case_id, "claimed")

    @post("/cases/{case_id:int}/release", status_code=303)
    async def release(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int]
    ) -> Redirect:
        return await _act(service.release(ctx, _require(request, ctx), case_id), case_id, "released")

    @post("/cases/{case_id:int}/decision", status_code=303)
    async def decision(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int], data: Form
    ) -> Redirect:
        who = _require(request, ctx)
        outcome = data.get("outcome", "")
        if outcome not in ("approve", "reject", "request_info") or not data.get("version", "").isdigit():
            return _back(case_id, "request/invalid")
        try:
            case = await service.decide(
                ctx,
                who,
                case_id,
                outcome,
                data.get("reason_code", ""),  # type: ignore[arg-type]
                data.get("note", "")[:4000],
                data.get("message_to_customer", "")[:2000],
                int(data["version"]),
            )
        except DomainError as exc:
            return _back(case_id, exc.code)
        return _back(case_id, "first_approval" if case.state == "open" else "decided")

    @post("/cases/{case_id:int}/verdict", status_code=303)
    async def verdict(
        self, request: Request[Any, Any, Any], ctx: NamedDependency[InstallContext], case_id: FromPath[int], data: Form
    ) -> Redirect:
        who = _require(request, ctx)
        if data.get("verdict", "") not in VERDICT_WORDS or not data.get("version", "").isdigit():
            return _back(case_id, "request/invalid")
        action = followups.give_verdict(
            ctx, who, case_id, data["verdict"], data.get("note", "")[:4000], int(data["version"])
        )
        return await _act(action, case_id, "verdict")
