"""/portal: answer a specialist's request for information with the extra photo they ask for.

The photo goes where the API's goes: the open request's own slot (installs.asked.extra_slot) through
evidence.upload_photo, with its types, MAX_PHOTO_BYTES and checks, and the conversation settles there
(the install is back with the specialist once all that was asked is given). The slot is the server's:
the form names no slot, so a photo when nothing of the kind is asked is refused in words. With JavaScript
the same photo goes in chunks through the portal's resumable upload (backend/portal/uploads.py, whose
creation admits this slot only while the request asks for it) and ends on the page this form redirects to
(`answered_url`)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from backend.installs import service
from backend.installs.asked import extra_slot, open_request
from backend.installs.context import InstallContext
from backend.installs.enums import InstallState
from backend.portal.access import HANDLERS, CustomerSession, language_of
from backend.portal.guide import PHOTO_FORM_BYTES, Refusal, form_photo
from backend.portal.http import NO_PHOTO_ASKED, _back, back_url, install_page
from backend.principal import Principal


class AnswerController(Controller):
    path = "/portal"
    include_in_schema = False
    exception_handlers = HANDLERS
    middleware = [CustomerSession]

    @post("/installs/{install_id:uuid}/answer/photo", status_code=303, request_max_body_size=PHOTO_FORM_BYTES)
    async def answer_photo(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        install_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        """The extra photo the specialist asks for, from the phone's camera (a form's file part); the
        install's page then says whether it is all given or what is still asked (a retake, a question),
        or at once why the photo was refused."""
        who, (lang, _) = request.user, language_of(request)
        snap = await service.get_install(who, install_id)  # 404 for another's
        asked = open_request(snap.install, snap.info_requests)
        upload = (await request.form()).get("photo")
        if asked is None or asked.photo_label is None:
            if isinstance(upload, UploadFile):
                await upload.close()
            return _back(install_id, NO_PHOTO_ASKED)
        sent = await form_photo(ctx, who, install_id, extra_slot(asked.id), upload, lang)
        if isinstance(sent, Refusal):
            return await install_page(request, ctx, install_id, sent.flash, sent.status)
        return Redirect(await answered_url(who, install_id), status_code=303)


async def answered_url(who: Principal, install_id: uuid.UUID) -> str:
    """The install's page once the asked photo is in: the answer is with the specialist when that was all
    (the install is in review again), else the page says what is still asked (a retake, a question)."""
    after = await service.get_install(who, install_id)
    return back_url(install_id, "answer_sent" if after.install.state == InstallState.IN_REVIEW else "photo_in")
