"""/portal: the customer's step-by-step self-install guide, over the same services as the mobile API.

Starting an install is the API's CreateInstall (the catalog decides who may self-install what, at which
capacity); the guide page shows the first of the install's next_actions (installs.snapshot.next_actions,
worded by mobile_api's install_view), so a reload or a return days later resumes at the current step.
Each step is a plain form (label code, reading, photo file, submit); the label's code is typed from under
the QR or read from the camera by static/scan.js (the browser's BarcodeDetector, else the vendored WebAssembly
build of zxing-cpp) into the same form, and the geolocation step is filled by the browser's geolocation in
portal.js, its fallback is asking for a person. A photo goes through
evidence.upload_photo, and the page after it shows that photo's checks in words with the fix."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Annotated, Any, NamedTuple

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from backend.errors import DomainError, Forbidden, NotFound
from backend.i18n import N_, translate
from backend.installs import evidence, service
from backend.installs.context import InstallContext
from backend.portal.access import HANDLERS, CustomerSession, language_of
from backend.portal.http import CHUNK_BYTES, GUIDE_STEPS, Form, _flash, _form, _home, _labels, _page
from backend.portal.said import Flash, form_help, refused, typed_reading
from backend.principal import Principal
from mobile_api.v1 import schemas as s
from mobile_api.v1.views import install_view

Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
CHUNK = 64 * 1024
# A photo form's body: the CSRF middleware reads the form (Litestar spools its file part to disk above 1 MB)
# before the handler runs, so the route bounds it; the store then holds the file part to MAX_PHOTO_BYTES.
PHOTO_FORM_BYTES = 32 * 1024 * 1024
# The steps the guide walks; the others (a specialist's request, a visit, waiting) are the install's page.
SAID = {
    "step_done": N_("Saved. Here is the next step."),
    "photo_checked": N_("Your photo is in. Its checks are below."),
    "submitted": N_("Your install has been submitted. The outcome is below."),
}


def guide_url(install_id: uuid.UUID, code: str, photo: int | None = None) -> str:
    """The guide after a step: its outcome `code` said, and the photo whose checks it shows."""
    shown = f"&photo={photo}" if photo is not None else ""
    return f"/portal/installs/{install_id}/guide?msg={code}{shown}#step"


def _guide(install_id: uuid.UUID, code: str, photo: int | None = None) -> Redirect:
    return Redirect(guide_url(install_id, code, photo), status_code=303)


async def _step(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    action: Any,
    install_id: uuid.UUID,
    success: str,
    typed: dict[str, str] | None = None,
) -> Response[Any]:
    """Run one step's service call and go back to the guide, which shows the next step; a refusal is the
    guide at once, the refusal in full words above the step as typed."""
    try:
        await action
    except (NotFound, Forbidden):
        raise  # another's install, or none: the 404 page, as when reading it; one the caller only reads: 403
    except DomainError as exc:
        return await guide_page(request, ctx, install_id, refused(language_of(request)[0], exc), exc.status, typed)
    return _guide(install_id, success)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


# A browser names a file it knows no type for (a HEIC on many Android phones, a photo picked from a folder)
# application/octet-stream or nothing: its name's suffix says what it claims to be, and the decoder checks
# the bytes as for any upload. upload.js does the same for the chunked upload.
_TYPE_BY_SUFFIX = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".heic": "image/heic",
    ".heif": "image/heif",
}


def _photo_type(upload: UploadFile) -> str:
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        return _TYPE_BY_SUFFIX.get(PurePath(upload.filename).suffix.lower(), declared)
    return declared


async def form_photo(
    ctx: InstallContext, who: Principal, install_id: uuid.UUID, slot: str, upload: object, lang: str
) -> int | Refusal:
    """A form's file part through the API's photo upload (its types, MAX_PHOTO_BYTES, checks), closed after:
    the photo's id, or why not in words with its status (another's install stays a 404: raised)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return Refusal(form_help(lang, "photo"), 422)
    try:
        photo, _results, _created = await evidence.upload_photo(
            ctx, who, install_id, slot, _photo_type(upload), None, _chunks(upload)
        )
    except NotFound:
        raise
    except DomainError as exc:
        return Refusal(refused(lang, exc), exc.status)
    finally:
        await upload.close()
    return photo.id


