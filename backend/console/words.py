"""The console's own words, as msgids of the message catalogs: flash messages after an action, kinds of case and
verdicts, roles, states; worded in the reader's language by the templates (`_`) and backend/console/said.py."""

from __future__ import annotations

from backend.i18n import N_
from backend.principal import Role
from backend.words import ASSET_STATUS_WORDS as ASSET_STATUS_WORDS
from backend.words import CASE_STATE_TEXT as CASE_STATE_TEXT
from backend.words import INSTALL_STATE_TEXT as INSTALL_STATE_TEXT
from backend.words import JOB_STATE_WORDS as JOB_STATE_WORDS
from backend.words import ROLE_TEXT as ROLE_TEXT
from backend.words import VISIT_STATE_WORDS as VISIT_STATE_WORDS

FLASH = {
    "claimed": ("info", N_("You claimed the case.")),
    "released": ("info", N_("The case went back to the queue.")),
    "decided": ("info", N_("The decision is recorded.")),
    "first_approval": ("info", N_("First approval recorded; a second specialist still has to approve.")),
    "verdict": ("info", N_("The verdict is recorded; the install itself did not change.")),
    "visit_offered": ("info", N_("The visit is offered; the customer picks a window. The case waits for the visit.")),
}
KIND_WORDS = {
    "escalation": N_("escalation"),
    "qa_sample": N_("sample of an automatic approval"),
    "device_silent": N_("device does not report in"),
    "device_mismatch": N_("device differs"),
    "reading_mismatch": N_("reading differs"),
    "customer_help": N_("customer asks for a person"),
}
VERDICT_WORDS = {
    "agree": N_("Agree with the automation"),
    "disagree": N_("Disagree with the automation"),
    "resolved": N_("Resolved"),
    "escalate": N_("Pass on (field service)"),
    "answered": N_("Customer helped"),
}
# Someone else acted first: say so plainly; the page below shows the current state, nothing was overwritten.
_STALE = (
    "error",
    N_("Someone else changed or decided this case meanwhile. Your change is not saved; the current state is below."),
)
FLASH.update({code: _STALE for code in ("review/stale-version", "review/case-not-open", "review/not-lease-holder")})
# A case-page form the request Struct refuses (the API's 400): nothing of it is saved.
FORM_REFUSED = N_(
    "Nothing is saved: a field of this form cannot be taken as typed (too long, a line break where one line is"
    " asked, a control character, an unknown choice, or a time half filled or not on the clock). Check the form"
    " and send it again."
)
ROLE_WORDS = {Role.SPECIALIST: N_("specialists"), Role.ADMIN: N_("administrators")}
ASSIGNEE_WORDS = {"installer": N_("installer"), "customer": N_("the customer themselves")}
FIELD_WORDS = {
    "ean": N_("EAN"),
    "asset_type": N_("type"),
    "window_start": N_("window start"),
    "window_end": N_("window end"),
    "installer": N_("installer"),
    "self_install": N_("the customer themselves"),
    "serial": N_("serial"),
    "version": N_("version"),
    "reason": N_("reason"),
}
FLASH.update(
    {
        "job_created": ("info", N_("The job is created.")),
        "jobs_imported": ("info", N_("Every line of the file is created as a job.")),
        "job_assigned": ("info", N_("The job is assigned.")),
        "job_cancelled": ("info", N_("The job is cancelled; an allocated device is free again.")),
    }
)
OUTCOME_WORDS = {"approved": N_("approved"), "needs_retake": N_("retake requested"), "in_review": N_("to a specialist")}
WAITING_WORDS = {"1h": N_("longer than 1 hour"), "4h": N_("longer than 4 hours"), "24h": N_("longer than 24 hours")}
DEVICE_REPORT_WORDS = {
    "confirmed": N_("confirmed"),
    "auto_approved": N_("approved on the report"),
    "already_confirmed": N_("already confirmed"),
    "noted": N_("kept (no decision yet)"),
    "device_mismatch": N_("device elsewhere"),
    "reading_mismatch": N_("reading differs"),
    "unmatched": N_("unknown"),
}
INSTALLER_WORDS = {"customer": N_("the customer themselves"), "installer": N_("installer")}
POLICY_SECTION_WORDS = {
    "photo": N_("Photos"),
    "freshness": N_("Freshness"),
    "reuse": N_("Reuse of photos"),
    "location": N_("Location"),
    "decision": N_("Decision"),
    "device": N_("Device reports"),
    "quality": N_("Quality"),
}
FLASH.update({"delivery_retried": ("info", N_("The delivery is sent again shortly."))})
# A search field that cannot match anything as typed: said instead of searching.
SEARCH_WORDS = {
    "serial": N_("A serial is 3-39 capital letters, digits or '-'."),
    "ean": N_("An EAN is 18 digits."),
    "postcode": N_("A postcode is 4 digits and 2 letters."),
    "house_number": N_("A house number is a number, and searches only with a postcode."),
    "owner": N_("A customer is a name of at most 128 characters."),
    "key_id": N_("A key is 1-8 capital letters or digits."),
}
EVENT_WORDS = {
    "install.approved": N_("install approved"),
    "install.escalated": N_("install to a specialist"),
    "install.rejected": N_("install rejected"),
    "install.retake_requested": N_("retake requested"),
    "install.cancelled": N_("install withdrawn"),
    "install.confirmed": N_("confirmed by the device"),
    "install.info_requested": N_("information requested"),
    "install.visit_offered": N_("visit offered"),
    "install.visit_planned": N_("visit planned"),
    "install.visit_cancelled": N_("visit called off"),
    "review.decided": N_("decided by a specialist"),
    "review.first_approval": N_("first approval"),
    "review.verdict": N_("verdict on a follow-up"),
    "job.created": N_("job created"),
    "job.assigned": N_("job assigned"),
    "job.started": N_("job started"),
    "job.done": N_("job done"),
    "job.cancelled": N_("job cancelled"),
}
DELIVERY_STATE_WORDS = {"failing": N_("failed, being retried"), "dead": N_("given up")}
# Codes in words from the message catalogs (msgids; the templates word them with `_`, in the reader's
# language): templates reach them as `codes.<kind>` (backend/console/language.py), so no code is on a screen.
CHECK_TEXT = {
    "slot_present": N_("photo present"),
    "label_qr": N_("QR label"),
    "resolution": N_("resolution"),
    "sharpness": N_("sharpness"),
    "content": N_("content"),
    "exposure": N_("exposure"),
    "capture_time": N_("capture time"),
    "exif_location": N_("location in the photo"),
    "reuse": N_("photo reused"),
    "distinct_slots": N_("a photo per step"),
    "location": N_("location"),
    "location_time": N_("time of the location"),
    "asset": N_("device"),
    "reading": N_("meter reading"),
    "device_report": N_("the device's own report"),
}
DECISION_OUTCOME_TEXT = {**INSTALL_STATE_TEXT, "first_approval": N_("first approval")}
ACTION_TEXT = {  # an install's history: what happened
    "install.created": N_("install started"),
    "label.scanned": N_("label scanned"),
    "photo.uploaded": N_("photo uploaded"),
    "location.reported": N_("location shared"),
    "reading.entered": N_("reading entered"),
    "install.submitted": N_("submitted"),
    "help.requested": N_("help requested"),
    "decision.objected": N_("objection to the decision"),
    "info.requested": N_("information requested"),
    "info.answered": N_("question answered"),
    "info.provided": N_("everything asked for is in"),
    "review.claimed": N_("case claimed"),
    "review.released": N_("case released"),
    "review.decided": N_("decided by a specialist"),
    "review.first-approval": N_("first approval"),
    "review.followup-claimed": N_("follow-up claimed"),
    "review.verdict": N_("verdict on a follow-up"),
    "visit.offered": N_("visit offered"),
    "visit.planned": N_("visit planned"),
    "visit.cancelled": N_("visit called off"),
    "visit.lapsed": N_("visit lapsed: no window picked"),
    "install.cancelled": N_("withdrawn"),
    "install.device-approved": N_("approved on the device's report"),
    "install.confirmed": N_("confirmed by the device"),
}
CHECK_STATUS_TEXT = {"pass": N_("passed"), "fail": N_("failed"), "uncertain": N_("uncertain")}
