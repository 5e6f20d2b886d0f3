"""A conversation on a request for information: a specialist asks for an extra photo and/or an answer in
words, the customer gives them, and once everything asked is there the install goes back to the
specialist's queue by itself (no submit: the automation has judged the rest before).

State: the install waits in needs_retake with `awaiting_info` (its escalation case `waiting_customer`, out
of the queue, its SLA clock stopped); the last thing given moves it to in_review, and the review flow
reopens the case with a due time counted afresh from that moment (review.toml's SLA for its reasons).
A message when nothing is asked is refused: asking for a person (`help`) is the way to reach one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from backend.errors import Conflict
from backend.installs import repository as repo
from backend.installs.asked import asks_anything, extra_slot, missing, open_request
from backend.installs.context import InstallContext
from backend.installs.enums import InstallState
from backend.installs.records import InfoRequestRec, InstallRec
from backend.installs.service import creators_install, get_install, record_event, save_install, transaction
from backend.installs.snapshot import InstallSnapshot, load_snapshot
from backend.principal import Principal


@dataclass(frozen=True, slots=True)
class Ask:
    """What a specialist asks for in particular with a request for information (either may be None)."""

    photo_label: str | None = None  # the extra photo, in words: "een foto van de aardlekschakelaar"
    question: str | None = None


async def ask(who: Principal, install: InstallRec, asked: Ask, message: str | None, at: datetime) -> InfoRequestRec:
    """In the decision's transaction: record the request (an earlier open one is closed: this one replaces it)."""
    await repo.close_info_requests(install.id, at)
    request = await repo.insert_info_request(
        {
            "install": install.id,
            "asked_by": who.subject,
            "message": message,
            "photo_label": asked.photo_label,
            "question": asked.question,
            "created_at": at,
        }
    )
    await record_event(
        who,
        "info.requested",
        at,
        install,
        to_state=InstallState.NEEDS_RETAKE.value,
        request_id=request.id,
        photo_label=asked.photo_label,
        slot=extra_slot(request.id) if asked.photo_label is not None else None,
        question=asked.question,
    )
    return request


async def send_message(ctx: InstallContext, who: Principal, install_id: uuid.UUID, text: str) -> InstallSnapshot:
    """The answer to the specialist's open question, by whoever started the install. The same answer again
    (a retry whose reply was lost) answers the install as it now is."""
    async with transaction():
        # Asked of its creator (review/info.py `asked_of`); the code predates the rule and stays, for the app.
        install = await creators_install(who, install_id, "message/not-creator")
        snap = await load_snapshot(install)
        latest = snap.info_requests[-1] if snap.info_requests else None
        if latest is not None and latest.answer == text and latest.answered_by == who.subject:
            return snap
        request = open_request(install, snap.info_requests)
        if request is None or request.question is None or request.answer is not None:
            raise Conflict("message/nothing-asked")
        now = ctx.clock()
        await repo.update_info_request(request.id, {"answer": text, "answered_by": who.subject, "answered_at": now})
        await save_install(ctx, who, install, now)  # a change of the install: its version moves
        await record_event(who, "info.answered", now, install, request_id=request.id, text=text)
        await settle(ctx, who, install.id, now)
    return await get_install(who, install_id)


async def settle(ctx: InstallContext, who: Principal, install_id: uuid.UUID, at: datetime) -> None:
    """In the caller's transaction, after something was given: once the open request has all it asked, the
    install goes back to the specialist (in_review, its reasons kept) and the request closes."""
    install = await repo.install_by_id(install_id)
    assert install is not None  # the caller just changed it
    snap = await load_snapshot(install)
    request = open_request(install, snap.info_requests)
    if request is None or not asks_anything(request) or missing(request, snap.photos, snap.checks):
        return
    await repo.close_info_requests(install.id, at)
    in_review = InstallState.IN_REVIEW.value
    await save_install(ctx, who, install, at, state=in_review, awaiting_info=False, customer_message=None)
    await record_event(who, "info.provided", at, install, to_state=in_review, request_id=request.id)
