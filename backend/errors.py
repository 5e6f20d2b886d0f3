"""The one error tree of the domain. Each error has an HTTP status, a stable code and a message.

Services raise only these; `backend.problems` turns them into RFC 9457 problem+json once.
Every code has a `title` (what kind of problem: the same for every occurrence) and a `detail` (this
occurrence, with `{param}` placeholders), each a pair: Dutch first, English second. `VALIDATOR_TEXT`
words what msgspec and Litestar refuse in a request (backend/problems.py reads their messages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, ClassVar, NamedTuple


class Message(NamedTuple):
    """A problem code's words: its stable title and its detail template, each (Dutch, English)."""

    title: tuple[str, str]
    detail: tuple[str, str]

    def title_in(self, lang: str) -> str:
        """The title in `lang` ('nl' or 'en')."""
        return self.title[lang == "en"]

    def detail_in(self, lang: str, params: dict[str, Any]) -> str:
        """The detail of one occurrence in `lang` ('nl' or 'en'); a `Said` parameter is worded in it too."""
        worded = {k: v.text(lang) if isinstance(v, Said) else v for k, v in params.items()}
        return self.detail[lang == "en"].format(**worded)


class Said(NamedTuple):
    """A parameter of a detail that is itself words: a VALIDATOR_TEXT key, worded in the answer's language."""

    key: str

    def text(self, lang: str) -> str:
        return VALIDATOR_TEXT[self.key][lang == "en"]


