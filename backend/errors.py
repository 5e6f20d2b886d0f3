"""The one error tree of the domain. Each error has an HTTP status, a stable code and a message.

Services raise only these; `backend.problems` turns them into RFC 9457 problem+json once.
Every code has a `title` (what kind of problem: the same for every occurrence) and a `detail` (this
occurrence, with `{param}` placeholders), each a msgid of the message catalogs (backend/i18n.py).
`VALIDATOR_TEXT` words what msgspec and Litestar refuse in a request (backend/problems.py reads their messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar, NamedTuple

from backend.i18n import N_, Worded, translate


class Message(NamedTuple):
    """A problem code's words: its stable title and its detail template, each a msgid."""

    title: str
    detail: str

    def title_in(self, lang: str) -> str:
        """The title in `lang`."""
        return translate(lang, self.title)

    def detail_in(self, lang: str, params: dict[str, Any]) -> str:
        """The detail of one occurrence in `lang`; a `Said` parameter is worded in it too."""
        worded = {k: _worded(v, lang) for k, v in params.items()}
        # Always formatted, so a literal brace ({{id}} in a msgid) reads as one even when nothing is filled in.
        return translate(lang, self.detail).format_map(_Unfilled(worded))


def _worded(value: Any, lang: str) -> Any:
    """A parameter as the detail says it: a `Said` or a `Worded` (a state, a role, a catalog label) in `lang`."""
    if isinstance(value, Said):
        return value.text(lang)
    return value.words(lang) if isinstance(value, Worded) else value


class _Unfilled(dict[str, Any]):
    """A placeholder without a parameter stays as it is written, as before a detail was always formatted."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Said(NamedTuple):
    """A parameter of a detail that is itself words: a VALIDATOR_TEXT key, worded in the answer's language."""

    key: str

    def text(self, lang: str) -> str:
        return translate(lang, VALIDATOR_TEXT[self.key])


