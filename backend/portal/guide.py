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
from typing import Annotated, Any

from litestar import Controller, Request, get, post
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
from backend.portal.http import CHUNK_BYTES, GUIDE_STEPS, Form, _flash, _form, _labels, _page
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


async def _step(action: Any, install_id: uuid.UUID, success: str) -> Redirect:
    """Run one step's service call and go back to the guide, which shows the next step (or the problem)."""
    try:
        await action
    except (NotFound, Forbidden):
        raise  # another's install, or none: the 404 page, as when reading it; one the caller only reads: 403
    except DomainError as exc:
        return _guide(install_id, exc.code)
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
    ctx: InstallContext, who: Principal, install_id: uuid.UUID, slot: str, upload: object
) -> int | str:
    """A form's file part through the API's photo upload (its types, MAX_PHOTO_BYTES, checks), closed after:
    the photo's id, or the code of why not (another's install stays a 404: raised)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return "request/invalid"
    try:
        photo, _results, _created = await evidence.upload_photo(
            ctx, who, install_id, slot, _photo_type(upload), None, _chunks(upload)
        )
    except NotFound:
        raise
    except DomainError as exc:
        return exc.code
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
    ) -> Redirect:
        """Start an install of a type the catalog lets a customer self-install (the API's CreateInstall); the
        form carries the install's id, made when the page was, so a second press is the same install."""
        who = request.user
        form = _form({k: data.get(k, "") for k in ("id", "connection_ean", "asset_type")}, s.CreateInstall)
        if form is None:
            return Redirect("/portal/?msg=request/invalid#top", status_code=303)
        try:
            await service.create_install(ctx, who, form.id, form.connection_ean, form.asset_type)
        except DomainError as exc:
            return Redirect(f"/portal/?msg={exc.code}#top", status_code=303)
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
            who=who,
            install=view,
            step=step,
            shown=shown,
            retakes=[a for a in view.next_actions if a.code == "retake_photo"],
            slot_words={n: (sp.label_nl if lang == "nl" else sp.label_en) for n, sp in ctx.catalog.slots.items()},
            progress=(done, len(slots)),
            chunk_bytes=CHUNK_BYTES,  # the photo step's upload.js sends the photo in chunks of this size
            labels=_labels(ctx, lang),
            flash={"kind": "info", "text": translate(lang, SAID[msg])} if msg in SAID else _flash(lang, msg, ctx),
        )

    @post("/installs/{install_id:uuid}/guide/scan", status_code=303)
    async def scan(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The label's code, typed from under the QR or read from the camera by scan.js (the API's ScanLabel)."""
        who = request.user
        form = _form({"payload": data.get("payload", "").strip()}, s.ScanLabel)
        if form is None:
            return _guide(install_id, "request/invalid")
        return await _step(service.scan_label(ctx, who, install_id, form.payload), install_id, "step_done")

    @post("/installs/{install_id:uuid}/guide/location", status_code=303)
    async def location(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The browser's geolocation fix with its accuracy (the API's ReportLocation, provider gps)."""
        who = request.user
        fields = {k: data.get(k, "") for k in ("lat", "lon", "accuracy_m")}
        form = _form({**fields, "captured_at": datetime.now(UTC).isoformat()}, s.ReportLocation)
        if form is None:
            return _guide(install_id, "request/invalid")
        now = ctx.clock()
        action = service.add_location(ctx, who, install_id, form.lat, form.lon, form.accuracy_m, now, "gps", False)
        return await _step(action, install_id, "step_done")

    @post("/installs/{install_id:uuid}/guide/reading", status_code=303)
    async def reading(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Redirect:
        """The reading off the display (the API's EnterReading); a decimal comma is a Dutch reader's point."""
        who = request.user
        form = _form({"value": data.get("value", "").strip().replace(",", ".")}, s.EnterReading)
        if form is None:
            return _guide(install_id, "request/invalid")
        return await _step(service.enter_reading(ctx, who, install_id, form.value), install_id, "step_done")

    @post(
        "/installs/{install_id:uuid}/guide/photos/{slot:str}", status_code=303, request_max_body_size=PHOTO_FORM_BYTES
    )
    async def photo(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
        slot: FromPath[str],
    ) -> Redirect:
        """A photo from the phone's camera (a form's file part) handed in chunks to the API's photo upload
        (its types, its MAX_PHOTO_BYTES); the guide then shows its checks."""
        who = request.user
        sent = await form_photo(ctx, who, install_id, slot, (await request.form()).get("photo"))
        return _guide(install_id, sent) if isinstance(sent, str) else _guide(install_id, "photo_checked", sent)

    @post("/installs/{install_id:uuid}/guide/submit", status_code=303)
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
    ) -> Redirect:
        """Send the install for checking (the API's SubmitInstall); the guide then says the outcome."""
        who = request.user
        return await _step(service.submit(ctx, who, install_id), install_id, "submitted")
