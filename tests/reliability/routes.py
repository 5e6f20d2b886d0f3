"""Every route of the app, how the hostile-input suite attacks it, and the rows it aims at.

A new route fails tests/reliability/test_hostile_input.py until it is listed in ROUTES, with its JSON
body schema and query parameters (read from the app itself), so it is attacked like the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import msgspec

from backend.admin.assets import RetireAssetIn, SwapAssetIn
from backend.admin.connections import SettleOwnerIn
from backend.admin.known_answers import KnownAnswerIn
from backend.events.http import SubscriptionIn
from backend.integrations.http import DeviceReportIn
from backend.jobs.http import AssignJobIn, CancelJobIn, JobIn
from backend.jobs.visit_http import OfferVisitIn
from backend.principal import Role
from backend.quality.http import AnswerIn
from backend.review.http import DecisionIn, VerdictIn
from backend.settings import Settings
from mobile_api.v1 import schemas as s
from tests.factories import Factory
from tests.reliability.hostile import console_session

INSTALL = "/mobile/v1/installs/{install_id:uuid}"
CASE = "/review/v1/cases/{case_id:int}"
CALIBRATION = "/review/v1/calibration/{known_answer_id:int}"
CONSOLE_CASE = "/console/cases/{case_id:int}"
PORTAL_INSTALL = "/portal/installs/{install_id:uuid}"
JOB = "/admin/v1/jobs/{job_id:int}"
UPLOAD = "/mobile/v1/uploads/{upload_id:uuid}"
TUS = "/mobile/v1/tus"
CONSOLE_JOB = "/console/jobs/{job_id:int}"
CONSOLE_ADMIN = "console-admin"  # an admin's console session (None: a specialist's, or no one's)


@dataclass(frozen=True)
class Route:
    role: Role | str | None  # None: no token (public, or a specialist's console cookie); CONSOLE_ADMIN
    schema: type[msgspec.Struct] | None = None  # the JSON body
    query: tuple[str, ...] = ()  # query parameters, attacked by TestQueryStrings
    elsewhere: str = ""  # covered by another file of this suite


# Every route of the app (HEAD and OPTIONS aside) and how this suite attacks it.
ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/health"): Route(None),
    ("GET", "/health/live"): Route(None),
    ("GET", "/health/ready"): Route(None),
    ("GET", "/metrics"): Route(None),
    ("GET", "/mobile/v1/installs"): Route(Role.CUSTOMER, query=("limit", "cursor", "state")),
    ("GET", "/mobile/v1/connections"): Route(Role.CUSTOMER, query=("limit", "cursor")),
    ("POST", "/mobile/v1/installs"): Route(Role.CUSTOMER, s.CreateInstall),
    ("GET", INSTALL): Route(Role.CUSTOMER),
    ("POST", INSTALL + "/scan"): Route(Role.CUSTOMER, s.ScanLabel),
    ("POST", INSTALL + "/location"): Route(Role.CUSTOMER, s.ReportLocation),
    ("POST", INSTALL + "/reading"): Route(Role.CUSTOMER, s.EnterReading),
    ("POST", INSTALL + "/help"): Route(Role.CUSTOMER, s.AskForHelp),
    ("POST", INSTALL + "/objection"): Route(Role.CUSTOMER, s.ObjectToDecision),
    ("POST", INSTALL + "/messages"): Route(Role.CUSTOMER, s.SendMessage),
    ("POST", INSTALL + "/cancel"): Route(Role.CUSTOMER, s.CancelInstall),
    ("POST", INSTALL + "/submit"): Route(Role.CUSTOMER),
    ("PUT", INSTALL + "/photos/{slot:str}"): Route(Role.CUSTOMER, elsewhere="test_hostile_bodies.py"),
    ("GET", INSTALL + "/photos/{photo_id:int}"): Route(Role.CUSTOMER),
    ("POST", "/mobile/v1/connections/claim"): Route(Role.CUSTOMER, s.ClaimConnection),
    ("POST", "/mobile/v1/connections/{ean:str}/release"): Route(Role.CUSTOMER),
    ("GET", INSTALL + "/visit"): Route(Role.CUSTOMER),
    ("POST", INSTALL + "/visit"): Route(Role.CUSTOMER, s.PickVisitWindow),
    ("GET", "/mobile/v1/me/notifications"): Route(Role.CUSTOMER),
    ("PUT", "/mobile/v1/me/notifications"): Route(Role.CUSTOMER, s.NotificationSettings),
    ("GET", "/notifications/v1/unsubscribe"): Route(None, query=("token",)),
    ("POST", "/notifications/v1/unsubscribe"): Route(None, query=("token",)),
    ("GET", "/notifications/v1/address"): Route(None, query=("token",)),
    ("POST", "/notifications/v1/address"): Route(None, query=("token",)),
    # Resumable uploads: raw bodies and header fields, attacked in tests/uploads (offsets, lengths, limits).
    ("PATCH", UPLOAD): Route(Role.CUSTOMER, elsewhere="tests/uploads/test_resumable.py"),
    ("DELETE", UPLOAD): Route(Role.CUSTOMER),
    ("POST", TUS): Route(Role.CUSTOMER, elsewhere="tests/uploads/test_tus.py"),
    ("PATCH", TUS + "/{upload_id:uuid}"): Route(Role.CUSTOMER, elsewhere="tests/uploads/test_tus.py"),
    ("DELETE", TUS + "/{upload_id:uuid}"): Route(Role.CUSTOMER),
    ("GET", "/mobile/v1/jobs"): Route(Role.INSTALLER, query=("limit", "cursor")),
    ("POST", "/mobile/v1/jobs/{job_id:int}/install"): Route(Role.INSTALLER, s.StartJobInstall),
    ("POST", "/admin/v1/assets"): Route(Role.ADMIN, elsewhere="test_hostile_bodies.py"),
    ("GET", "/admin/v1/assets/{serial:str}/label"): Route(Role.ADMIN, query=("format",)),
    ("POST", "/admin/v1/assets/{serial:str}/label"): Route(Role.ADMIN, query=("format",)),
    ("GET", "/admin/v1/assets"): Route(Role.ADMIN, query=("limit", "cursor", "serial", "type", "state", "key_id")),
    ("POST", "/admin/v1/assets/{serial:str}/retire"): Route(Role.ADMIN, RetireAssetIn),
    ("POST", "/admin/v1/assets/{serial:str}/swap"): Route(Role.ADMIN, SwapAssetIn),
    ("GET", "/admin/v1/labels"): Route(Role.ADMIN, query=("key_id", "limit", "cursor")),
    ("GET", "/admin/v1/labels/keys"): Route(Role.ADMIN),
    ("GET", "/admin/v1/connections"): Route(
        Role.ADMIN, query=("limit", "cursor", "ean", "postcode", "house_number", "owner")
    ),
    ("GET", "/admin/v1/connections/{ean:str}"): Route(Role.ADMIN),
    ("POST", "/admin/v1/connections/{ean:str}/owner"): Route(Role.ADMIN, SettleOwnerIn),
    ("GET", "/admin/v1/jobs"): Route(Role.ADMIN, query=("limit", "cursor", "state", "installer")),
    ("POST", "/admin/v1/jobs"): Route(Role.ADMIN, JobIn),
    ("POST", "/admin/v1/jobs/import"): Route(Role.ADMIN, elsewhere="test_hostile_bodies.py"),
    ("GET", JOB): Route(Role.ADMIN),
    ("POST", JOB + "/assign"): Route(Role.ADMIN, AssignJobIn),
    ("POST", JOB + "/cancel"): Route(Role.ADMIN, CancelJobIn),
    ("GET", "/admin/v1/webhooks"): Route(Role.ADMIN, query=("limit", "cursor")),
    ("POST", "/admin/v1/webhooks"): Route(Role.ADMIN, SubscriptionIn),
    ("DELETE", "/admin/v1/webhooks/{subscription_id:int}"): Route(Role.ADMIN),
    ("GET", "/admin/v1/deliveries"): Route(Role.ADMIN, query=("limit", "cursor", "state")),
    ("POST", "/admin/v1/deliveries/{delivery_id:int}/retry"): Route(Role.ADMIN),
    ("GET", "/admin/v1/known-answers"): Route(Role.ADMIN, query=("limit", "cursor")),
    ("POST", "/admin/v1/known-answers"): Route(Role.ADMIN, KnownAnswerIn),
    ("DELETE", "/admin/v1/known-answers/{known_answer_id:int}"): Route(Role.ADMIN),
    ("GET", "/admin/v1/known-answers/agreement"): Route(Role.ADMIN),
    ("GET", "/review/v1/queue"): Route(
        Role.SPECIALIST, query=("limit", "cursor", "reason", "asset_type", "region", "kind")
    ),
    ("GET", CASE): Route(Role.SPECIALIST),
    ("POST", CASE + "/claim"): Route(Role.SPECIALIST),
    ("POST", CASE + "/release"): Route(Role.SPECIALIST),
    ("POST", CASE + "/decision"): Route(Role.SPECIALIST, DecisionIn),
    ("POST", CASE + "/verdict"): Route(Role.SPECIALIST, VerdictIn),
    ("POST", CASE + "/visit"): Route(Role.SPECIALIST, OfferVisitIn),
    ("GET", CASE + "/photos/{photo_id:int}/original"): Route(Role.SPECIALIST),
    ("GET", CALIBRATION): Route(Role.SPECIALIST),
    ("POST", CALIBRATION + "/answer"): Route(Role.SPECIALIST, AnswerIn),
    ("GET", CALIBRATION + "/photos/{photo_id:int}/original"): Route(Role.SPECIALIST),
    ("POST", "/integrations/v1/device-reports"): Route(Role.SYSTEM, DeviceReportIn),
    ("GET", "/integrations/v1/device-reports/{report_id:str}"): Route(Role.SYSTEM),
    ("GET", "/console"): Route(None),
    ("GET", "/console/login"): Route(None),
    ("POST", "/console/login"): Route(None, elsewhere="test_hostile_bodies.py"),
    ("POST", "/console/logout"): Route(None),
    ("GET", "/console/queue"): Route(None, query=("reason", "asset_type", "kind", "cursor")),
    ("GET", CONSOLE_CASE): Route(None, query=("msg",)),
    ("GET", CONSOLE_CASE + "/photos/{photo_id:int}/annotated.jpg"): Route(None),
    ("GET", CONSOLE_CASE + "/photos/{photo_id:int}/original"): Route(None),
    ("POST", CONSOLE_CASE + "/claim"): Route(None),
    ("POST", CONSOLE_CASE + "/release"): Route(None),
    ("POST", CONSOLE_CASE + "/decision"): Route(None, elsewhere="test_hostile_bodies.py"),
    ("POST", CONSOLE_CASE + "/verdict"): Route(None, elsewhere="test_hostile_bodies.py"),
    ("POST", CONSOLE_CASE + "/visit"): Route(None, elsewhere="tests/console/test_visit_form.py"),
    ("GET", "/console/jobs"): Route(CONSOLE_ADMIN, query=("installer", "state", "msg", "cursor")),
    ("POST", "/console/jobs"): Route(CONSOLE_ADMIN, elsewhere="tests/console/test_dispatch_pages.py"),
    ("POST", "/console/jobs/import"): Route(CONSOLE_ADMIN, elsewhere="tests/console/test_dispatch_pages.py"),
    ("POST", CONSOLE_JOB + "/assign"): Route(CONSOLE_ADMIN, elsewhere="tests/console/test_dispatch_pages.py"),
    ("POST", CONSOLE_JOB + "/cancel"): Route(CONSOLE_ADMIN, elsewhere="tests/console/test_dispatch_pages.py"),
    ("GET", "/console/assets"): Route(CONSOLE_ADMIN, query=("serial", "cursor", "key_id", "status", "asset_type")),
    ("GET", "/console/assets/keys"): Route(CONSOLE_ADMIN),
    ("POST", "/console/assets/labels.svg"): Route(CONSOLE_ADMIN),
    ("GET", "/console/connections"): Route(CONSOLE_ADMIN, query=("cursor", "ean", "house_number", "owner", "postcode")),
    ("GET", "/console/outbox"): Route(CONSOLE_ADMIN, query=("state", "msg", "cursor")),
    ("POST", "/console/outbox/{delivery_id:int}/retry"): Route(CONSOLE_ADMIN),
    ("GET", "/console/figures"): Route(CONSOLE_ADMIN),
    ("GET", "/console/settings"): Route(CONSOLE_ADMIN),
    ("GET", "/console/static/{file_path:path}"): Route(None, query=("v",)),
    # The customers' portal (backend/portal): its own session cookie, none of these sends one.
    ("GET", "/portal"): Route(None, query=("msg",)),
    ("GET", "/portal/login"): Route(None),
    ("POST", "/portal/login/demo"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    ("POST", "/portal/logout"): Route(None),
    ("POST", "/portal/connections/claim"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    ("GET", PORTAL_INSTALL): Route(None, query=("msg",)),
    ("POST", PORTAL_INSTALL + "/help"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    ("POST", PORTAL_INSTALL + "/answer"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    ("POST", PORTAL_INSTALL + "/answer/photo"): Route(None, elsewhere="tests/portal/test_portal_answer.py"),
    ("POST", PORTAL_INSTALL + "/objection"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    ("POST", PORTAL_INSTALL + "/visit"): Route(None, elsewhere="tests/portal/test_portal_pages.py"),
    # The portal's self-install guide (backend/portal/guide.py).
    ("POST", "/portal/installs"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    ("GET", PORTAL_INSTALL + "/guide"): Route(None, query=("msg", "photo")),
    ("POST", PORTAL_INSTALL + "/guide/scan"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    ("POST", PORTAL_INSTALL + "/guide/location"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    ("POST", PORTAL_INSTALL + "/guide/reading"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    ("POST", PORTAL_INSTALL + "/guide/photos/{slot:str}"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    ("POST", PORTAL_INSTALL + "/guide/submit"): Route(None, elsewhere="tests/portal/test_portal_guide.py"),
    # The guide's photos in resumable chunks (backend/portal/uploads.py); HEAD is the offset.
    ("POST", PORTAL_INSTALL + "/uploads/{slot:str}"): Route(None, elsewhere="tests/portal/test_portal_uploads.py"),
    ("PATCH", "/portal/uploads/{upload_id:uuid}"): Route(None, elsewhere="tests/portal/test_portal_uploads.py"),
    ("GET", "/portal/static/{file_path:path}"): Route(None, query=("v",)),
    ("GET", "/schema"): Route(None),
    ("GET", "/schema/swagger"): Route(None),
    ("GET", "/schema/openapi.json"): Route(None),
    ("GET", "/schema/oauth2-redirect.html"): Route(None),
    ("GET", "/schema/{path:str}"): Route(None),
}


@dataclass
class World:
    """Real rows every hostile request aims at, so a request that got through would store something."""

    parties: dict[Role | str | None, dict[str, str]]
    install_id: str
    ean: str  # the customer's own connection
    free_ean: str  # a connection nobody has claimed
    serial: str
    payload: str
    job_id: int = 1  # an installer's assigned job at the unclaimed connection

    def url(self, path: str, **ids: object) -> str:
        values = {
            "install_id": self.install_id,
            "slot": "meter_label",
            "serial": self.serial,
            "ean": self.ean,
            "job_id": self.job_id,
            **ids,
        }
        for name, value in values.items():
            for kind in ("uuid", "int", "str"):
                path = path.replace(f"{{{name}:{kind}}}", str(value))
        return path


def samples(w: World) -> dict[type[msgspec.Struct], dict[str, Any]]:
    """A valid body of every JSON schema, aimed at the world's rows."""
    now = datetime.now(UTC).isoformat()
    return {
        s.CreateInstall: {
            "id": str(uuid.uuid4()),
            "connection_ean": w.ean,
            "asset_type": "smart_meter_1p",
            "started_at": now,
        },
        s.ScanLabel: {"payload": w.payload},
        s.ReportLocation: {
            "lat": 51.9837,
            "lon": 5.9056,
            "accuracy_m": 6,
            "captured_at": now,
            "provider": "gps",
            "mocked": False,
        },
        s.EnterReading: {"value": 4512.7},
        s.AskForHelp: {"message": "Waar komt de meter?"},
        s.ObjectToDecision: {"message": "De meter hangt er echt."},
        s.SendMessage: {"text": "Op 12 mei."},
        s.CancelInstall: {"reason": "verkeerd type"},
        s.ClaimConnection: {"ean": w.free_ean, "postcode": "6811AL", "house_number": 14},
        s.StartJobInstall: {"id": str(uuid.uuid4()), "started_at": now},
        JobIn: {
            "ean": w.free_ean,
            "asset_type": "smart_meter_1p",
            "window_start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "window_end": (datetime.now(UTC) + timedelta(hours=5)).isoformat(),
            "installer": "inst-hostile",
        },
        AssignJobIn: {"version": 1, "installer": "inst-hostile"},
        CancelJobIn: {"version": 1, "reason": "afgezegd"},
        SettleOwnerIn: {"owner": "cust-hostile", "expected_owner": None, "reason": "Verhuizing"},
        RetireAssetIn: {"reason": "Defect"},
        SwapAssetIn: {"new_serial": w.serial, "reason": "Defect", "reading": 0.0},
        KnownAnswerIn: {"case_id": 1},
        DecisionIn: {
            "outcome": "approve",
            "reason_code": "evidence_ok",
            "version": 1,
            "note": "n",
            "message_to_customer": "m",
        },
        VerdictIn: {"verdict": "agree", "version": 1, "note": "n"},
        AnswerIn: {"answer": "approve"},
        OfferVisitIn: {
            "windows": [
                {
                    "window_start": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                    "window_end": (datetime.now(UTC) + timedelta(days=2, hours=4)).isoformat(),
                }
            ],
            "installer": "inst-hostile",
            "note": "Kelder.",
        },
        s.PickVisitWindow: {
            "window_start": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
            "window_end": (datetime.now(UTC) + timedelta(days=2, hours=4)).isoformat(),
        },
        s.NotificationSettings: {
            "email": "anna@example.com",
            "language": "nl",
            "moments": ["approved", "rejected"],
            "email_enabled": True,
        },
        SubscriptionIn: {"url": "https://registry.example/hooks", "event_types": ["install.approved"]},
        DeviceReportIn: {
            "report_id": f"r-{uuid.uuid4().hex}",
            "device_serial": w.serial,
            "ean": w.ean,
            "reported_at": now,
            "source": "head-end",
            "readings": {"import_kwh": 4513.2, "export_kwh": 0.0},
        },
    }