class GuideController(Controller):
    path = "/portal"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [CustomerSession]

    @post("/installs", status_code=303)
    async def start(
        self, request: Request[Principal, Any, Any], ctx: NamedDependency[InstallContext], data: Form
    ) -> Response[Any]:
        """Start an install of a type the catalog lets a customer self-install (the API's CreateInstall); the
        form carries the install's id, made when the page was, so a second press is the same install. A
        refusal is the home page at once, saying it in full."""
        who, (lang, _) = request.user, language_of(request)
        form = _form({k: data.get(k, "") for k in ("id", "connection_ean", "asset_type")}, s.CreateInstall)
        if form is None:
            return await _home(request, ctx, who, 422, form_help(lang, "start"))
        try:
            await service.create_install(ctx, who, form.id, form.connection_ean, form.asset_type)
        except DomainError as exc:
            return await _home(request, ctx, who, exc.status, refused(lang, exc))
        return Redirect(f"/portal/installs/{form.id}/guide", status_code=303)

    @get("/installs/{install_id:uuid}/guide")
    async def guide(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        msg: FromQuery[str | None] = None,
        photo: FromQuery[int | None] = None,
    ) -> Template:
        """The current step of the self-install: the first of the install's next actions the guide walks."""
        lang, _ = language_of(request)
        flash = {"kind": "info", "text": translate(lang, SAID[msg])} if msg in SAID else _flash(lang, msg)
        return await guide_page(request, ctx, install_id, flash, photo=photo)

    @post("/installs/{install_id:uuid}/guide/scan", status_code=303)
    async def scan(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """The label's code, typed from under the QR or read from the camera by scan.js (the API's ScanLabel)."""
        who, (lang, _) = request.user, language_of(request)
        typed = {"payload": data.get("payload", "").strip()}
        form = _form(typed, s.ScanLabel)
        if form is None:
            return await guide_page(request, ctx, install_id, form_help(lang, "scan"), 422, typed)
        action = service.scan_label(ctx, who, install_id, form.payload)
        return await _step(request, ctx, action, install_id, "step_done", typed)

    @post("/installs/{install_id:uuid}/guide/location", status_code=303)
    async def location(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """The browser's geolocation fix with its accuracy (the API's ReportLocation, provider gps)."""
        who, (lang, _) = request.user, language_of(request)
        fields = {k: data.get(k, "") for k in ("lat", "lon", "accuracy_m")}
        form = _form({**fields, "captured_at": datetime.now(UTC).isoformat()}, s.ReportLocation)
        if form is None:
            return await guide_page(request, ctx, install_id, form_help(lang, "location"), 422)
        now = ctx.clock()
        action = service.add_location(ctx, who, install_id, form.lat, form.lon, form.accuracy_m, now, "gps", False)
        return await _step(request, ctx, action, install_id, "step_done")

    @post("/installs/{install_id:uuid}/guide/reading", status_code=303)
    async def reading(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response[Any]:
        """The reading off the display (the API's EnterReading, a number) as a person types it: a decimal
        comma, thousands separators (said.typed_reading); what is no number is said, and shown again as typed."""
        who, (lang, _) = request.user, language_of(request)
        typed = {"value": data.get("value", "")}
        value = typed_reading(typed["value"], lang)
        form = _form({"value": value}, s.EnterReading) if value is not None else None
        if form is None:
            return await guide_page(request, ctx, install_id, form_help(lang, "reading"), 422, typed)
        action = service.enter_reading(ctx, who, install_id, form.value)
        return await _step(request, ctx, action, install_id, "step_done", typed)

    @post(
        "/installs/{install_id:uuid}/guide/photos/{slot:str}", status_code=303, request_max_body_size=PHOTO_FORM_BYTES
    )
    async def photo(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        slot: FromPath[str],
    ) -> Response[Any]:
        """A photo from the phone's camera (a form's file part) handed in chunks to the API's photo upload
        (its types, its MAX_PHOTO_BYTES); the guide then shows its checks, or at once why not."""
        who, (lang, _) = request.user, language_of(request)
        sent = await form_photo(ctx, who, install_id, slot, (await request.form()).get("photo"), lang)
        if isinstance(sent, Refusal):
            return await guide_page(request, ctx, install_id, sent.flash, sent.status)
        return _guide(install_id, "photo_checked", sent)

    @post("/installs/{install_id:uuid}/guide/submit", status_code=303)
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """Send the install for checking (the API's SubmitInstall); the guide then says the outcome."""
        return await _step(request, ctx, service.submit(ctx, request.user, install_id), install_id, "submitted")


class Refusal(NamedTuple):
    """A form refused: the page's message and the answer's status."""

    flash: Flash
    status: int


async def guide_page(
    request: Request[Principal, Any, Any],
    ctx: InstallContext,
    install_id: uuid.UUID,
    flash: Flash | None,
    status: int = 200,
    typed: dict[str, str] | None = None,
    photo: int | None = None,
) -> Template:
    """The guide at the install's current step (`typed`: a refused step's field, shown again to change)."""
    who = request.user
    lang, _ = language_of(request)
    snap = await service.get_install(who, install_id)
    service.require_creator(who, snap.install)  # the installer's install at their connection: its page, read-only
    view = install_view(ctx.catalog, snap, lang)
    step = next((a for a in view.next_actions if a.code in GUIDE_STEPS), None)
    shown = next((p for p in view.photos if p.id == photo), None)
    slots = ctx.catalog.types[view.asset_type].slots
    done = sum(1 for p in view.photos if p.slot in slots)
    return _page(
        request,
        "guide",
        status,
        path=f"/portal/installs/{install_id}/guide",
        who=who,
        install=view,
        step=step,
        shown=shown,
        retakes=[a for a in view.next_actions if a.code == "retake_photo"],
        slot_words={n: (sp.label_nl if lang == "nl" else sp.label_en) for n, sp in ctx.catalog.slots.items()},
        progress=(done, len(slots)),
        chunk_bytes=CHUNK_BYTES,  # the photo step's upload.js sends the photo in chunks of this size
        labels=_labels(ctx, lang),
        flash=flash,
        typed=typed or {},
    )