MESSAGES: dict[str, Message] = {
    # request / transport
    "request/invalid": Message(
        title=N_("Invalid request"),
        detail=N_("The request is invalid: {detail}."),
    ),
    "request/server-owned-field": Message(
        title=N_("Server-owned field sent"),
        detail=N_("The field '{field}' is owned by the server and may not be sent."),
    ),
    "request/not-found": Message(
        title=N_("Not found"),
        detail=N_("This route does not exist."),
    ),
    "request/method-not-allowed": Message(
        title=N_("Method not allowed"),
        detail=N_("This method is not allowed here."),
    ),
    "request/unsupported-media-type": Message(
        title=N_("Unsupported content type"),
        detail=N_("This content type is not supported; use {accepted}."),
    ),
    "request/too-large": Message(
        title=N_("Request too large"),
        detail=N_("The request body is too large."),
    ),
    "request/rate-limited": Message(
        title=N_("Too many requests"),
        detail=N_("Too many requests; try again later."),
    ),
    "request/error": Message(
        title=N_("Request not processed"),
        detail=N_("The request could not be processed."),
    ),
    # hostile or broken input (backend/bounds.py, backend/http_guard.py)
    "request/id-out-of-range": Message(
        title=N_("Number out of range"),
        detail=N_("This number does not exist: numbers run from 1 to {max}."),
    ),
    "request/timestamp-out-of-range": Message(
        title=N_("Time out of range"),
        detail=N_("The time '{field}' lies outside the range {earliest} to {latest}."),
    ),
    "request/too-deeply-nested": Message(
        title=N_("JSON nested too deeply"),
        detail=N_("The request's JSON is nested too deeply."),
    ),
    "request/invalid-encoding": Message(
        title=N_("Invalid characters in the address"),
        detail=N_("The request's address contains invalid characters (not UTF-8, or a NUL character)."),
    ),
    "request/body-timeout": Message(
        title=N_("Request body timed out"),
        detail=N_("The request body did not arrive within {timeout_s} seconds; please send it again."),
    ),
    "service/busy": Message(
        title=N_("Service busy"),
        detail=N_("The service is busy. Try again in {retry_after_s} seconds; nothing was lost."),
    ),
    "service/database-unavailable": Message(
        title=N_("Data temporarily unavailable"),
        detail=N_("The service cannot reach its data right now. Try again in {retry_after_s} seconds."),
    ),
    "service/photo-store-unavailable": Message(
        title=N_("Photo storage temporarily unavailable"),
        detail=N_("The service cannot reach its photo storage right now. Try again in {retry_after_s} seconds."),
    ),
    "service/identity-provider-unavailable": Message(
        title=N_("Sign-in service temporarily unavailable"),
        detail=N_("The sign-in service cannot be reached right now. Try again in {retry_after_s} seconds."),
    ),
    # Idempotency-Key (backend/idempotency)
    "idempotency/invalid-key": Message(
        title=N_("Invalid Idempotency-Key"),
        detail=N_(
            "The Idempotency-Key header must be one value of 1 to {max_length} visible ASCII characters (a UUID, say)."
        ),
    ),
    "idempotency/key-reused": Message(
        title=N_("Idempotency-Key already used"),
        detail=N_(
            "This Idempotency-Key belongs to another request (another route or body); use a new key for a new request."
        ),
    ),
    "idempotency/in-flight": Message(
        title=N_("Request still in progress"),
        detail=N_(
            "A request with this Idempotency-Key is still being processed. "
            "Try again in {retry_after_s} seconds to get its answer."
        ),
    ),
    "auth/unauthenticated": Message(
        title=N_("Not signed in"),
        detail=N_("You are not signed in or your session has expired."),
    ),
    "auth/forbidden": Message(
        title=N_("Access denied"),
        detail=N_("You do not have access to this function."),
    ),
    "request/form-expired": Message(
        title=N_("Page expired"),
        detail=N_("This form has expired or was not sent from this site's own page: reload the page and try again."),
    ),
    "portal/signed-out": Message(
        title=N_("Not signed in to the portal"),
        detail=N_(
            "You are not signed in as a customer, or your session has expired. Sign in again to send your photo."
        ),
    ),
    # connections
    "connection/not-found": Message(
        title=N_("Connection not found"),
        detail=N_("This connection was not found."),
    ),
    "connection/invalid-ean": Message(
        title=N_("Invalid EAN code"),
        detail=N_("The EAN code '{ean}' is invalid: an EAN has 18 digits with a valid check digit."),
    ),
    "connection/claim-mismatch": Message(
        title=N_("Details match no connection"),
        detail=N_("The details do not match a connection. Check the EAN, postcode and house number."),
    ),
    "connection/claim-rate-limited": Message(
        title=N_("Too many failed attempts"),
        detail=N_("Too many failed attempts. Try again in {retry_after_s} seconds."),
    ),
    "connection/already-claimed": Message(
        title=N_("Connection already linked"),
        detail=N_("This connection is already linked to another customer. Please contact us."),
    ),
    # connections over their life: move-out, a disputed claim settled by an admin, search (issue 13)
    "connection/open-install": Message(
        title=N_("An install is still open"),
        detail=N_(
            "Install {install_id} on connection {ean} is still open ({state}). Cancel it first, or wait for its "
            "decision; then the connection can be released or handed over."
        ),
    ),
    "connection/owner-changed": Message(
        title=N_("Owner changed meanwhile"),
        detail=N_("The customer of connection {ean} changed meanwhile. Read the connection again and retry."),
    ),
    "connection/search-needs-postcode": Message(
        title=N_("Postcode needed"),
        detail=N_("A house number can only be searched together with a postcode."),
    ),
    "asset/state-conflict": Message(
        title=N_("Not possible in this state"),
        detail=N_("Asset '{serial}' is {state}; it cannot move to the state asked for."),
    ),
    "asset/in-use": Message(
        title=N_("Asset in use"),
        detail=N_("Asset '{serial}' belongs to an open install or job; finish or cancel that first."),
    ),
    # an approval that would place an asset where the registry cannot hold it (installs/placement.py)
    "asset/installed-elsewhere": Message(
        title=N_("Asset installed elsewhere"),
        detail=N_(
            "Asset '{serial}' is installed at another connection, so this install cannot be approved: an asset"
            " is at one connection only. Reject the install, or ask the customer for the asset really installed."
        ),
    ),
    "asset/retired": Message(
        title=N_("Asset retired"),
        detail=N_(
            "Asset '{serial}' is retired, so this install cannot be approved. Reject the install, or ask the"
            " customer for the asset really installed."
        ),
    ),
    "asset/connection-holds-one": Message(
        title=N_("Connection already has one"),
        detail=N_(
            "Connection {ean} already has {serials} installed, and holds one asset of this kind. If this"
            " install replaced it, an admin retires it first (POST /admin/v1/assets/{{serial}}/retire), then"
            " approve; otherwise reject the install or ask the customer."
        ),
    ),
    # installs
    "install/not-found": Message(
        title=N_("Install not found"),
        detail=N_("This install was not found."),
    ),
    "install/id-conflict": Message(
        title=N_("Install id already in use"),
        detail=N_("An install with this id already exists with different data."),
    ),
    "install/state-conflict": Message(
        title=N_("Not possible in this state"),
        detail=N_("This is not possible in the install's current state ({state})."),
    ),
    "install/self-install-not-allowed": Message(
        title=N_("Self-install not allowed"),
        detail=N_("A {role} may not self-install a {asset_type}."),
    ),
    "install/capacity-mismatch": Message(
        title=N_("Does not fit the connection"),
        detail=N_("A {asset_type} does not fit a connection of {capacity}."),
    ),
    "install/asset-type-unknown": Message(
        title=N_("Unknown asset type"),
        detail=N_("Unknown asset type: '{asset_type}'."),
    ),
    "install/installer-needs-job": Message(
        title=N_("An install starts from a job"),
        detail=N_("An installer starts an install from a job: POST /mobile/v1/jobs/{{id}}/install."),
    ),
    "install/not-creator": Message(
        title=N_("Not your install"),
        detail=N_("Only whoever started this install can carry it out, change or cancel it."),
    ),
    # QR labels
    "qr/malformed": Message(
        title=N_("Invalid label"),
        detail=N_("This is not one of our labels: the code is unreadable or mistyped."),
    ),
    "qr/unknown-key": Message(
        title=N_("Label signed with an unknown key"),
        detail=N_("This label is signed with an unknown key."),
    ),
    "qr/forged": Message(
        title=N_("Forged or damaged label"),
        detail=N_("The label's signature does not match: the label is forged or damaged."),
    ),
    "qr/unknown-asset": Message(
        title=N_("Unknown asset"),
        detail=N_("This label belongs to no known asset."),
    ),
    "qr/asset-installed-elsewhere": Message(
        title=N_("Asset installed elsewhere"),
        detail=N_("This asset ({serial}) is already installed on another connection."),
    ),
    "qr/asset-unavailable": Message(
        title=N_("Asset not available"),
        detail=N_("This asset ({serial}) is not available (status: {status})."),
    ),
    "qr/type-mismatch": Message(
        title=N_("Label of another asset type"),
        detail=N_("This label belongs to a {scanned_type}, but this install is for a {asset_type}."),
    ),
    "qr/not-allocated-asset": Message(
        title=N_("Not the allocated asset"),
        detail=N_(
            "This label belongs to another asset ({scanned_type}) than the one allocated to this job"
            " ({allocated_type}); scan the label of the allocated asset."
        ),
    ),
    "qr/asset-reserved": Message(
        title=N_("Asset reserved"),
        detail=N_("Asset '{serial}' is reserved for another install; scan the label of the asset meant for this one."),
    ),
    # photos
    "photo/slot-unknown": Message(
        title=N_("Unknown photo slot"),
        detail=N_("Unknown photo slot '{slot}' for this asset type."),
    ),
    "photo/not-asked": Message(
        title=N_("No photo asked"),
        detail=N_("No specialist asks for this photo now; the install's page says what is asked."),
    ),
    "photo/too-large": Message(
        title=N_("Photo too large"),
        detail=N_("The photo is too large (at most {limit_mb} MB)."),
    ),
    "photo/too-many-pixels": Message(
        title=N_("Photo has too many pixels"),
        detail=N_("The photo has too many pixels ({pixels}; at most {limit})."),
    ),
    "photo/unsupported-type": Message(
        title=N_("File type not supported"),
        detail=N_("This file type is not supported; send a JPEG, PNG or HEIC photo."),
    ),
    "photo/undecodable": Message(
        title=N_("Photo unreadable"),
        detail=N_("The photo cannot be read; the file is damaged. Please take the photo again."),
    ),
    "photo/empty": Message(
        title=N_("Empty photo"),
        detail=N_("The photo is empty."),
    ),
    "photo/incomplete-upload": Message(
        title=N_("Upload interrupted"),
        detail=N_("The upload was interrupted; please send the photo again."),
    ),
    # resumable uploads (backend/uploads: the IETF draft and tus)
    "upload/not-found": Message(
        title=N_("Upload not found"),
        detail=N_("This upload does not exist (any more); start sending the photo again."),
    ),
    "upload/offset-mismatch": Message(
        title=N_("Upload offset does not match"),
        detail=N_(
            "The server holds {expected} bytes of this upload; this request started at byte {provided}. "
            "Continue from byte {expected}."
        ),
    ),
    "upload/completed": Message(
        title=N_("Upload already completed"),
        detail=N_("This upload is complete already; nothing more can be added to it."),
    ),
    "upload/inconsistent-length": Message(
        title=N_("Inconsistent upload length"),
        detail=N_("An earlier request said this upload is {length} bytes long; this request does not fit that."),
    ),
    "upload/invalid-header": Message(
        title=N_("Invalid upload header"),
        detail=N_("The header '{header}' is missing or has an invalid value."),
    ),
    "upload/tus-version": Message(
        title=N_("tus version not supported"),
        detail=N_("Send 'Tus-Resumable: {version}': that is the tus version this server speaks."),
    ),
    # review
    "review/case-not-found": Message(
        title=N_("Case not found"),
        detail=N_("This case was not found."),
    ),
    "review/claimed-by-other": Message(
        title=N_("Case claimed by someone else"),
        detail=N_("This case is already claimed by {holder} (until {until})."),
    ),
    "review/not-lease-holder": Message(
        title=N_("Case not claimed by you"),
        detail=N_("You do not hold the claim on this case (any more); claim it first."),
    ),
    "review/stale-version": Message(
        title=N_("Case changed meanwhile"),
        detail=N_("This case changed meanwhile (version {current}); reload it."),
    ),
    "review/case-not-open": Message(
        title=N_("Case not open"),
        detail=N_("This case is not open for review (state: {state})."),
    ),
    "review/unknown-reason-code": Message(
        title=N_("Unknown reason code"),
        detail=N_("Unknown reason code '{reason_code}' for '{outcome}'; choose from: {allowed}."),
    ),
    "review/objection-needs-another-specialist": Message(
        title=N_("Another specialist required"),
        detail=N_("The customer objected to your rejection; another specialist decides on it."),
    ),
    "review/second-approver-required": Message(
        title=N_("Second specialist required"),
        detail=N_("This install needs approval by two different specialists; you approved already."),
    ),
    "review/no-asset": Message(
        title=N_("No asset scanned"),
        detail=N_("Approval needs a scanned asset."),
    ),
    "review/unknown-case-kind": Message(
        title=N_("Unknown kind of case"),
        detail=N_("Unknown kind of case '{kind}'; choose from: {allowed}."),
    ),
    "review/decision-not-for-followup": Message(
        title=N_("Follow-up takes a verdict"),
        detail=N_("A follow-up case ({kind}) takes a verdict, not a decision; use /verdict."),
    ),
    "review/verdict-not-for-escalation": Message(
        title=N_("Escalation takes a decision"),
        detail=N_("An escalation takes a decision, not a verdict; use /decision."),
    ),
    "review/unknown-verdict": Message(
        title=N_("Unknown verdict"),
        detail=N_("Unknown verdict '{verdict}' for a case of kind {kind}; choose from: {allowed}."),
    ),
    # quality: known answers and calibration
    "quality/known-answer-not-found": Message(
        title=N_("Known answer not found"),
        detail=N_("This known answer was not found."),
    ),
    "quality/not-a-known-answer": Message(
        title=N_("Cannot be a known answer"),
        detail=N_("Only a closed escalation decided by a specialist can be a known answer ({why})."),
    ),
    "quality/known-answer-exists": Message(
        title=N_("Already a known answer"),
        detail=N_("This case is already a known answer (number {known_answer_id})."),
    ),
    "quality/own-known-answer": Message(
        title=N_("Own case as known answer"),
        detail=N_("You decided this case yourself and cannot answer it as a known answer."),
    ),
    "quality/already-answered": Message(
        title=N_("Known answer already answered"),
        detail=N_("You have already answered this known answer."),
    ),
    # integrations: device reports
    "device-report/id-conflict": Message(
        title=N_("Report id already in use"),
        detail=N_("A device report with this report_id already exists with different data."),
    ),
    "device-report/not-found": Message(
        title=N_("Device report not found"),
        detail=N_("This device report was not found."),
    ),
    "device-report/reported-at-out-of-range": Message(
        title=N_("Report time outside the window"),
        detail=N_("The report's time is outside the accepted window ({earliest} to {latest})."),
    ),
    # admin
    "assets/invalid-batch": Message(
        title=N_("Batch rejected"),
        detail=N_("The batch was rejected; nothing was stored. Errors: {errors}"),
    ),
    "assets/not-found": Message(
        title=N_("Asset not found"),
        detail=N_("Asset '{serial}' was not found."),
    ),
    "assets/label-not-issued": Message(
        title=N_("No label issued"),
        detail=N_("Asset '{serial}' has no label issued with a configured key: issue one first."),
    ),
    # notifications
    "notifications/invalid-unsubscribe-token": Message(
        title=N_("Invalid unsubscribe link"),
        detail=N_(
            "This unsubscribe link is not valid; use the link in the latest message or change your choices in the app."
        ),
    ),
    "notifications/invalid-address-link": Message(
        title=N_("Invalid confirmation link"),
        detail=N_("This link to confirm an e-mail address is not valid; use the link in the latest message."),
    ),
    "notifications/address-link-expired": Message(
        title=N_("Confirmation link expired"),
        detail=N_("This link to confirm an e-mail address has expired; enter the address again in the app."),
    ),
    "notifications/address-link-superseded": Message(
        title=N_("Another address was entered since"),
        detail=N_("You entered another e-mail address after this one; use the link in the latest message."),
    ),
    "notifications/too-many-address-checks": Message(
        title=N_("Too many new addresses"),
        detail=N_("At most {limit} new e-mail addresses a day can be confirmed; try again tomorrow."),
    ),
    # jobs and dispatch
    "jobs/invalid": Message(
        title=N_("Job rejected"),
        detail=N_("The job was rejected; nothing was stored. Errors: {errors}"),
    ),
    "jobs/invalid-batch": Message(
        title=N_("Batch of jobs rejected"),
        detail=N_("The batch was rejected; nothing was stored. Errors: {errors}"),
    ),
    "job/not-found": Message(
        title=N_("Job not found"),
        detail=N_("This job was not found."),
    ),
    "job/state-conflict": Message(
        title=N_("Not possible in this state"),
        detail=N_("The job is {state}; this is not possible now."),
    ),
    "job/stale-version": Message(
        title=N_("Job changed meanwhile"),
        detail=N_("The job changed meanwhile (now version {version}); read it again, then retry."),
    ),
    "job/assignee-invalid": Message(
        title=N_("Assignment unclear"),
        detail=N_("Assign the job to exactly one: an installer (installer) or the customer themselves (self_install)."),
    ),
    # visits: a person comes by (backend/jobs/visits.py)
    "visit/not-found": Message(
        title=N_("No visit"),
        detail=N_("No visit was offered for this install."),
    ),
    "visit/already-offered": Message(
        title=N_("Visit already offered"),
        detail=N_("This install already has a visit under way; do not offer a second."),
    ),
    "visit/not-open": Message(
        title=N_("Visit no longer open to a pick"),
        detail=N_("The visit is {state}: no window can be picked any more. Want another time? Ask a person for help."),
    ),
    "visit/window-not-offered": Message(
        title=N_("Window not offered"),
        detail=N_("Pick one of the offered windows (window_start and window_end exactly as offered)."),
    ),
    "visit/window-passed": Message(
        title=N_("Window has begun"),
        detail=N_("This window has already begun; pick a later one."),
    ),
    "visit/windows-invalid": Message(
        title=N_("Windows invalid"),
        detail=N_("The visit was not offered; nothing was stored. Errors: {errors}"),
    ),
    "visit/no-windows": Message(
        title=N_("No windows"),
        detail=N_("The planning rule yields no window; give the windows yourself."),
    ),
    "visit/install-not-in-review": Message(
        title=N_("Install not in review"),
        detail=N_("A visit can only be offered on an install in review; this one is {state}."),
    ),
    "visit/not-a-customer-install": Message(
        title=N_("Not the customer's install"),
        detail=N_("A visit is for a customer who tried it themselves; this install is an installer's."),
    ),
    "visit/not-for-followup": Message(
        title=N_("No visit on a follow-up"),
        detail=N_("A visit belongs to an escalation, not to a follow-up ('{kind}')."),
    ),
    "visit/changed": Message(
        title=N_("Visit changed meanwhile"),
        detail=N_("The visit changed meanwhile; read it again, then retry."),
    ),
    # a request for information and its answers (backend/installs/conversation.py)
    "install/info-outstanding": Message(
        title=N_("The specialist awaits your answer"),
        detail=N_(
            "The specialist still awaits what they asked for (see the next actions); once everything is there, "
            "the install goes back to the specialist by itself."
        ),
    ),
    "install/unchanged-resubmit": Message(
        title=N_("Nothing changed"),
        detail=N_(
            "Nothing changed since the specialist asked for more information; change what was asked first, "
            "then submit again."
        ),
    ),
    "message/nothing-asked": Message(
        title=N_("No open question"),
        detail=N_("No question of a specialist awaits your answer. Want to reach a person? Ask for help."),
    ),
    "message/not-creator": Message(
        title=N_("Not your install"),
        detail=N_("Only whoever started this install can answer the specialist."),
    ),
    "review/ask-needs-request-info": Message(
        title=N_("Asking belongs to a request for information"),
        detail=N_(
            "An extra photo or a question to the customer goes only with the outcome request_info, not "
            "with '{outcome}'."
        ),
    ),
    # webhooks: subscriptions and deliveries (backend/events)
    "webhook/not-found": Message(
        title=N_("Webhook subscription not found"),
        detail=N_("This webhook subscription was not found."),
    ),
    "webhook/unknown-event-type": Message(
        title=N_("Unknown event type"),
        detail=N_("Unknown event type '{event_type}'; known are: {known}."),
    ),
    "webhook/url-not-allowed": Message(
        title=N_("Webhook address not allowed"),
        detail=N_(
            "Webhooks go only over https to a public address, not to '{url}' (this machine or an internal network)."
        ),
    ),
    "delivery/not-found": Message(
        title=N_("Delivery not found"),
        detail=N_("This delivery was not found."),
    ),
    "delivery/not-retryable": Message(
        title=N_("Delivery cannot be retried"),
        detail=N_("This delivery was delivered already or is being sent right now."),
    ),
}