MESSAGES: dict[str, Message] = {
    # request / transport
    "request/invalid": Message(
        title=("Ongeldig verzoek", "Invalid request"),
        detail=("Het verzoek is ongeldig: {detail}.", "The request is invalid: {detail}."),
    ),
    "request/server-owned-field": Message(
        title=("Veld van de server meegestuurd", "Server-owned field sent"),
        detail=(
            "Het veld '{field}' wordt door de server bepaald en mag niet worden meegestuurd.",
            "The field '{field}' is owned by the server and may not be sent.",
        ),
    ),
    "request/not-found": Message(
        title=("Niet gevonden", "Not found"),
        detail=("Deze pagina of route bestaat niet.", "This route does not exist."),
    ),
    "request/method-not-allowed": Message(
        title=("Methode niet toegestaan", "Method not allowed"),
        detail=("Deze methode is hier niet toegestaan.", "This method is not allowed here."),
    ),
    "request/unsupported-media-type": Message(
        title=("Inhoudstype niet ondersteund", "Unsupported content type"),
        detail=(
            "Dit inhoudstype wordt niet ondersteund; gebruik {accepted}.",
            "This content type is not supported; use {accepted}.",
        ),
    ),
    "request/too-large": Message(
        title=("Verzoek te groot", "Request too large"),
        detail=("Het verzoek is te groot.", "The request body is too large."),
    ),
    "request/rate-limited": Message(
        title=("Te veel verzoeken", "Too many requests"),
        detail=("Te veel verzoeken; probeer het later opnieuw.", "Too many requests; try again later."),
    ),
    "request/error": Message(
        title=("Verzoek niet verwerkt", "Request not processed"),
        detail=("Het verzoek kon niet worden verwerkt.", "The request could not be processed."),
    ),
    # hostile or broken input (backend/bounds.py, backend/http_guard.py)
    "request/id-out-of-range": Message(
        title=("Nummer buiten bereik", "Number out of range"),
        detail=(
            "Dit nummer bestaat niet: nummers lopen van 1 tot en met {max}.",
            "This number does not exist: numbers run from 1 to {max}.",
        ),
    ),
    "request/timestamp-out-of-range": Message(
        title=("Tijdstip buiten bereik", "Time out of range"),
        detail=(
            "Het tijdstip '{field}' ligt buiten het bereik {earliest} tot {latest}.",
            "The time '{field}' lies outside the range {earliest} to {latest}.",
        ),
    ),
    "request/too-deeply-nested": Message(
        title=("JSON te diep genest", "JSON nested too deeply"),
        detail=("De JSON in het verzoek is te diep genest.", "The request's JSON is nested too deeply."),
    ),
    "request/invalid-encoding": Message(
        title=("Ongeldige tekens in het adres", "Invalid characters in the address"),
        detail=(
            "Het adres van het verzoek bevat ongeldige tekens (geen UTF-8, of een NUL-teken).",
            "The request's address contains invalid characters (not UTF-8, or a NUL character).",
        ),
    ),
    "request/body-timeout": Message(
        title=("Inhoud niet op tijd ontvangen", "Request body timed out"),
        detail=(
            "De inhoud van het verzoek kwam niet binnen {timeout_s} seconden binnen; stuur het opnieuw.",
            "The request body did not arrive within {timeout_s} seconds; please send it again.",
        ),
    ),
    "service/busy": Message(
        title=("Dienst tijdelijk te druk", "Service busy"),
        detail=(
            "De dienst is even te druk. Probeer het over {retry_after_s} seconden opnieuw; er is niets verloren.",
            "The service is busy. Try again in {retry_after_s} seconds; nothing was lost.",
        ),
    ),
    "service/database-unavailable": Message(
        title=("Gegevens tijdelijk onbereikbaar", "Data temporarily unavailable"),
        detail=(
            "De dienst kan de gegevens nu niet bereiken. Probeer het over {retry_after_s} seconden opnieuw.",
            "The service cannot reach its data right now. Try again in {retry_after_s} seconds.",
        ),
    ),
    "service/photo-store-unavailable": Message(
        title=("Foto-opslag tijdelijk onbereikbaar", "Photo storage temporarily unavailable"),
        detail=(
            "De dienst kan de foto-opslag nu niet bereiken. Probeer het over {retry_after_s} seconden opnieuw.",
            "The service cannot reach its photo storage right now. Try again in {retry_after_s} seconds.",
        ),
    ),
    "service/identity-provider-unavailable": Message(
        title=("Aanmelddienst tijdelijk onbereikbaar", "Sign-in service temporarily unavailable"),
        detail=(
            "De aanmelddienst is nu niet bereikbaar. Probeer het over {retry_after_s} seconden opnieuw.",
            "The sign-in service cannot be reached right now. Try again in {retry_after_s} seconds.",
        ),
    ),
    # Idempotency-Key (backend/idempotency)
    "idempotency/invalid-key": Message(
        title=("Ongeldige Idempotency-Key", "Invalid Idempotency-Key"),
        detail=(
            "De header Idempotency-Key moet één waarde van 1 tot {max_length} zichtbare ASCII-tekens zijn "
            "(bijvoorbeeld een UUID).",
            "The Idempotency-Key header must be one value of 1 to {max_length} visible ASCII characters (a UUID, say).",
        ),
    ),
    "idempotency/key-reused": Message(
        title=("Idempotency-Key al gebruikt", "Idempotency-Key already used"),
        detail=(
            "Deze Idempotency-Key hoort bij een ander verzoek (een andere route of inhoud); "
            "gebruik voor een nieuw verzoek een nieuwe sleutel.",
            "This Idempotency-Key belongs to another request (another route or body); use a new key for a new request.",
        ),
    ),
    "idempotency/in-flight": Message(
        title=("Verzoek wordt nog verwerkt", "Request still in progress"),
        detail=(
            "Een verzoek met deze Idempotency-Key wordt nog verwerkt. "
            "Probeer het over {retry_after_s} seconden opnieuw; dan krijgt u zijn antwoord.",
            "A request with this Idempotency-Key is still being processed. "
            "Try again in {retry_after_s} seconds to get its answer.",
        ),
    ),
    "auth/unauthenticated": Message(
        title=("Niet aangemeld", "Not signed in"),
        detail=(
            "U bent niet aangemeld of uw sessie is verlopen.",
            "You are not signed in or your session has expired.",
        ),
    ),
    "auth/forbidden": Message(
        title=("Geen toegang", "Access denied"),
        detail=("U heeft geen toegang tot deze functie.", "You do not have access to this function."),
    ),
    # connections
    "connection/not-found": Message(
        title=("Aansluiting niet gevonden", "Connection not found"),
        detail=("Deze aansluiting is niet gevonden.", "This connection was not found."),
    ),
    "connection/invalid-ean": Message(
        title=("Ongeldige EAN-code", "Invalid EAN code"),
        detail=(
            "De EAN-code '{ean}' is ongeldig: een EAN bestaat uit 18 cijfers met een geldig controlecijfer.",
            "The EAN code '{ean}' is invalid: an EAN has 18 digits with a valid check digit.",
        ),
    ),
    "connection/claim-mismatch": Message(
        title=("Gegevens passen bij geen aansluiting", "Details match no connection"),
        detail=(
            "De gegevens komen niet overeen met een aansluiting. Controleer EAN, postcode en huisnummer.",
            "The details do not match a connection. Check the EAN, postcode and house number.",
        ),
    ),
    "connection/claim-rate-limited": Message(
        title=("Te veel mislukte pogingen", "Too many failed attempts"),
        detail=(
            "Te veel mislukte pogingen. Probeer het over {retry_after_s} seconden opnieuw.",
            "Too many failed attempts. Try again in {retry_after_s} seconds.",
        ),
    ),
    "connection/already-claimed": Message(
        title=("Aansluiting al gekoppeld", "Connection already linked"),
        detail=(
            "Deze aansluiting is al gekoppeld aan een andere klant. Neem contact met ons op.",
            "This connection is already linked to another customer. Please contact us.",
        ),
    ),
    # connections over their life: move-out, a disputed claim settled by an admin, search (issue 13)
    "connection/open-install": Message(
        title=("Er loopt nog een installatie", "An install is still open"),
        detail=(
            "Op aansluiting {ean} loopt nog installatie {install_id} ({state}). Annuleer die eerst, of wacht op het "
            "besluit; daarna kan de aansluiting worden vrijgegeven of overgedragen.",
            "Install {install_id} on connection {ean} is still open ({state}). Cancel it first, or wait for its "
            "decision; then the connection can be released or handed over.",
        ),
    ),
    "connection/owner-changed": Message(
        title=("Eigenaar intussen gewijzigd", "Owner changed meanwhile"),
        detail=(
            "De klant van aansluiting {ean} is intussen gewijzigd. Lees de aansluiting opnieuw en probeer het "
            "nog eens.",
            "The customer of connection {ean} changed meanwhile. Read the connection again and retry.",
        ),
    ),
    "connection/search-needs-postcode": Message(
        title=("Postcode nodig", "Postcode needed"),
        detail=(
            "Zoeken op huisnummer kan alleen samen met een postcode.",
            "A house number can only be searched together with a postcode.",
        ),
    ),
    "asset/state-conflict": Message(
        title=("Niet mogelijk in deze status", "Not possible in this state"),
        detail=(
            "Apparaat '{serial}' is {state}; dat kan niet naar de gevraagde status.",
            "Asset '{serial}' is {state}; it cannot move to the state asked for.",
        ),
    ),
    "asset/in-use": Message(
        title=("Apparaat in gebruik", "Asset in use"),
        detail=(
            "Apparaat '{serial}' hoort bij een lopende installatie of opdracht; rond die eerst af of annuleer die.",
            "Asset '{serial}' belongs to an open install or job; finish or cancel that first.",
        ),
    ),
    # installs
    "install/not-found": Message(
        title=("Installatie niet gevonden", "Install not found"),
        detail=("Deze installatie is niet gevonden.", "This install was not found."),
    ),
    "install/id-conflict": Message(
        title=("Installatie-id al in gebruik", "Install id already in use"),
        detail=(
            "Er bestaat al een installatie met dit id, met andere gegevens.",
            "An install with this id already exists with different data.",
        ),
    ),
    "install/state-conflict": Message(
        title=("Niet mogelijk in deze status", "Not possible in this state"),
        detail=(
            "Dit kan niet in de huidige status ({state}) van de installatie.",
            "This is not possible in the install's current state ({state}).",
        ),
    ),
    "install/self-install-not-allowed": Message(
        title=("Zelf installeren niet toegestaan", "Self-install not allowed"),
        detail=(
            "Een {role} mag een {asset_type} niet zelf installeren.",
            "A {role} may not self-install a {asset_type}.",
        ),
    ),
    "install/capacity-mismatch": Message(
        title=("Past niet bij de aansluiting", "Does not fit the connection"),
        detail=(
            "Een {asset_type} past niet bij een aansluiting van {capacity}.",
            "A {asset_type} does not fit a connection of {capacity}.",
        ),
    ),
    "install/asset-type-unknown": Message(
        title=("Onbekend type installatie", "Unknown asset type"),
        detail=("Onbekend type installatie: '{asset_type}'.", "Unknown asset type: '{asset_type}'."),
    ),
    "install/installer-needs-job": Message(
        title=("Installatie begint bij een opdracht", "An install starts from a job"),
        detail=(
            "Een installateur begint een installatie vanuit een opdracht: POST /mobile/v1/jobs/{{id}}/install.",
            "An installer starts an install from a job: POST /mobile/v1/jobs/{{id}}/install.",
        ),
    ),
    "install/not-creator": Message(
        title=("Niet uw installatie", "Not your install"),
        detail=(
            "Alleen wie deze installatie begon, kan hem annuleren.",
            "Only whoever started this install can cancel it.",
        ),
    ),
    # QR labels
    "qr/malformed": Message(
        title=("Ongeldig label", "Invalid label"),
        detail=(
            "Dit is geen geldig label van ons: de code is onleesbaar of verkeerd overgetypt.",
            "This is not one of our labels: the code is unreadable or mistyped.",
        ),
    ),
    "qr/unknown-key": Message(
        title=("Label met onbekende sleutel", "Label signed with an unknown key"),
        detail=("Dit label is ondertekend met een onbekende sleutel.", "This label is signed with an unknown key."),
    ),
    "qr/forged": Message(
        title=("Vervalst of beschadigd label", "Forged or damaged label"),
        detail=(
            "De handtekening van dit label klopt niet: het label is vervalst of beschadigd.",
            "The label's signature does not match: the label is forged or damaged.",
        ),
    ),
    "qr/unknown-asset": Message(
        title=("Onbekend apparaat", "Unknown asset"),
        detail=("Dit label hoort bij geen bekend apparaat.", "This label belongs to no known asset."),
    ),
    "qr/asset-installed-elsewhere": Message(
        title=("Apparaat elders geïnstalleerd", "Asset installed elsewhere"),
        detail=(
            "Dit apparaat ({serial}) is al op een andere aansluiting geïnstalleerd.",
            "This asset ({serial}) is already installed on another connection.",
        ),
    ),
    "qr/asset-unavailable": Message(
        title=("Apparaat niet beschikbaar", "Asset not available"),
        detail=(
            "Dit apparaat ({serial}) is niet beschikbaar (status: {status}).",
            "This asset ({serial}) is not available (status: {status}).",
        ),
    ),
    "qr/type-mismatch": Message(
        title=("Label van een ander soort apparaat", "Label of another asset type"),
        detail=(
            "Dit label hoort bij een {scanned_type}, maar deze installatie is voor een {asset_type}.",
            "This label belongs to a {scanned_type}, but this install is for a {asset_type}.",
        ),
    ),
    "qr/not-allocated-asset": Message(
        title=("Niet het gereserveerde apparaat", "Not the allocated asset"),
        detail=(
            "Dit label hoort bij een ander apparaat ({scanned_type}) dan het apparaat dat voor deze opdracht is"
            " gereserveerd ({allocated_type}); scan het label van het gereserveerde apparaat.",
            "This label belongs to another asset ({scanned_type}) than the one allocated to this job"
            " ({allocated_type}); scan the label of the allocated asset.",
        ),
    ),
    "qr/asset-reserved": Message(
        title=("Apparaat is gereserveerd", "Asset reserved"),
        detail=(
            "Apparaat '{serial}' is gereserveerd voor een andere installatie; scan het label van het apparaat"
            " dat voor deze installatie bedoeld is.",
            "Asset '{serial}' is reserved for another install; scan the label of the asset meant for this one.",
        ),
    ),
    # photos
    "photo/slot-unknown": Message(
        title=("Onbekende fotoplek", "Unknown photo slot"),
        detail=(
            "Onbekende fotoplek '{slot}' voor dit type installatie.",
            "Unknown photo slot '{slot}' for this asset type.",
        ),
    ),
    "photo/too-large": Message(
        title=("Foto te groot", "Photo too large"),
        detail=("De foto is te groot (maximaal {limit_mb} MB).", "The photo is too large (at most {limit_mb} MB)."),
    ),
    "photo/too-many-pixels": Message(
        title=("Foto heeft te veel pixels", "Photo has too many pixels"),
        detail=(
            "De foto heeft te veel pixels ({pixels}; maximaal {limit}).",
            "The photo has too many pixels ({pixels}; at most {limit}).",
        ),
    ),
    "photo/unsupported-type": Message(
        title=("Bestandstype niet ondersteund", "File type not supported"),
        detail=(
            "Dit bestandstype wordt niet ondersteund; stuur een JPEG-, PNG- of HEIC-foto.",
            "This file type is not supported; send a JPEG, PNG or HEIC photo.",
        ),
    ),
    "photo/undecodable": Message(
        title=("Foto onleesbaar", "Photo unreadable"),
        detail=(
            "De foto kan niet worden gelezen; het bestand is beschadigd. Maak de foto opnieuw.",
            "The photo cannot be read; the file is damaged. Please take the photo again.",
        ),
    ),
    "photo/empty": Message(
        title=("Lege foto", "Empty photo"),
        detail=("De foto is leeg.", "The photo is empty."),
    ),
    "photo/incomplete-upload": Message(
        title=("Upload onderbroken", "Upload interrupted"),
        detail=(
            "De upload is onderbroken; stuur de foto opnieuw.",
            "The upload was interrupted; please send the photo again.",
        ),
    ),
    # resumable uploads (backend/uploads: the IETF draft and tus)
    "upload/not-found": Message(
        title=("Upload niet gevonden", "Upload not found"),
        detail=(
            "Deze upload bestaat niet (meer); begin de foto opnieuw te versturen.",
            "This upload does not exist (any more); start sending the photo again.",
        ),
    ),
    "upload/offset-mismatch": Message(
        title=("Upload op een andere plek", "Upload offset does not match"),
        detail=(
            "De server heeft {expected} bytes van deze upload; dit verzoek begon bij byte {provided}. "
            "Ga verder vanaf byte {expected}.",
            "The server holds {expected} bytes of this upload; this request started at byte {provided}. "
            "Continue from byte {expected}.",
        ),
    ),
    "upload/completed": Message(
        title=("Upload al voltooid", "Upload already completed"),
        detail=(
            "Deze upload is al voltooid; er kan niets meer aan worden toegevoegd.",
            "This upload is complete already; nothing more can be added to it.",
        ),
    ),
    "upload/inconsistent-length": Message(
        title=("Lengte van de upload klopt niet", "Inconsistent upload length"),
        detail=(
            "De upload is {length} bytes lang volgens een eerder verzoek; dit verzoek past daar niet bij.",
            "An earlier request said this upload is {length} bytes long; this request does not fit that.",
        ),
    ),
    "upload/invalid-header": Message(
        title=("Ongeldige uploadkop", "Invalid upload header"),
        detail=(
            "De kop '{header}' ontbreekt of heeft een ongeldige waarde.",
            "The header '{header}' is missing or has an invalid value.",
        ),
    ),
    "upload/tus-version": Message(
        title=("tus-versie niet ondersteund", "tus version not supported"),
        detail=(
            "Stuur 'Tus-Resumable: {version}': dat is de tus-versie die deze server spreekt.",
            "Send 'Tus-Resumable: {version}': that is the tus version this server speaks.",
        ),
    ),
    # review
    "review/case-not-found": Message(
        title=("Zaak niet gevonden", "Case not found"),
        detail=("Deze zaak is niet gevonden.", "This case was not found."),
    ),
    "review/claimed-by-other": Message(
        title=("Zaak door een ander geclaimd", "Case claimed by someone else"),
        detail=(
            "Deze zaak is al geclaimd door {holder} (tot {until}).",
            "This case is already claimed by {holder} (until {until}).",
        ),
    ),
    "review/not-lease-holder": Message(
        title=("Zaak niet door u geclaimd", "Case not claimed by you"),
        detail=(
            "U heeft deze zaak niet (meer) geclaimd; claim hem eerst.",
            "You do not hold the claim on this case (any more); claim it first.",
        ),
    ),
    "review/stale-version": Message(
        title=("Zaak intussen gewijzigd", "Case changed meanwhile"),
        detail=(
            "Deze zaak is intussen gewijzigd (versie {current}); laad hem opnieuw.",
            "This case changed meanwhile (version {current}); reload it.",
        ),
    ),
    "review/case-not-open": Message(
        title=("Zaak staat niet open", "Case not open"),
        detail=(
            "Deze zaak staat niet open voor beoordeling (status: {state}).",
            "This case is not open for review (state: {state}).",
        ),
    ),
    "review/unknown-reason-code": Message(
        title=("Onbekende redencode", "Unknown reason code"),
        detail=(
            "Onbekende redencode '{reason_code}' voor '{outcome}'; kies uit: {allowed}.",
            "Unknown reason code '{reason_code}' for '{outcome}'; choose from: {allowed}.",
        ),
    ),
    "review/objection-needs-another-specialist": Message(
        title=("Andere specialist nodig", "Another specialist required"),
        detail=(
            "De klant maakte bezwaar tegen uw afkeuring; een andere specialist beslist hierover.",
            "The customer objected to your rejection; another specialist decides on it.",
        ),
    ),
    "review/second-approver-required": Message(
        title=("Tweede specialist nodig", "Second specialist required"),
        detail=(
            "Deze installatie vraagt goedkeuring door twee verschillende specialisten; u keurde al goed.",
            "This install needs approval by two different specialists; you approved already.",
        ),
    ),
    "review/no-asset": Message(
        title=("Geen apparaat gescand", "No asset scanned"),
        detail=("Goedkeuren kan pas als er een apparaat is gescand.", "Approval needs a scanned asset."),
    ),
    "review/unknown-case-kind": Message(
        title=("Onbekend soort zaak", "Unknown kind of case"),
        detail=(
            "Onbekend soort zaak '{kind}'; kies uit: {allowed}.",
            "Unknown kind of case '{kind}'; choose from: {allowed}.",
        ),
    ),
    "review/decision-not-for-followup": Message(
        title=("Vervolgzaak krijgt een oordeel", "Follow-up takes a verdict"),
        detail=(
            "Een vervolgzaak ({kind}) krijgt een oordeel, geen besluit; gebruik /verdict.",
            "A follow-up case ({kind}) takes a verdict, not a decision; use /verdict.",
        ),
    ),
    "review/verdict-not-for-escalation": Message(
        title=("Escalatie krijgt een besluit", "Escalation takes a decision"),
        detail=(
            "Een escalatie krijgt een besluit, geen oordeel; gebruik /decision.",
            "An escalation takes a decision, not a verdict; use /decision.",
        ),
    ),
    "review/unknown-verdict": Message(
        title=("Onbekend oordeel", "Unknown verdict"),
        detail=(
            "Onbekend oordeel '{verdict}' voor een zaak van soort {kind}; kies uit: {allowed}.",
            "Unknown verdict '{verdict}' for a case of kind {kind}; choose from: {allowed}.",
        ),
    ),
    # quality: known answers and calibration
    "quality/known-answer-not-found": Message(
        title=("IJkgeval niet gevonden", "Known answer not found"),
        detail=("Dit ijkgeval is niet gevonden.", "This known answer was not found."),
    ),
    "quality/not-a-known-answer": Message(
        title=("Kan geen ijkgeval worden", "Cannot be a known answer"),
        detail=(
            "Alleen een afgesloten escalatie met een besluit van een specialist kan een ijkgeval worden ({why}).",
            "Only a closed escalation decided by a specialist can be a known answer ({why}).",
        ),
    ),
    "quality/known-answer-exists": Message(
        title=("Al een ijkgeval", "Already a known answer"),
        detail=(
            "Deze zaak is al een ijkgeval (nummer {known_answer_id}).",
            "This case is already a known answer (number {known_answer_id}).",
        ),
    ),
    "quality/own-known-answer": Message(
        title=("Eigen zaak als ijkgeval", "Own case as known answer"),
        detail=(
            "U heeft deze zaak zelf beoordeeld en kunt hem niet als ijkgeval beantwoorden.",
            "You decided this case yourself and cannot answer it as a known answer.",
        ),
    ),
    "quality/already-answered": Message(
        title=("IJkgeval al beantwoord", "Known answer already answered"),
        detail=("U heeft dit ijkgeval al beantwoord.", "You have already answered this known answer."),
    ),
    # integrations: device reports
    "device-report/id-conflict": Message(
        title=("Meldings-id al in gebruik", "Report id already in use"),
        detail=(
            "Er bestaat al een apparaatmelding met dit report_id, met andere gegevens.",
            "A device report with this report_id already exists with different data.",
        ),
    ),
    "device-report/not-found": Message(
        title=("Apparaatmelding niet gevonden", "Device report not found"),
        detail=("Deze apparaatmelding is niet gevonden.", "This device report was not found."),
    ),
    "device-report/reported-at-out-of-range": Message(
        title=("Meldingstijd buiten het venster", "Report time outside the window"),
        detail=(
            "Het tijdstip van de melding ligt buiten het toegestane venster ({earliest} tot {latest}).",
            "The report's time is outside the accepted window ({earliest} to {latest}).",
        ),
    ),
    # admin
    "assets/invalid-batch": Message(
        title=("Batch geweigerd", "Batch rejected"),
        detail=(
            "De batch is geweigerd; er is niets opgeslagen. Fouten: {errors}",
            "The batch was rejected; nothing was stored. Errors: {errors}",
        ),
    ),
    "assets/not-found": Message(
        title=("Apparaat niet gevonden", "Asset not found"),
        detail=("Apparaat '{serial}' is niet gevonden.", "Asset '{serial}' was not found."),
    ),
    # jobs and dispatch
    "jobs/invalid": Message(
        title=("Opdracht geweigerd", "Job rejected"),
        detail=(
            "De opdracht is geweigerd; er is niets opgeslagen. Fouten: {errors}",
            "The job was rejected; nothing was stored. Errors: {errors}",
        ),
    ),
    "jobs/invalid-batch": Message(
        title=("Batch opdrachten geweigerd", "Batch of jobs rejected"),
        detail=(
            "De batch is geweigerd; er is niets opgeslagen. Fouten: {errors}",
            "The batch was rejected; nothing was stored. Errors: {errors}",
        ),
    ),
    "job/not-found": Message(
        title=("Opdracht niet gevonden", "Job not found"),
        detail=("Deze opdracht is niet gevonden.", "This job was not found."),
    ),
    "job/state-conflict": Message(
        title=("Kan niet in deze toestand", "Not possible in this state"),
        detail=(
            "De opdracht is '{state}'; dat kan nu niet.",
            "The job is '{state}'; this is not possible now.",
        ),
    ),
    "job/stale-version": Message(
        title=("Opdracht intussen gewijzigd", "Job changed meanwhile"),
        detail=(
            "De opdracht is intussen gewijzigd (nu versie {version}); lees hem opnieuw en probeer het dan nog eens.",
            "The job changed meanwhile (now version {version}); read it again, then retry.",
        ),
    ),
    "job/assignee-invalid": Message(
        title=("Toewijzing onduidelijk", "Assignment unclear"),
        detail=(
            "Wijs de opdracht toe aan precies één: een installateur (installer) of de klant zelf (self_install).",
            "Assign the job to exactly one: an installer (installer) or the customer themselves (self_install).",
        ),
    ),
    # visits: a person comes by (backend/jobs/visits.py)
    "visit/not-found": Message(
        title=("Geen bezoek", "No visit"),
        detail=("Voor deze installatie is geen bezoek aangeboden.", "No visit was offered for this install."),
    ),
    "visit/already-offered": Message(
        title=("Bezoek al aangeboden", "Visit already offered"),
        detail=(
            "Voor deze installatie loopt al een bezoek; bied geen tweede aan.",
            "This install already has a visit under way; do not offer a second.",
        ),
    ),
    "visit/not-open": Message(
        title=("Bezoek niet meer te kiezen", "Visit no longer open to a pick"),
        detail=(
            "Het bezoek is '{state}': er valt geen tijdvak meer te kiezen. Wilt u een ander moment? Vraag hulp "
            "van een medewerker.",
            "The visit is '{state}': no window can be picked any more. Want another time? Ask a person for help.",
        ),
    ),
    "visit/window-not-offered": Message(
        title=("Tijdvak niet aangeboden", "Window not offered"),
        detail=(
            "Kies een van de aangeboden tijdvakken (window_start en window_end precies zoals aangeboden).",
            "Pick one of the offered windows (window_start and window_end exactly as offered).",
        ),
    ),
    "visit/window-passed": Message(
        title=("Tijdvak begonnen", "Window has begun"),
        detail=(
            "Dit tijdvak is al begonnen; kies een later tijdvak.",
            "This window has already begun; pick a later one.",
        ),
    ),
    "visit/windows-invalid": Message(
        title=("Tijdvakken ongeldig", "Windows invalid"),
        detail=(
            "Het bezoek is niet aangeboden; er is niets opgeslagen. Fouten: {errors}",
            "The visit was not offered; nothing was stored. Errors: {errors}",
        ),
    ),
    "visit/no-windows": Message(
        title=("Geen tijdvakken", "No windows"),
        detail=(
            "De planningsregel levert geen tijdvak op; geef de tijdvakken zelf op.",
            "The planning rule yields no window; give the windows yourself.",
        ),
    ),
    "visit/install-not-in-review": Message(
        title=("Installatie niet in behandeling", "Install not in review"),
        detail=(
            "Een bezoek kan alleen bij een installatie in behandeling; deze is '{state}'.",
            "A visit can only be offered on an install in review; this one is '{state}'.",
        ),
    ),
    "visit/not-a-customer-install": Message(
        title=("Geen installatie van de klant", "Not the customer's install"),
        detail=(
            "Een bezoek is er voor de klant die het zelf probeerde; deze installatie is van een installateur.",
            "A visit is for a customer who tried it themselves; this install is an installer's.",
        ),
    ),
    "visit/not-for-followup": Message(
        title=("Geen bezoek bij een vervolgzaak", "No visit on a follow-up"),
        detail=(
            "Een bezoek hoort bij een escalatie, niet bij een vervolgzaak ('{kind}').",
            "A visit belongs to an escalation, not to a follow-up ('{kind}').",
        ),
    ),
    "visit/changed": Message(
        title=("Bezoek intussen gewijzigd", "Visit changed meanwhile"),
        detail=(
            "Het bezoek is intussen gewijzigd; lees het opnieuw en probeer het dan nog eens.",
            "The visit changed meanwhile; read it again, then retry.",
        ),
    ),
    # a request for information and its answers (backend/installs/conversation.py)
    "install/info-outstanding": Message(
        title=("Specialist wacht op uw antwoord", "The specialist awaits your answer"),
        detail=(
            "De specialist wacht nog op wat er gevraagd is (zie de volgende stappen); zodra alles er is, gaat de "
            "installatie vanzelf terug naar de specialist.",
            "The specialist still awaits what they asked for (see the next actions); once everything is there, "
            "the install goes back to the specialist by itself.",
        ),
    ),
    "install/unchanged-resubmit": Message(
        title=("Niets veranderd", "Nothing changed"),
        detail=(
            "Er is niets veranderd sinds de specialist om meer informatie vroeg; pas eerst aan wat gevraagd is "
            "en verstuur dan opnieuw.",
            "Nothing changed since the specialist asked for more information; change what was asked first, "
            "then submit again.",
        ),
    ),
    "message/nothing-asked": Message(
        title=("Geen open vraag", "No open question"),
        detail=(
            "Er staat geen vraag van een specialist voor u open. Wilt u iemand spreken? Vraag dan om hulp.",
            "No question of a specialist awaits your answer. Want to reach a person? Ask for help.",
        ),
    ),
    "message/not-creator": Message(
        title=("Niet uw installatie", "Not your install"),
        detail=(
            "Alleen wie deze installatie begon, kan de specialist antwoorden.",
            "Only whoever started this install can answer the specialist.",
        ),
    ),
    "review/ask-needs-request-info": Message(
        title=("Vraag hoort bij informatie vragen", "Asking belongs to a request for information"),
        detail=(
            "Een extra foto of een vraag aan de klant kan alleen bij het besluit 'informatie vragen' "
            "(request_info), niet bij '{outcome}'.",
            "An extra photo or a question to the customer goes only with the outcome request_info, not "
            "with '{outcome}'.",
        ),
    ),
    # webhooks: subscriptions and deliveries (backend/events)
    "webhook/not-found": Message(
        title=("Webhook-abonnement niet gevonden", "Webhook subscription not found"),
        detail=("Dit webhook-abonnement is niet gevonden.", "This webhook subscription was not found."),
    ),
    "webhook/unknown-event-type": Message(
        title=("Onbekend soort gebeurtenis", "Unknown event type"),
        detail=(
            "Onbekend soort gebeurtenis '{event_type}'; bekend zijn: {known}.",
            "Unknown event type '{event_type}'; known are: {known}.",
        ),
    ),
    "delivery/not-found": Message(
        title=("Aflevering niet gevonden", "Delivery not found"),
        detail=("Deze aflevering is niet gevonden.", "This delivery was not found."),
    ),
    "delivery/not-retryable": Message(
        title=("Aflevering niet opnieuw te proberen", "Delivery cannot be retried"),
        detail=(
            "Deze aflevering is al afgeleverd of wordt nu verstuurd.",
            "This delivery was delivered already or is being sent right now.",
        ),
    ),
}

