"""States and roles in words (msgids of the message catalogs), for everything a person reads: the console's
pages, and a problem's detail that names a state or a role (`stated`) in the reader's language, not as its code."""

from __future__ import annotations

from collections.abc import Mapping

from backend.i18n import N_, Msg

INSTALL_STATE_TEXT = {
    "draft": N_("in progress"),
    "needs_retake": N_("retake needed"),
    "in_review": N_("in review"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "cancelled": N_("withdrawn"),
}
CASE_STATE_TEXT = {"open": N_("open"), "waiting_customer": N_("waiting for the customer"), "closed": N_("closed")}
ASSET_STATUS_WORDS = {"in_stock": N_("in stock"), "installed": N_("installed"), "retired": N_("retired")}
JOB_STATE_WORDS = {
    "planned": N_("planned"),
    "assigned": N_("assigned"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
}
VISIT_STATE_WORDS = {
    "offered": N_("offered"),
    "planned": N_("planned"),
    "done": N_("taken place"),
    "cancelled": N_("called off"),
}
ROLE_TEXT = {
    "customer": N_("customer"),
    "installer": N_("installer"),
    "specialist": N_("specialist"),
    "admin": N_("administrator"),
    "system": N_("system"),
}


def stated(words: Mapping[str, str], code: str) -> Msg | str:
    """A state's or a role's code as a problem's parameter: its words, worded where the reader is known; a
    code without words stays as it is (nothing is lost, where a new state has no words yet)."""
    return Msg(words[code]) if code in words else code
