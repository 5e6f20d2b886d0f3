"""The one error tree of the domain. Each error has an HTTP status, a stable code and a message.

Services raise only these; `backend.problems` turns them into RFC 9457 problem+json once.
Messages live in `MESSAGES` (Dutch first, English second) and may use `{param}` placeholders.
"""

from __future__ import annotations

from typing import Any, ClassVar

MESSAGES: dict[str, tuple[str, str]] = {
    # request / transport
    "request/invalid": ("Het verzoek is ongeldig: {detail}", "The request is invalid: {detail}"),
    "request/server-owned-field": (
        "Het veld '{field}' wordt door de server bepaald en mag niet worden meegestuurd.",
        "The field '{field}' is owned by the server and may not be sent.",
    ),
    "request/not-found": ("Deze pagina of route bestaat niet.", "This route does not exist."),
    "request/method-not-allowed": ("Deze methode is hier niet toegestaan.", "This method is not allowed here."),
    "request/unsupported-media-type": (
        "Dit inhoudstype wordt niet ondersteund; gebruik {accepted}.",
        "This content type is not supported; use {accepted}.",
    ),
    "request/too-large": ("Het verzoek is te groot.", "The request body is too large."),
    "request/rate-limited": ("Te veel verzoeken; probeer het later opnieuw.", "Too many requests; try again later."),
    "request/error": ("Het verzoek kon niet worden verwerkt.", "The request could not be processed."),
    # hostile or broken input (backend/bounds.py, backend/http_guard.py)
    "request/id-out-of-range": (
        "Dit nummer bestaat niet: nummers lopen van 1 tot en met {max}.",
        "This number does not exist: numbers run from 1 to {max}.",
    ),
    "request/timestamp-out-of-range": (
        "Het tijdstip '{field}' ligt buiten het bereik {earliest} tot {latest}.",
        "The time '{field}' lies outside the range {earliest} to {latest}.",
    ),
    "request/too-deeply-nested": (
        "De JSON in het verzoek is te diep genest.",
        "The request's JSON is nested too deeply.",
    ),
    "request/invalid-encoding": (
        "Het adres van het verzoek bevat ongeldige tekens (geen UTF-8, of een NUL-teken).",
        "The request's address contains invalid characters (not UTF-8, or a NUL character).",
    ),
    "request/body-timeout": (
        "De inhoud van het verzoek kwam niet binnen {timeout_s} seconden binnen; stuur het opnieuw.",
        "The request body did not arrive within {timeout_s} seconds; please send it again.",
    ),
    "service/busy": (
        "De dienst is even te druk. Probeer het over {retry_after_s} seconden opnieuw; er is niets verloren.",
        "The service is busy. Try again in {retry_after_s} seconds; nothing was lost.",
    ),
    "service/database-unavailable": (
        "De dienst kan de gegevens nu niet bereiken. Probeer het over {retry_after_s} seconden opnieuw.",
        "The service cannot reach its data right now. Try again in {retry_after_s} seconds.",
    ),
    "service/photo-store-unavailable": (
        "De dienst kan de foto-opslag nu niet bereiken. Probeer het over {retry_after_s} seconden opnieuw.",
        "The service cannot reach its photo storage right now. Try again in {retry_after_s} seconds.",
    ),
    "service/identity-provider-unavailable": (
        "De aanmelddienst is nu niet bereikbaar. Probeer het over {retry_after_s} seconden opnieuw.",
        "The sign-in service cannot be reached right now. Try again in {retry_after_s} seconds.",
    ),
    "auth/unauthenticated": (
        "U bent niet aangemeld of uw sessie is verlopen.",
        "You are not signed in or your session has expired.",
    ),
    "auth/forbidden": ("U heeft geen toegang tot deze functie.", "You do not have access to this function."),
    # connections
    "connection/not-found": ("Deze aansluiting is niet gevonden.", "This connection was not found."),
    "connection/invalid-ean": (
        "De EAN-code '{ean}' is ongeldig: een EAN bestaat uit 18 cijfers met een geldig controlecijfer.",
        "The EAN code '{ean}' is invalid: an EAN has 18 digits with a valid check digit.",
    ),
    "connection/claim-mismatch": (
        "De gegevens komen niet overeen met een aansluiting. Controleer EAN, postcode en huisnummer.",
        "The details do not match a connection. Check the EAN, postcode and house number.",
    ),
    "connection/claim-rate-limited": (
        "Te veel mislukte pogingen. Probeer het over {retry_after_s} seconden opnieuw.",
        "Too many failed attempts. Try again in {retry_after_s} seconds.",
    ),
    "connection/already-claimed": (
        "Deze aansluiting is al gekoppeld aan een andere klant. Neem contact met ons op.",
        "This connection is already linked to another customer. Please contact us.",
    ),
    # installs
    "install/not-found": ("Deze installatie is niet gevonden.", "This install was not found."),
    "install/id-conflict": (
        "Er bestaat al een installatie met dit id, met andere gegevens.",
        "An install with this id already exists with different data.",
    ),
    "install/state-conflict": (
        "Dit kan niet in de huidige status ({state}) van de installatie.",
        "This is not possible in the install's current state ({state}).",
    ),
    "install/self-install-not-allowed": (
        "Een {role} mag een {asset_type} niet zelf installeren.",
        "A {role} may not self-install a {asset_type}.",
    ),
    "install/capacity-mismatch": (
        "Een {asset_type} past niet bij een aansluiting van {capacity}.",
        "A {asset_type} does not fit a connection of {capacity}.",
    ),
    "install/asset-type-unknown": ("Onbekend type installatie: '{asset_type}'.", "Unknown asset type: '{asset_type}'."),
    # QR labels
    "qr/malformed": (
        "Dit is geen geldig label van ons: de code is onleesbaar of verkeerd overgetypt.",
        "This is not one of our labels: the code is unreadable or mistyped.",
    ),
    "qr/unknown-key": (
        "Dit label is ondertekend met een onbekende sleutel.",
        "This label is signed with an unknown key.",
    ),
    "qr/forged": (
        "De handtekening van dit label klopt niet: het label is vervalst of beschadigd.",
        "The label's signature does not match: the label is forged or damaged.",
    ),
    "qr/unknown-asset": ("Dit label hoort bij geen bekend apparaat.", "This label belongs to no known asset."),
    "qr/asset-installed-elsewhere": (
        "Dit apparaat ({serial}) is al op een andere aansluiting geïnstalleerd.",
        "This asset ({serial}) is already installed on another connection.",
    ),
    "qr/asset-unavailable": (
        "Dit apparaat ({serial}) is niet beschikbaar (status: {status}).",
        "This asset ({serial}) is not available (status: {status}).",
    ),
    "qr/type-mismatch": (
        "Dit label hoort bij een {scanned_type}, maar deze installatie is voor een {asset_type}.",
        "This label belongs to a {scanned_type}, but this install is for a {asset_type}.",
    ),
    # photos
    "photo/slot-unknown": (
        "Onbekende fotoplek '{slot}' voor dit type installatie.",
        "Unknown photo slot '{slot}' for this asset type.",
    ),
    "photo/too-large": (
        "De foto is te groot (maximaal {limit_mb} MB).",
        "The photo is too large (at most {limit_mb} MB).",
    ),
    "photo/too-many-pixels": (
        "De foto heeft te veel pixels ({pixels}; maximaal {limit}).",
        "The photo has too many pixels ({pixels}; at most {limit}).",
    ),
    "photo/unsupported-type": (
        "Dit bestandstype wordt niet ondersteund; stuur een JPEG-, PNG- of HEIC-foto.",
        "This file type is not supported; send a JPEG, PNG or HEIC photo.",
    ),
    "photo/undecodable": (
        "De foto kan niet worden gelezen; het bestand is beschadigd. Maak de foto opnieuw.",
        "The photo cannot be read; the file is damaged. Please take the photo again.",
    ),
    "photo/empty": ("De foto is leeg.", "The photo is empty."),
    "photo/incomplete-upload": (
        "De upload is onderbroken; stuur de foto opnieuw.",
        "The upload was interrupted; please send the photo again.",
    ),
    # review
    "review/case-not-found": ("Deze zaak is niet gevonden.", "This case was not found."),
    "review/claimed-by-other": (
        "Deze zaak is al geclaimd door {holder} (tot {until}).",
        "This case is already claimed by {holder} (until {until}).",
    ),
    "review/not-lease-holder": (
        "U heeft deze zaak niet (meer) geclaimd; claim hem eerst.",
        "You do not hold the claim on this case (any more); claim it first.",
    ),
    "review/stale-version": (
        "Deze zaak is intussen gewijzigd (versie {current}); laad hem opnieuw.",
        "This case changed meanwhile (version {current}); reload it.",
    ),
    "review/case-not-open": (
        "Deze zaak staat niet open voor beoordeling (status: {state}).",
        "This case is not open for review (state: {state}).",
    ),
    "review/unknown-reason-code": (
        "Onbekende redencode '{reason_code}' voor '{outcome}'; kies uit: {allowed}.",
        "Unknown reason code '{reason_code}' for '{outcome}'; choose from: {allowed}.",
    ),
    "review/second-approver-required": (
        "Deze installatie vraagt goedkeuring door twee verschillende specialisten; u keurde al goed.",
        "This install needs approval by two different specialists; you approved already.",
    ),
    "review/no-asset": (
        "Goedkeuren kan pas als er een apparaat is gescand.",
        "Approval needs a scanned asset.",
    ),
    "review/unknown-case-kind": (
        "Onbekend soort zaak '{kind}'; kies uit: {allowed}.",
        "Unknown kind of case '{kind}'; choose from: {allowed}.",
    ),
    "review/decision-not-for-followup": (
        "Een vervolgzaak ({kind}) krijgt een oordeel, geen besluit; gebruik /verdict.",
        "A follow-up case ({kind}) takes a verdict, not a decision; use /verdict.",
    ),
    "review/verdict-not-for-escalation": (
        "Een escalatie krijgt een besluit, geen oordeel; gebruik /decision.",
        "An escalation takes a decision, not a verdict; use /decision.",
    ),
    "review/unknown-verdict": (
        "Onbekend oordeel '{verdict}' voor een zaak van soort {kind}; kies uit: {allowed}.",
        "Unknown verdict '{verdict}' for a case of kind {kind}; choose from: {allowed}.",
    ),
    # quality: known answers and calibration
    "quality/known-answer-not-found": ("Dit ijkgeval is niet gevonden.", "This known answer was not found."),
    "quality/not-a-known-answer": (
        "Alleen een afgesloten escalatie met een besluit van een specialist kan een ijkgeval worden ({why}).",
        "Only a closed escalation decided by a specialist can be a known answer ({why}).",
    ),
    "quality/known-answer-exists": (
        "Deze zaak is al een ijkgeval (nummer {known_answer_id}).",
        "This case is already a known answer (number {known_answer_id}).",
    ),
    "quality/own-known-answer": (
        "U heeft deze zaak zelf beoordeeld en kunt hem niet als ijkgeval beantwoorden.",
        "You decided this case yourself and cannot answer it as a known answer.",
    ),
    "quality/already-answered": (
        "U heeft dit ijkgeval al beantwoord.",
        "You have already answered this known answer.",
    ),
    # integrations: device reports
    "device-report/id-conflict": (
        "Er bestaat al een apparaatmelding met dit report_id, met andere gegevens.",
        "A device report with this report_id already exists with different data.",
    ),
    "device-report/not-found": ("Deze apparaatmelding is niet gevonden.", "This device report was not found."),
    "device-report/reported-at-out-of-range": (
        "Het tijdstip van de melding ligt buiten het toegestane venster ({earliest} tot {latest}).",
        "The report's time is outside the accepted window ({earliest} to {latest}).",
    ),
    # admin
    "assets/invalid-batch": (
        "De batch is geweigerd; er is niets opgeslagen. Fouten: {errors}",
        "The batch was rejected; nothing was stored. Errors: {errors}",
    ),
    "assets/not-found": ("Apparaat '{serial}' is niet gevonden.", "Asset '{serial}' was not found."),
}


class DomainError(Exception):
    """An expected failure with a stable code; a 4xx, or a 503 for a bad day (`Unavailable`)."""

    status: ClassVar[int] = 422
    headers: ClassVar[dict[str, str]] = {}  # sent with the problem, whatever the request

    def __init__(self, code: str, /, *, extra: dict[str, Any] | None = None, **params: Any) -> None:
        if code not in MESSAGES:
            raise KeyError(f"no message for error code {code!r}")
        super().__init__(code)
        self.code = code
        self.params = params
        self.extra = extra or {}

    def message(self, lang: str) -> str:
        """The human message in `lang` ('nl' or 'en')."""
        nl, en = MESSAGES[self.code]
        return (en if lang == "en" else nl).format(**self.params)


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