PLACEHOLDER = World({}, str(uuid.uuid4()), "0" * 18, "0" * 18, "MTR1-X", "SI1:K1:X")


async def make_world(client: httpx.AsyncClient, settings: Settings) -> World:
    """A customer's draft install, an unclaimed connection, a signed label and a party of every role."""
    make = Factory(settings)
    customer = make.party(Role.CUSTOMER)
    ean = await make.connection(owner=customer.subject)
    install_id = str(uuid.uuid4())
    r = await client.post(
        "/mobile/v1/installs",
        json={"id": install_id, "connection_ean": ean, "asset_type": "smart_meter_1p"},
        headers=customer.headers,
    )
    assert r.status_code == 201, r.text
    serial, payload = await make.asset()
    installer = make.party(Role.INSTALLER)
    free_ean = await make.connection()
    parties: dict[Role | str | None, dict[str, str]] = {
        Role.CUSTOMER: customer.headers,
        Role.INSTALLER: installer.headers,
        **{role: make.party(role).headers for role in (Role.SPECIALIST, Role.ADMIN, Role.SYSTEM)},
        None: await console_session(client, make),
        CONSOLE_ADMIN: await console_session(client, make, Role.ADMIN),
    }
    job_id = await make.job(free_ean, installer=installer.subject)
    return World(parties, install_id, ean, free_ean, serial, payload, job_id)


async def send(
    client: httpx.AsyncClient, w: World, method: str, path: str, role: Role | str | None, **kw: Any
) -> httpx.Response:
    headers = {**w.parties[role], **kw.pop("headers", {})}
    return await client.request(method, path, headers=headers, **kw)