# What a request's body or parameters got wrong, one sentence per refusal (backend/problems.py maps
# msgspec's and Litestar's English messages onto these kinds). `{subject}` names the field.
VALIDATOR_TEXT: dict[str, tuple[str, str]] = {
    # what the project's own code refuses in a request as `request/invalid` (a `Said` detail)
    "invalid-cursor": (
        "de cursor is ongeldig of verlopen; vraag de eerste pagina opnieuw op",
        "the cursor is invalid or expired; ask for the first page again",
    ),
    "not-a-batch": ("de inhoud moet een JSON-lijst zijn", "the body must be a JSON list"),
    "csv-not-utf8": ("een CSV-bestand moet UTF-8 zijn", "a CSV file must be UTF-8"),
    # the sentences, by kind (the `kind` of each item in a problem's `errors`)
    "wrong-type": ("{subject} moet {expected} zijn, niet {got}", "{subject} must be {expected}, not {got}"),
    "missing": ("{subject} is verplicht maar ontbreekt", "{subject} is required but missing"),
    "unknown-field": (
        "{subject} is onbekend en mag niet worden meegestuurd",
        "{subject} is unknown and may not be sent",
    ),
    "too-long": ("{subject} is te lang: hoogstens {limit} {unit}", "{subject} is too long: at most {limit} {unit}"),
    "too-short": ("{subject} is te kort: minstens {limit} {unit}", "{subject} is too short: at least {limit} {unit}"),
    "wrong-length": ("{subject} heeft het verkeerde aantal elementen", "{subject} has the wrong number of items"),
    "out-of-range": ("{subject} moet {comparison} {limit} zijn", "{subject} must be {comparison} {limit}"),
    "out-of-range/unbounded": ("{subject} ligt buiten het toegestane bereik", "{subject} is out of range"),
    "pattern": ("{subject} heeft niet de vereiste vorm", "{subject} does not have the required form"),
    "not-allowed": ("{subject} heeft een waarde die niet is toegestaan", "{subject} has a value that is not allowed"),
    "datetime": (
        "{subject} is geen geldig tijdstip (RFC 3339, bijvoorbeeld 2026-12-01T13:05:00+01:00)",
        "{subject} is not a valid time (RFC 3339, for example 2026-12-01T13:05:00+01:00)",
    ),
    "timezone": (
        "{subject} mist een tijdzone (bijvoorbeeld +01:00 of Z)",
        "{subject} lacks a time zone (for example +01:00 or Z)",
    ),
    "uuid": ("{subject} is geen geldige UUID", "{subject} is not a valid UUID"),
    "malformed-json": ("{subject} is geen geldige JSON", "{subject} is not valid JSON"),
    "malformed-json/at": (
        "{subject} is geen geldige JSON (fout bij byte {byte})",
        "{subject} is not valid JSON (error at byte {byte})",
    ),
    "invalid": ("{subject} is ongeldig", "{subject} is invalid"),
    # what is refused: the request's body itself, or a named field or parameter
    "subject/whole-body": ("de inhoud van het verzoek", "the request body"),
    "subject/body": ("het veld '{field}'", "the field '{field}'"),
    "subject/query": ("de parameter '{field}'", "the parameter '{field}'"),
    "subject/path": ("het deel '{field}' van het adres", "the part '{field}' of the address"),
    "subject/header": ("de header '{field}'", "the header '{field}'"),
    "subject/cookie": ("de cookie '{field}'", "the cookie '{field}'"),
    # msgspec's type names
    "type/int": ("een geheel getal", "an integer"),
    "type/float": ("een getal", "a number"),
    "type/str": ("tekst", "text"),
    "type/bool": ("true of false", "true or false"),
    "type/null": ("null", "null"),
    "type/array": ("een lijst", "a list"),
    "type/object": ("een object", "an object"),
    "type/bytes": ("base64-tekst", "base64 text"),
    "type/uuid": ("een UUID", "a UUID"),
    "type/datetime": ("een tijdstip", "a time"),
    "type/date": ("een datum", "a date"),
    "type/time": ("een tijd van de dag", "a time of day"),
    "type/duration": ("een tijdsduur", "a duration"),
    "type/decimal": ("een decimaal getal", "a decimal number"),
    "type/other": ("een waarde van het juiste soort", "a value of the right kind"),
    "type/or": (" of ", " or "),
    # bounds: `Expected int >= 1`, `of length <= 64`
    "comparison/>=": ("minstens", "at least"),
    "comparison/>": ("groter dan", "greater than"),
    "comparison/<=": ("hoogstens", "at most"),
    "comparison/<": ("kleiner dan", "less than"),
    "unit/str": ("tekens", "characters"),
    "unit/bytes": ("bytes", "bytes"),
    "unit/array": ("elementen", "items"),
    "unit/object": ("velden", "fields"),
}


