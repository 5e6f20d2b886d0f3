"""Wire Structs of /mobile/v1. Requests forbid unknown fields; new response fields are appended."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from backend.bounds import LINE, PROSE, Email, WireRequest

# `examples` only document (the OpenAPI document composes each Struct's example from them: backend/openapi_schemas.py).
Ean = Annotated[
    str,
    Meta(pattern=r"^[0-9]{18}$", description="18-digit EAN code of the connection", examples=["871687000000000009"]),
]
AssetType = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$", examples=["smart_meter_1p"])]
Latitude = Annotated[float, Meta(ge=-90, le=90, examples=[51.9837])]
Longitude = Annotated[float, Meta(ge=-180, le=180, examples=[5.9056])]
Meters = Annotated[float, Meta(ge=0, le=100_000, examples=[6.0])]
# and 2000..2100: WireRequest bounds every timestamp
AwareDatetime = Annotated[datetime, Meta(tz=True, examples=["2026-05-12T09:41:00+02:00"])]
# The phone's own clock when it sent the request: kept as sent beside the server's receive time, so an
# offline-made request shows how far off the phone's clock was (offline evidence, issue 12).
ClientTime = Annotated[
    datetime, Meta(tz=True, description="the phone's clock when it sent this", examples=["2026-05-12T09:43:10+02:00"])
]
Serial = Annotated[str, Meta(examples=["MTR1-000001"])]
Slot = Annotated[str, Meta(examples=["meter_label"])]
Text = Annotated[str, Meta(examples=["Goedgekeurd: de installatie is afgerond."])]
Count = Annotated[int, Meta(examples=[0])]


class Request(WireRequest):
    pass


class Response(msgspec.Struct, kw_only=True):
    pass


class CreateInstall(Request):
    id: uuid.UUID
    connection_ean: Ean
    asset_type: AssetType
    # When the phone began the install (it may work offline and sync later). Bounded by the
    # server to at most the policy's offline days before it hears of it, and never after.
    started_at: AwareDatetime | None = None
    client_time: ClientTime | None = None


class ScanLabel(Request):
    # Stored only once verified (39 characters, in installs.scanned_payload varchar(80)).
    payload: Annotated[
        str, Meta(min_length=1, max_length=200, pattern=LINE, examples=["SI1:K1:MTR1-000001:7QK2MXHD3WZP5RTB6AEJ"])
    ]


class ReportLocation(Request):
    lat: Latitude
    lon: Longitude
    accuracy_m: Meters
    captured_at: AwareDatetime
    provider: Literal["gps", "network", "fused", "manual"] = "gps"
    mocked: bool = False
    client_time: ClientTime | None = None


class EnterReading(Request):
    value: Annotated[float, Meta(ge=-1e9, le=1e9, description="kWh as shown on the display", examples=[4512.7])]


class AskForHelp(Request):
    message: Annotated[
        str, Meta(max_length=2000, pattern=PROSE, examples=["Ik weet niet waar de batterij moet komen."])
    ] = ""


class ObjectToDecision(Request):
    # Why the customer disagrees, in their words: the specialist reads it on the case.
    message: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=2000,
            pattern=PROSE,
            examples=["De meter hangt er echt; ik stuur graag nieuwe foto's."],
        ),
    ]


class SendMessage(Request):
    # The answer to the specialist's open question (409 message/nothing-asked when none is open).
    text: Annotated[
        str, Meta(min_length=1, max_length=2000, pattern=PROSE, examples=["De meter is op 12 mei geplaatst."])
    ]


class ClaimConnection(Request):
    ean: Ean
    postcode: Annotated[str, Meta(min_length=6, max_length=7, pattern=LINE, examples=["6811AL"])]
    house_number: Annotated[int, Meta(ge=1, le=99_999, examples=[14])]


class CheckView(Response):
    check: Annotated[str, Meta(examples=["label_qr"])]
    subject: Slot
    status: Annotated[Literal["pass", "fail", "uncertain"], Meta(examples=["pass"])]
    confidence: Annotated[float, Meta(examples=[0.98])]
    evidence: Annotated[dict[str, Any], Meta(examples=[{"decoded": ["SI1:K1:MTR1-000001:7QK2MXHD3WZP5RTB6AEJ"]}])]
    user_fixable: bool
    fix: Annotated[str, Meta(examples=[""])]


class ActionView(Response):
    code: Annotated[str, Meta(examples=["upload_photo"])]
    subject: Annotated[str | None, Meta(examples=["meter_display"])]
    text: Annotated[str, Meta(examples=["Maak een foto van het display van de meter."])]


class PhotoView(Response):
    id: Annotated[int, Meta(examples=[1])]
    slot: Slot
    content_type: Annotated[str, Meta(examples=["image/jpeg"])]
    width: Annotated[int, Meta(examples=[4032])]
    height: Annotated[int, Meta(examples=[3024])]
    size_bytes: Annotated[int, Meta(examples=[2811904])]
    sha256: Annotated[str, Meta(examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"])]
    taken_at: datetime | None
    has_exif_location: Annotated[bool, Meta(examples=[True])]
    url: Annotated[str, Meta(examples=["/mobile/v1/installs/0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10/photos/1"])]
    created_at: datetime
    checks: list[CheckView]


class LocationView(Response):
    lat: Annotated[float, Meta(examples=[51.9837])]
    lon: Annotated[float, Meta(examples=[5.9056])]
    accuracy_m: Annotated[float, Meta(examples=[6.0])]
    captured_at: datetime
    provider: Annotated[str, Meta(examples=["gps"])]
    mocked: bool
    received_at: datetime  # when the server received the fix
    client_time: datetime | None = None  # the phone's clock when it sent the fix, as sent


class ConnectionView(Response):
    ean: Annotated[str, Meta(examples=["871687000000000009"])]
    street: Annotated[str, Meta(examples=["Jansbinnensingel"])]
    house_number: Annotated[int, Meta(examples=[14])]
    house_number_suffix: Annotated[str, Meta(examples=[""])]
    postcode: Annotated[str, Meta(examples=["6811AL"])]
    city: Annotated[str, Meta(examples=["Arnhem"])]
    capacity: Annotated[str, Meta(examples=["1x35A"])]


class AssetView(Response):
    serial: Serial
    asset_type: Annotated[str, Meta(examples=["smart_meter_1p"])]
    status: Annotated[str, Meta(examples=["installed"])]


class DecisionView(Response):
    attempt: Annotated[int, Meta(examples=[1])]
    outcome: Annotated[str, Meta(examples=["approved"])]
    reasons: list[str]
    policy_version: Annotated[str, Meta(examples=["2026.12.1"])]
    decided_by: Annotated[
        str, Meta(examples=["automation"])
    ]  # "automation", "specialist" or "device" (its own report); never an identity
    created_at: datetime
    message: str | None = None  # a specialist's words to the customer
    reason_text: str | None = None  # what a specialist's reason code means, in the caller's language


class TimelineEntry(Response):
    at: datetime
    text: Annotated[str, Meta(examples=["Uw installatie is goedgekeurd."])]


class CancelInstall(Request):
    reason: Annotated[str, Meta(max_length=500, pattern=PROSE, examples=["De verkeerde meter is geleverd."])] = ""


class InstallView(Response):
    id: uuid.UUID
    state: Annotated[str, Meta(examples=["approved"])]
    status_text: Text
    asset_type: Annotated[str, Meta(examples=["smart_meter_1p"])]
    connection: ConnectionView
    asset: AssetView | None
    photos: list[PhotoView]
    location: LocationView | None
    checks: list[CheckView]
    reasons: list[str]
    reasons_text: list[str]
    next_actions: list[ActionView]
    decisions: list[DecisionView]
    timeline: list[TimelineEntry]
    customer_message: Annotated[str | None, Meta(examples=["Uw meter is goedgekeurd na controle door een specialist."])]
    reading: Annotated[float | None, Meta(examples=[4512.7])]
    retake_count: Count
    version: Annotated[int, Meta(examples=[7])]
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None  # the phone's own start time, as bounded by the server
    client_time: datetime | None = None  # the phone's clock when it sent the create, as sent
    # In review: when a specialist decides at the latest (the case's SLA), and that in words.
    decision_expected_by: datetime | None = None
    decision_expected: Annotated[str | None, Meta(examples=["uiterlijk morgen 12:00"])] = None


class InstallSummary(Response):
    id: uuid.UUID
    state: Annotated[str, Meta(examples=["approved"])]
    asset_type: Annotated[str, Meta(examples=["smart_meter_1p"])]
    reasons: list[str]
    created_at: datetime
    updated_at: datetime


class InstallPage(Response):
    items: list[InstallSummary]
    next_cursor: Annotated[str | None, Meta(examples=["WyIyMDI2LTA1LTEyVDA3OjQxOjAwWiIsIjBiOWY3YzYyIl0"])]


class OwnedConnectionView(Response):
    connection: ConnectionView
    # The asset types the customer may install here themselves (POST /mobile/v1/installs accepts them).
    installable: list[Annotated[str, Meta(examples=["smart_meter_1p"])]]
    latest_install: InstallSummary | None  # the caller's newest install here (never a previous occupant's)


class ConnectionPage(Response):
    items: list[OwnedConnectionView]
    next_cursor: Annotated[str | None, Meta(examples=["ODcxNjg3MDAwMDAwMDAwMDA5"])]


class PhotoUploaded(Response):
    photo: PhotoView
    next_actions: list[ActionView]
    state: Annotated[str, Meta(examples=["draft"])]


class ClaimedConnection(Response):
    connection: ConnectionView
    newly_claimed: Annotated[bool, Meta(examples=[True])]


class ReleasedConnection(Response):
    connection: ConnectionView  # no longer the caller's: the next occupant claims it with the same proof


class StartJobInstall(Request):
    id: uuid.UUID  # made by the app, as for CreateInstall: the same id again is a retry
    started_at: AwareDatetime | None = None
    client_time: ClientTime | None = None


class JobSummary(Response):
    id: Annotated[int, Meta(examples=[42])]
    state: Annotated[str, Meta(examples=["assigned"])]  # assigned | in_progress
    connection: ConnectionView
    asset_type: Annotated[str, Meta(examples=["smart_meter_1p"])]
    asset_label: Annotated[str, Meta(examples=["slimme meter (1-fase)"])]
    serial: Annotated[str | None, Meta(examples=["MTR1-000010"])]  # the allocated asset: the one to scan
    window_start: Annotated[datetime, Meta(examples=["2026-05-12T08:00:00+02:00"])]
    window_end: Annotated[datetime, Meta(examples=["2026-05-12T12:00:00+02:00"])]
    install_id: uuid.UUID | None  # the install started from it
    visit: VisitBrief | None = None  # a visit's job: what the case found (reasons, failing checks, note)


class JobPage(Response):
    items: list[JobSummary]
    next_cursor: Annotated[str | None, Meta(examples=["MjAyNi0wNS0xMlQwNjowMDowMCswMDowMHw0Mg"])]


# --- visits: a person comes by (issue 13) ---------------------------------------------------------


class VisitWindow(Response):
    window_start: Annotated[datetime, Meta(examples=["2026-12-08T08:00:00+01:00"])]
    window_end: Annotated[datetime, Meta(examples=["2026-12-08T12:00:00+01:00"])]
    text: Annotated[str, Meta(examples=["dinsdag 8 december 08:00-12:00"])]  # in the operator's time zone


class VisitView(Response):
    id: Annotated[int, Meta(examples=[7])]
    state: Literal["offered", "planned", "done", "cancelled"]
    state_text: Text
    windows: list[VisitWindow]  # offered, earliest first
    chosen: VisitWindow | None  # the one picked
    offered_at: datetime


class PickVisitWindow(Request):
    """One of the offered windows, both ends exactly as offered."""

    window_start: AwareDatetime
    window_end: AwareDatetime


class VisitCheck(Response):
    check: Annotated[str, Meta(examples=["photo_sharpness"])]
    subject: Annotated[str | None, Meta(examples=["meter_label"])]
    status: Annotated[str, Meta(examples=["fail"])]
    text: Annotated[str, Meta(examples=["De foto van het label is onscherp."])]


class VisitBrief(Response):
    """What the case found, for the installer: never the customer's photos or messages."""

    visit_id: Annotated[int, Meta(examples=[7])]
    reasons: list[str]
    reasons_text: list[str]
    checks: list[VisitCheck]  # what the checks still found wrong
    serial: Annotated[str | None, Meta(examples=["MTR1-000001"])]  # the label the customer scanned
    reading: Annotated[float | None, Meta(examples=[4512.7])]
    note: Annotated[str, Meta(examples=["Meterkast in de kelder; label zit achter een kastje."])]