# What a request's body or parameters got wrong, one sentence per refusal (backend/problems.py maps
# msgspec's and Litestar's English messages onto these kinds). `{subject}` names the field.
VALIDATOR_TEXT: dict[str, str] = {
    # what the project's own code refuses in a request as `request/invalid` (a `Said` detail)
    "invalid-cursor": N_("the cursor is invalid or expired; ask for the first page again"),
    "not-a-batch": N_("the body must be a JSON list"),
    "csv-not-utf8": N_("a CSV file must be UTF-8"),
    # the sentences, by kind (the `kind` of each item in a problem's `errors`)
    "wrong-type": N_("{subject} must be {expected}, not {got}"),
    "missing": N_("{subject} is required but missing"),
    "unknown-field": N_("{subject} is unknown and may not be sent"),
    "too-long": N_("{subject} is too long: at most {limit} {unit}"),
    "too-short": N_("{subject} is too short: at least {limit} {unit}"),
    "wrong-length": N_("{subject} has the wrong number of items"),
    "out-of-range": N_("{subject} must be {comparison} {limit}"),
    "out-of-range/unbounded": N_("{subject} is out of range"),
    "pattern": N_("{subject} does not have the required form"),
    "not-allowed": N_("{subject} has a value that is not allowed"),
    "datetime": N_("{subject} is not a valid time (RFC 3339, for example 2026-12-01T13:05:00+01:00)"),
    "timezone": N_("{subject} lacks a time zone (for example +01:00 or Z)"),
    "uuid": N_("{subject} is not a valid UUID"),
    "malformed-json": N_("{subject} is not valid JSON"),
    "malformed-json/at": N_("{subject} is not valid JSON (error at byte {byte})"),
    "invalid": N_("{subject} is invalid"),
    # what is refused: the request's body itself, or a named field or parameter
    "subject/whole-body": N_("the request body"),
    "subject/body": N_("the field '{field}'"),
    "subject/query": N_("the parameter '{field}'"),
    "subject/path": N_("the part '{field}' of the address"),
    "subject/header": N_("the header '{field}'"),
    "subject/cookie": N_("the cookie '{field}'"),
    # msgspec's type names
    "type/int": N_("an integer"),
    "type/float": N_("a number"),
    "type/str": N_("text"),
    "type/bool": N_("true or false"),
    "type/null": N_("null"),
    "type/array": N_("a list"),
    "type/object": N_("an object"),
    "type/bytes": N_("base64 text"),
    "type/uuid": N_("a UUID"),
    "type/datetime": N_("a time"),
    "type/date": N_("a date"),
    "type/time": N_("a time of day"),
    "type/duration": N_("a duration"),
    "type/decimal": N_("a decimal number"),
    "type/other": N_("a value of the right kind"),
    "type/or": N_(" or "),
    # bounds: `Expected int >= 1`, `of length <= 64`
    "comparison/>=": N_("at least"),
    "comparison/>": N_("greater than"),
    "comparison/<=": N_("at most"),
    "comparison/<": N_("less than"),
    "unit/str": N_("characters"),
    "unit/bytes": N_("bytes"),
    "unit/array": N_("items"),
    "unit/object": N_("fields"),
}


