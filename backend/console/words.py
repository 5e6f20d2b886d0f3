"""The console's own Dutch words: flash messages after an action, kinds of case and verdicts, roles."""

from __future__ import annotations

from backend.i18n import N_
from backend.principal import Role

FLASH = {
    "claimed": ("info", "U heeft de zaak geclaimd."),
    "released": ("info", "De zaak is teruggegeven aan de wachtrij."),
    "decided": ("info", "Het besluit is vastgelegd."),
    "first_approval": ("info", "Eerste goedkeuring vastgelegd; een tweede specialist moet nog goedkeuren."),
    "verdict": ("info", "Het oordeel is vastgelegd; de installatie zelf is niet veranderd."),
    "visit_offered": ("info", "Het bezoek is aangeboden; de klant kiest een tijdvak. De zaak wacht op het bezoek."),
}
VISIT_STATE_WORDS = {"offered": "aangeboden", "planned": "gepland", "done": "geweest", "cancelled": "gaat niet door"}
KIND_WORDS = {
    "escalation": "escalatie",
    "qa_sample": "steekproef van een automatische goedkeuring",
    "device_silent": "apparaat meldt zich niet",
    "device_mismatch": "apparaat wijkt af",
    "reading_mismatch": "meterstand wijkt af",
    "customer_help": "klant vraagt om een medewerker",
}
VERDICT_WORDS = {
    "agree": "Eens met de automaat",
    "disagree": "Oneens met de automaat",
    "resolved": "Opgelost",
    "escalate": "Doorzetten (buitendienst)",
    "answered": "Klant geholpen",
}
# Someone else acted first: say so plainly; the page below shows the current state, nothing was overwritten.
_STALE = (
    "error",
    "Iemand anders heeft deze zaak intussen gewijzigd of besloten. Uw wijziging is niet opgeslagen; "
    "hieronder staat de actuele stand.",
)
FLASH.update({code: _STALE for code in ("review/stale-version", "review/case-not-open", "review/not-lease-holder")})
ROLE_WORDS = {Role.SPECIALIST: "specialisten", Role.ADMIN: "beheerders"}
JOB_STATE_WORDS = {
    "planned": "gepland",
    "assigned": "toegewezen",
    "in_progress": "bezig",
    "done": "klaar",
    "cancelled": "geannuleerd",
}
ASSIGNEE_WORDS = {"installer": "installateur", "customer": "klant zelf"}
FIELD_WORDS = {
    "ean": "EAN",
    "asset_type": "type",
    "window_start": "begin venster",
    "window_end": "einde venster",
    "installer": "installateur",
    "self_install": "klant zelf",
    "serial": "serienummer",
    "version": "versie",
    "reason": "reden",
}
FLASH.update(
    {
        "job_created": ("info", "De opdracht is aangemaakt."),
        "jobs_imported": ("info", "Alle regels van het bestand zijn als opdracht aangemaakt."),
        "job_assigned": ("info", "De opdracht is toegewezen."),
        "job_cancelled": ("info", "De opdracht is geannuleerd; een gereserveerd apparaat is weer vrij."),
    }
)
# The operators' words for what the figures count (the customer's are in installs/snapshot.REASON_TEXT).
REASON_WORDS = {
    "suspected_fraud": "vermoeden van fraude",
    "human_requested": "klant vroeg om een medewerker",
    "approval_required": "goedkeuring vereist",
    "specialist_knowledge": "specialistische kennis nodig",
    "complexity": "lukte niet na herkansingen",
    "uncertain": "controle niet zeker",
}
OUTCOME_WORDS = {"approved": "goedgekeurd", "needs_retake": "herkansing gevraagd", "in_review": "naar een specialist"}
WAITING_WORDS = {"1h": "langer dan 1 uur", "4h": "langer dan 4 uur", "24h": "langer dan 24 uur"}
DEVICE_REPORT_WORDS = {
    "confirmed": "bevestigd",
    "auto_approved": "goedgekeurd op de melding",
    "already_confirmed": "al bevestigd",
    "noted": "bewaard (nog geen besluit)",
    "device_mismatch": "apparaat elders",
    "reading_mismatch": "meterstand wijkt af",
    "unmatched": "onbekend",
}
INSTALLER_WORDS = {"customer": "klant zelf", "installer": "installateur"}
POLICY_SECTION_WORDS = {
    "photo": "Foto's",
    "freshness": "Actualiteit",
    "reuse": "Hergebruik van foto's",
    "location": "Locatie",
    "decision": "Besluit",
    "device": "Apparaatmeldingen",
    "quality": "Kwaliteit",
}
ASSET_STATUS_WORDS = {"in_stock": "op voorraad", "installed": "geïnstalleerd", "retired": "buiten gebruik"}
FLASH.update({"delivery_retried": ("info", "De aflevering wordt zo opnieuw verstuurd.")})
# A search field that cannot match anything as typed: said instead of searching.
SEARCH_WORDS = {
    "serial": "Een serienummer is 3-39 hoofdletters, cijfers of '-'.",
    "ean": "Een EAN is 18 cijfers.",
    "postcode": "Een postcode is 4 cijfers en 2 letters.",
    "house_number": "Een huisnummer is een getal, en zoekt alleen met een postcode.",
    "owner": "Een klant is een naam van hoogstens 128 tekens.",
    "key_id": "Een sleutel is 1-8 hoofdletters of cijfers.",
}
EVENT_WORDS = {
    "install.approved": "installatie goedgekeurd",
    "install.escalated": "installatie naar een specialist",
    "install.rejected": "installatie afgekeurd",
    "install.retake_requested": "herkansing gevraagd",
    "install.cancelled": "installatie ingetrokken",
    "install.confirmed": "bevestigd door het apparaat",
    "install.info_requested": "informatie gevraagd",
    "install.visit_offered": "bezoek aangeboden",
    "install.visit_planned": "bezoek gepland",
    "install.visit_cancelled": "bezoek vervallen",
    "review.decided": "besluit van een specialist",
    "review.first_approval": "eerste goedkeuring",
    "review.verdict": "oordeel over een vervolgzaak",
    "job.created": "opdracht aangemaakt",
    "job.assigned": "opdracht toegewezen",
    "job.started": "opdracht begonnen",
    "job.done": "opdracht klaar",
    "job.cancelled": "opdracht geannuleerd",
}
DELIVERY_STATE_WORDS = {"failing": "mislukt, wordt opnieuw geprobeerd", "dead": "opgegeven"}
# Codes in words from the message catalogs (msgids; the templates word them with `_`, in the reader's
# language): templates reach them as `codes.<kind>` (backend/console/language.py), so no code is on a screen.
CASE_STATE_TEXT = {"open": N_("open"), "waiting_customer": N_("waiting for the customer"), "closed": N_("closed")}
INSTALL_STATE_TEXT = {
    "draft": N_("in progress"),
    "needs_retake": N_("retake needed"),
    "in_review": N_("in review"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "cancelled": N_("withdrawn"),
}
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
    "install.cancelled": N_("withdrawn"),
    "install.device-approved": N_("approved on the device's report"),
    "install.confirmed": N_("confirmed by the device"),
}
ROLE_TEXT = {
    "customer": N_("customer"),
    "installer": N_("installer"),
    "specialist": N_("specialist"),
    "admin": N_("administrator"),
    "system": N_("system"),
}
CHECK_STATUS_TEXT = {"pass": N_("passed"), "fail": N_("failed"), "uncertain": N_("uncertain")}