# --- the customer's notification preferences (backend/notifications) ---------------------------------
Moment = Literal["approved", "rejected", "retake_needed", "info_requested", "visit_planned", "device_confirmed"]
Language = Annotated[Literal["nl", "en"], Meta(examples=["nl"])]


class NotificationSettings(Request):
    """Replaces the caller's preferences as a whole (PUT)."""

    email: Annotated[
        Email | None,
        Meta(
            description="your address; null: the one your account gives. A new address is used once you follow "
            "the link we mail to it (email_pending until then)"
        ),
    ]
    language: Language
    moments: Annotated[list[Moment], Meta(max_length=6, examples=[["approved", "rejected", "info_requested"]])]
    email_enabled: Annotated[bool, Meta(description="false: no e-mail at all (as the unsubscribe link does)")]


class NotificationSettingsView(Response):
    email: Annotated[str | None, Meta(examples=["anna@example.com"])]  # where e-mail goes; null: nowhere yet
    email_source: Annotated[Literal["customer", "account"] | None, Meta(examples=["customer"])]
    # typed, waiting for its link to be followed (mailed to it); not used until then
    email_pending: Annotated[str | None, Meta(examples=["anna.nieuw@example.com"])]
    language: Language
    moments: list[Moment]
    email_enabled: Annotated[bool, Meta(examples=[True])]