# What can be wrong with one line of a batch (a RowError's `kind`), and the line itself.
ROW_TEXT: dict[str, str] = {
    "line": N_("line {line}: {text}"),
    "broken-file": N_("the file is not readable CSV ({reason})"),
    "header": N_("the header must be '{header}'"),
    "field-count": N_("expected {expected} fields, got {count}"),
    "serial-form": N_("serial '{serial}' must be 3-39 upper-case letters, digits or '-'"),
    "unknown-asset-type": N_("unknown asset_type '{asset_type}'"),
    "repeated-serial": N_("serial {serial} repeats line {first}"),
    "known-as-other-type": N_("serial {serial} is already known as a {known}"),
    "batch-too-large": N_("a batch holds at most {limit} lines, this one {count}"),
    "empty-batch": N_("the batch holds no lines: nothing was done"),
    # a job of a dispatch batch
    "unknown-ean": N_("unknown connection (EAN) {ean}"),
    "capacity": N_("{asset_type} does not fit {capacity}"),
    "role-not-allowed": N_("{asset_type} may not be installed by a {role}"),
    "window-order": N_("window_end must be after window_start"),
    "no-such-local-time": N_("{time} does not exist on the clock (the hour skipped when summer time begins)"),
    "window-too-long": N_("a time window lasts at most {hours} hours"),
    "window-past": N_("the time window is over"),
    "window-too-far": N_("a time window starts at most {days} days ahead"),
    "assignee": N_("choose installer or self_install, not both"),
    "unknown-serial": N_("unknown serial {serial}"),
    "serial-other-type": N_("serial {serial} is a {known}"),
    "serial-not-in-stock": N_("serial {serial} is not in stock ({status})"),
    "serial-allocated": N_("serial {serial} is already allocated to job {job}"),
}
MAX_ROWS_IN_DETAIL = 5  # the detail names the first few; `errors` lists every one