# What can be wrong with one line of a batch (a RowError's `kind`), and the line itself.
ROW_TEXT: dict[str, tuple[str, str]] = {
    "line": ("regel {line}: {text}", "line {line}: {text}"),
    "broken-file": ("het bestand is geen leesbare CSV ({reason})", "the file is not readable CSV ({reason})"),
    "header": ("de kopregel moet '{header}' zijn", "the header must be '{header}'"),
    "field-count": ("{expected} velden verwacht, {count} gevonden", "expected {expected} fields, got {count}"),
    "serial-form": (
        "serienummer '{serial}' moet 3 tot 39 hoofdletters, cijfers of '-' zijn",
        "serial '{serial}' must be 3-39 upper-case letters, digits or '-'",
    ),
    "unknown-asset-type": ("onbekend asset_type '{asset_type}'", "unknown asset_type '{asset_type}'"),
    "repeated-serial": (
        "serienummer {serial} staat ook op regel {first}",
        "serial {serial} repeats line {first}",
    ),
    "known-as-other-type": (
        "serienummer {serial} is al bekend als {known}",
        "serial {serial} is already known as a {known}",
    ),
    "batch-too-large": (
        "een batch bevat hoogstens {limit} regels, deze {count}",
        "a batch holds at most {limit} lines, this one {count}",
    ),
    # a job of a dispatch batch
    "unknown-ean": ("onbekende aansluiting (EAN) {ean}", "unknown connection (EAN) {ean}"),
    "capacity": ("{asset_type} past niet op een aansluiting van {capacity}", "{asset_type} does not fit {capacity}"),
    "role-not-allowed": (
        "{asset_type} mag niet door een {role} worden geïnstalleerd",
        "{asset_type} may not be installed by a {role}",
    ),
    "window-order": ("window_end moet na window_start liggen", "window_end must be after window_start"),
    "window-too-long": ("een tijdvak duurt hoogstens {hours} uur", "a time window lasts at most {hours} hours"),
    "window-past": ("het tijdvak is al voorbij", "the time window is over"),
    "window-too-far": (
        "een tijdvak begint hoogstens {days} dagen vooruit",
        "a time window starts at most {days} days ahead",
    ),
    "assignee": (
        "kies installer of self_install, niet allebei",
        "choose installer or self_install, not both",
    ),
    "unknown-serial": ("onbekend serienummer {serial}", "unknown serial {serial}"),
    "serial-other-type": ("serienummer {serial} is een {known}", "serial {serial} is a {known}"),
    "serial-not-in-stock": (
        "serienummer {serial} is niet op voorraad ({status})",
        "serial {serial} is not in stock ({status})",
    ),
    "serial-allocated": (
        "serienummer {serial} is al gereserveerd voor opdracht {job}",
        "serial {serial} is already allocated to job {job}",
    ),
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
        said = ROW_TEXT[self.kind][lang == "en"].format(**self.params)
        return ROW_TEXT["line"][lang == "en"].format(line=self.line, text=said)


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
        """What went wrong this time, in `lang` ('nl' or 'en'): the problem's detail."""
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
