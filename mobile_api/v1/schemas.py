"""Wire Structs of /mobile/v1. Requests forbid unknown fields; new response fields are appended."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from backend.bounds import LINE, PROSE, WireRequest

Ean = Annotated[str, Meta(pattern=r"^[0-9]{18}$", description="18-digit EAN code of the connection")]
AssetType = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]
Meters = Annotated[float, Meta(ge=0, le=100_000)]
AwareDatetime = Annotated[datetime, Meta(tz=True)]  # and 2000..2100: WireRequest bounds every timestamp


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


class ScanLabel(Request):
    # Stored only once verified (39 characters, in installs.scanned_payload varchar(80)).
    payload: Annotated[str, Meta(min_length=1, max_length=200, pattern=LINE)]


class ReportLocation(Request):
    lat: Latitude
    lon: Longitude
    accuracy_m: Meters
    captured_at: AwareDatetime
    provider: Literal["gps", "network", "fused", "manual"] = "gps"
    mocked: bool = False


class EnterReading(Request):
    value: Annotated[float, Meta(ge=-1e9, le=1e9, description="kWh as shown on the display")]


class AskForHelp(Request):
    message: Annotated[str, Meta(max_length=2000, pattern=PROSE)] = ""


class ClaimConnection(Request):
    ean: Ean
    postcode: Annotated[str, Meta(min_length=6, max_length=7, pattern=LINE)]
    house_number: Annotated[int, Meta(ge=1, le=99_999)]


class CheckView(Response):
    check: str
    subject: str
    status: Literal["pass", "fail", "uncertain"]
    confidence: float
    evidence: dict[str, Any]
    user_fixable: bool
    fix: str


class ActionView(Response):
    code: str
    subject: str | None
    text: str


class PhotoView(Response):
    id: int
    slot: str
    content_type: str
    width: int
    height: int
    size_bytes: int
    sha256: str
    taken_at: datetime | None
    has_exif_location: bool
    url: str
    created_at: datetime
    checks: list[CheckView]


class LocationView(Response):
    lat: float
    lon: float
    accuracy_m: float
    captured_at: datetime
    provider: str
    mocked: bool


class ConnectionView(Response):
    ean: str
    street: str
    house_number: int
    house_number_suffix: str
    postcode: str
    city: str
    capacity: str


class AssetView(Response):
    serial: str
    asset_type: str
    status: str


class DecisionView(Response):
    attempt: int
    outcome: str
    reasons: list[str]
    policy_version: str
    decided_by: str  # "automation", "specialist" or "device" (its own report); never an identity
    created_at: datetime
    message: str | None = None  # a specialist's words to the customer
    reason_text: str | None = None  # what a specialist's reason code means, in the caller's language


class TimelineEntry(Response):
    at: datetime
    text: str


class CancelInstall(Request):
    reason: Annotated[str, Meta(max_length=500, pattern=PROSE)] = ""


class InstallView(Response):
    id: uuid.UUID
    state: str
    status_text: str
    asset_type: str
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
    customer_message: str | None
    reading: float | None
    retake_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None = None  # the phone's own start time, as bounded by the server


class InstallSummary(Response):
    id: uuid.UUID
    state: str
    asset_type: str
    reasons: list[str]
    created_at: datetime
    updated_at: datetime


class InstallPage(Response):
    items: list[InstallSummary]
    next_cursor: str | None


class PhotoUploaded(Response):
    photo: PhotoView
    next_actions: list[ActionView]
    state: str


class ClaimedConnection(Response):
    connection: ConnectionView
    newly_claimed: bool
