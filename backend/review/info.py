"""A specialist's request for information: what is asked is recorded with the install (installs.conversation)
and announced in the decision's transaction, so notifications and other systems hear of it."""

from __future__ import annotations

from datetime import datetime

from backend.events.outbox import enqueue
from backend.events.repository import install_facts
from backend.installs.asked import extra_slot
from backend.installs.context import InstallContext
from backend.installs.conversation import Ask, ask
from backend.installs.records import InstallRec
from backend.notifications.flows import tell_asked
from backend.principal import Principal, Role


async def info_requested(
    ctx: InstallContext,
    who: Principal,
    install: InstallRec,
    case_id: int,
    reason_code: str,
    asked: Ask,
    message: str | None,
    now: datetime,
) -> None:
    """Record what is asked and announce it (`install.info_requested`: notifications tell the customer)."""
    request = await ask(who, install, asked, message, now)
    facts = await install_facts(install.id)
    await enqueue(
        "install.info_requested",
        {
            "install_id": str(install.id),
            "ean": facts.ean,
            "customer_ref": facts.customer_subject,  # by reference only, as every install event
            "case_id": case_id,
            "request_id": request.id,
            "asset_type": install.asset_type,
            "asked_of": install.created_by,  # who answers: the install's customer or installer
            "asked_of_role": install.created_by_role,
            "reason_code": reason_code,
            # The specialist's message and question are free text to the customer (they may quote them):
            # no message leaves in an event (README "Webhooks"); receivers learn that a question was asked.
            "photo_label": asked.photo_label,
            "photo_slot": extra_slot(request.id) if asked.photo_label is not None else None,
            "question_asked": asked.question is not None,
            "at": now.isoformat(),
        },
        now,
        ctx.settings.webhook_urls,
    )
    if install.created_by_role == Role.CUSTOMER.value:  # an installer's own install: the installer answers
        await tell_asked(install, request.id, reason_code, asked, message, now)