@dataclass(frozen=True, slots=True)
class RowError:
    """One bad line of a batch (1-based; a CSV counts its header): a ROW_TEXT kind and its words, or
    the message of a validator (`validator`), worded where the problem is answered."""

    line: int
    kind: str
    field: str | None = None
    params: dict[str, Any] = dataclass_field(default_factory=dict)
    validator: str | None = None

    def text(self, lang: str) -> str:
        """The line's fault in `lang` (a validator's row is worded by backend/problems.py)."""
        said = translate(lang, ROW_TEXT[self.kind], **self.params)
        return translate(lang, ROW_TEXT["line"], line=self.line, text=said)


class DomainError(Exception):
    """An expected failure with a stable code; a 4xx, or a 503 for a bad day (`Unavailable`).
    `rows`: the bad lines of a batch, worded per language into the detail's `{errors}`."""

    status: ClassVar[int] = 422
    headers: ClassVar[dict[str, str]] = {}  # sent with the problem, whatever the request

    def __init__(
        self,
        code: str,
        /,
        *,
        extra: dict[str, Any] | None = None,
        rows: Sequence[RowError] = (),
        **params: Any,
    ) -> None:
        if code not in MESSAGES:
            raise KeyError(f"no message for error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params
        self.extra = extra or {}
        self.rows = tuple(rows)

    def message(self, lang: str) -> str:
        """What went wrong this time, in `lang`: the problem's detail."""
        params = self.params
        if self.rows:
            params = {**params, "errors": "; ".join(r.text(lang) for r in self.rows[:MAX_ROWS_IN_DETAIL])}
        return MESSAGES[self.code].detail_in(lang, params)


class Invalid(DomainError):
    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Forbidden(DomainError):
    status = 403


class TooLarge(DomainError):
    status = 413


def photo_limit_mb(limit_bytes: int) -> int:
    """A photo's size limit as photo/too-large says it: whole MB (MiB), rounded down. The one place it is
    computed: the API's upload, the resumable upload and the portal's page all say the same number."""
    return limit_bytes // (1024 * 1024)


class Unsupported(DomainError):
    status = 415


class TooManyRequests(DomainError):
    status = 429


class BadRequest(DomainError):
    status = 400


class RequestTimeout(DomainError):
    """The client stopped sending its body: 408, and the connection is closed."""

    status = 408
    headers = {"Connection": "close"}  # RFC 9110 15.5.9: the rest of the body will not be read


class Unavailable(DomainError):
    """A bad day, not the client's fault: answered 503 with Retry-After (pass `retry_after_s`)."""

    status = 503
