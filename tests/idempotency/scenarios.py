"""One ready-to-send request per POST operation that takes an Idempotency-Key, with another request to
send under the same key, and how many times the operation ran as the database tells it.

`SCENARIOS` is keyed by operation id; tests/idempotency/test_every_post.py holds it to the routes the
app really has, so a new POST without a scenario here fails the suite."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from httpx import AsyncClient, Response

from backend.db import write_transaction
from backend.events.outbox import enqueue
from backend.events.tables import OutboxDelivery
from backend.installs import repository as installs_repo
from backend.installs.tables import Event, Install, LocationFix
from backend.integrations.tables import DeviceReport
from backend.principal import Principal, Role
from backend.quality.tables import CalibrationAnswer, KnownAnswer
from backend.review.followups import open_followup
from backend.review.tables import CaseVerdict, ReviewCase
from tests.factories import Factory, Party
from tests.helpers.review import case_id_of, claimed, decided, helped
from tests.mobile_api.helpers import Draft, new_install

NO_CASE = 2_000_000_000  # a case id no test makes: its path is another request, refused before it runs


@dataclass(frozen=True)
class Call:
    """A POST as the client sends it: a JSON body, raw bytes, or none."""

    path: str
    json: Any = None
    content: bytes | None = None
    content_type: str | None = None

    async def send(self, client: AsyncClient, who: Party, **headers: str) -> Response:
        if self.content is not None:
            headers = {"Content-Type": self.content_type or "application/octet-stream", **headers}
            return await client.post(self.path, content=self.content, headers={**who.headers, **headers})
        return await client.post(self.path, json=self.json, headers={**who.headers, **headers})

    def body(self) -> bytes:
        """The body bytes as httpx sends them (for a fingerprint)."""
        if self.content is not None:
            return self.content
        return b"" if self.json is None else _json_bytes(self.json)


def _json_bytes(value: Any) -> bytes:
    return httpx.Request("POST", "http://x", json=value).content  # what httpx puts on the wire


@dataclass(frozen=True)
class Scenario:
    who: Party
    call: Call
    other: Call  # another request under the same key
    executions: Callable[[], Awaitable[int]]  # how many times the operation ran

    @property
    def principal(self) -> Principal:
        return Principal(self.who.subject, self.who.role)


async def _count(table: Any, where: Any) -> int:
    return int(await table.count().where(where))


def _events(install_id: str, action: str) -> Callable[[], Awaitable[int]]:
    return lambda: _count(Event, (Event.install == uuid.UUID(install_id)) & (Event.action == action))


def _acts(actor: str, action: str) -> Callable[[], Awaitable[int]]:
    return lambda: _count(Event, (Event.actor == actor) & (Event.action == action))


async def create_install(client: AsyncClient, make: Factory) -> Scenario:
    who = make.party(Role.CUSTOMER)
    ean = await make.connection(owner=who.subject)
    install_id = str(uuid.uuid4())
    body = {"id": install_id, "connection_ean": ean, "asset_type": "smart_meter_1p"}
    other = {**body, "id": str(uuid.uuid4())}
    return Scenario(
        who,
        Call("/mobile/v1/installs", body),
        Call("/mobile/v1/installs", other),
        lambda: _count(Install, Install.id == uuid.UUID(install_id)),
    )


async def scan_label(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    _, payload = await make.asset()
    _, another = await make.asset()
    path = f"{d.url}/scan"
    return Scenario(
        d.who, Call(path, {"payload": payload}), Call(path, {"payload": another}), _events(d.id, "label.scanned")
    )


async def report_location(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    path = f"{d.url}/location"
    return Scenario(
        d.who,
        Call(path, make.fix()),
        Call(path, make.fix(accuracy_m=3.0)),
        lambda: _count(LocationFix, LocationFix.install == uuid.UUID(d.id)),
    )


async def enter_reading(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    path = f"{d.url}/reading"
    return Scenario(d.who, Call(path, {"value": 4512.7}), Call(path, {"value": 1.0}), _events(d.id, "reading.entered"))


async def submit_install(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)  # nothing gathered yet: the submit asks for it (needs_retake)
    another = await new_install(client, make, who=d.who)
    return Scenario(d.who, Call(f"{d.url}/submit"), Call(f"{another.url}/submit"), _events(d.id, "install.submitted"))


async def cancel_install(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    path = f"{d.url}/cancel"
    return Scenario(
        d.who,
        Call(path, {"reason": "Verkeerde meter"}),
        Call(path, {"reason": "Anders"}),
        _events(d.id, "install.cancelled"),
    )


async def ask_for_help(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    path = f"{d.url}/help"
    return Scenario(
        d.who, Call(path, {"message": "Ik twijfel"}), Call(path, {"message": "Help"}), _events(d.id, "help.requested")
    )


async def object_to_decision(client: AsyncClient, make: Factory) -> Scenario:
    d, _, _ = await _decided_case(client, make)
    path = f"{d.url}/objection"
    return Scenario(
        d.who,
        Call(path, {"message": "De meter hangt er echt."}),
        Call(path, {"message": "Iets anders"}),
        _events(d.id, "decision.objected"),
    )


async def send_message(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    await helped(client, d)
    await decided(
        client,
        make.party(Role.SPECIALIST),
        await case_id_of(d.id),
        "request_info",
        "more_information",
        question="Wanneer is de meter geplaatst?",
    )
    path = f"{d.url}/messages"
    return Scenario(
        d.who, Call(path, {"text": "Op 12 mei."}), Call(path, {"text": "Gisteren."}), _events(d.id, "info.answered")
    )


async def claim_connection(client: AsyncClient, make: Factory) -> Scenario:
    who = make.party(Role.CUSTOMER)
    ean = await make.connection(postcode="6811AL", house_number=14)
    body = {"ean": ean, "postcode": "6811AL", "house_number": 14}
    path = "/mobile/v1/connections/claim"
    return Scenario(
        who, Call(path, body), Call(path, {**body, "house_number": 15}), _acts(who.subject, "connection.claimed")
    )


async def release_connection(client: AsyncClient, make: Factory) -> Scenario:
    who = make.party(Role.CUSTOMER)
    ean = await make.connection(owner=who.subject)
    other = await make.connection(owner=who.subject)
    path = f"/mobile/v1/connections/{ean}/release"
    return Scenario(
        who, Call(path), Call(f"/mobile/v1/connections/{other}/release"), _acts(who.subject, "connection.released")
    )


async def settle_connection_owner(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    path = f"/admin/v1/connections/{await make.connection(owner='cust-old')}/owner"
    body = {"owner": "cust-new", "expected_owner": "cust-old", "reason": "Verhuizing"}
    return Scenario(
        admin,
        Call(path, body),
        Call(path, {**body, "owner": "cust-other"}),
        _acts(admin.subject, "connection.reassigned"),
    )


async def retire_asset(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    serial, _ = await make.asset()
    path = f"/admin/v1/assets/{serial}/retire"
    return Scenario(
        admin, Call(path, {"reason": "Defect"}), Call(path, {"reason": "Kwijt"}), _acts(admin.subject, "asset.retired")
    )


async def issue_asset_label(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    serial, _ = await make.asset()
    path = f"/admin/v1/assets/{serial}/label"
    return Scenario(admin, Call(path), Call(f"{path}?format=svg"), _acts(admin.subject, "asset.label-issued"))


async def swap_asset(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    old, _ = await make.asset()
    new, _ = await make.asset()
    asset = await installs_repo.asset_by_serial(old)
    connection = await installs_repo.connection_by_ean(await make.connection())
    assert asset is not None and connection is not None
    await installs_repo.mark_asset_installed(asset.id, connection.id, datetime.now(UTC), None)
    path = f"/admin/v1/assets/{old}/swap"
    body = {"new_serial": new, "reason": "Defect"}
    return Scenario(
        admin, Call(path, body), Call(path, {**body, "reading": 1.0}), _acts(admin.subject, "asset.swapped")
    )


async def import_assets(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    serial = f"MTR1-I{uuid.uuid4().hex[:10].upper()}"
    csv = f"serial,asset_type\n{serial},smart_meter_1p\n".encode()
    return Scenario(
        admin,
        Call("/admin/v1/assets", content=csv, content_type="text/csv"),
        Call("/admin/v1/assets", content=csv + b"MTR1-OTHER1,smart_meter_1p\n", content_type="text/csv"),
        _acts(admin.subject, "assets.imported"),
    )


def _job_body(ean: str) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(hours=1)
    window = {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=4)).isoformat()}
    return {"ean": ean, "asset_type": "smart_meter_1p", **window}


async def create_job(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    body = _job_body(await make.connection())
    return Scenario(
        admin,
        Call("/admin/v1/jobs", body),
        Call("/admin/v1/jobs", _job_body(await make.connection())),
        _acts(admin.subject, "job.created"),
    )


async def import_jobs(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    items = [_job_body(await make.connection())]
    return Scenario(
        admin,
        Call("/admin/v1/jobs/import", items),
        Call("/admin/v1/jobs/import", [*items, _job_body(await make.connection())]),
        _acts(admin.subject, "job.created"),
    )


async def assign_job(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    path = f"/admin/v1/jobs/{await make.job(await make.connection())}/assign"
    return Scenario(
        admin,
        Call(path, {"version": 1, "installer": "inst-a"}),
        Call(path, {"version": 1, "installer": "inst-b"}),
        _acts(admin.subject, "job.assigned"),
    )


async def cancel_job(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    path = f"/admin/v1/jobs/{await make.job(await make.connection())}/cancel"
    return Scenario(
        admin,
        Call(path, {"version": 1}),
        Call(path, {"version": 1, "reason": "anders"}),
        _acts(admin.subject, "job.cancelled"),
    )


async def start_job_install(client: AsyncClient, make: Factory) -> Scenario:
    installer = make.party(Role.INSTALLER)
    path = f"/mobile/v1/jobs/{await make.job(await make.connection(), installer=installer.subject)}/install"
    install_id = str(uuid.uuid4())
    return Scenario(
        installer,
        Call(path, {"id": install_id}),
        Call(path, {"id": str(uuid.uuid4())}),
        lambda: _count(Install, Install.id == uuid.UUID(install_id)),
    )


async def _decided_case(client: AsyncClient, make: Factory) -> tuple[Draft, int, Party]:
    """An escalation (asked for help) rejected by a specialist: a case that can be a known answer."""
    d = await new_install(client, make)
    await helped(client, d)
    case_id = await case_id_of(d.id)
    spec = make.party(Role.SPECIALIST)
    await decided(client, spec, case_id, "reject", "evidence_not_genuine")
    return d, case_id, spec


async def mark_known_answer(client: AsyncClient, make: Factory) -> Scenario:
    _, case_id, _ = await _decided_case(client, make)
    path = "/admin/v1/known-answers"
    return Scenario(
        make.party(Role.ADMIN),
        Call(path, {"case_id": case_id}),
        Call(path, {"case_id": NO_CASE}),
        lambda: _count(KnownAnswer, KnownAnswer.case == case_id),
    )


async def _open_case(client: AsyncClient, make: Factory) -> int:
    d = await new_install(client, make)
    await helped(client, d)
    return await case_id_of(d.id)


async def claim_case(client: AsyncClient, make: Factory) -> Scenario:
    case_id = await _open_case(client, make)
    spec = make.party(Role.SPECIALIST)
    return Scenario(
        spec,
        Call(f"/review/v1/cases/{case_id}/claim"),
        Call(f"/review/v1/cases/{NO_CASE}/claim"),
        _acts(spec.subject, "review.claimed"),
    )


async def release_case(client: AsyncClient, make: Factory) -> Scenario:
    case_id = await _open_case(client, make)
    spec = make.party(Role.SPECIALIST)
    await claimed(client, spec, case_id)
    return Scenario(
        spec,
        Call(f"/review/v1/cases/{case_id}/release"),
        Call(f"/review/v1/cases/{NO_CASE}/release"),
        _acts(spec.subject, "review.released"),
    )


async def decide_case(client: AsyncClient, make: Factory) -> Scenario:
    case_id = await _open_case(client, make)
    spec = make.party(Role.SPECIALIST)
    view = await claimed(client, spec, case_id)
    body = {"outcome": "reject", "reason_code": "evidence_not_genuine", "version": view["version"]}
    path = f"/review/v1/cases/{case_id}/decision"
    return Scenario(
        spec, Call(path, body), Call(path, {**body, "note": "anders"}), _acts(spec.subject, "review.decided")
    )


async def give_verdict(client: AsyncClient, make: Factory) -> Scenario:
    d = await new_install(client, make)
    install = await installs_repo.install_by_id(uuid.UUID(d.id))
    assert install is not None
    async with write_transaction(ReviewCase._meta.db):
        case = await open_followup(install, "qa_sample", ["qa_sample"], datetime.now(UTC), {})
    assert case is not None
    spec = make.party(Role.SPECIALIST)
    view = await claimed(client, spec, case.id)
    body = {"verdict": "agree", "version": view["version"]}
    path = f"/review/v1/cases/{case.id}/verdict"
    return Scenario(
        spec,
        Call(path, body),
        Call(path, {**body, "verdict": "disagree"}),
        lambda: _count(CaseVerdict, CaseVerdict.case == case.id),
    )


async def answer_calibration_item(client: AsyncClient, make: Factory) -> Scenario:
    _, case_id, _ = await _decided_case(client, make)
    r = await client.post("/admin/v1/known-answers", json={"case_id": case_id}, headers=make.party(Role.ADMIN).headers)
    assert r.status_code == 201, r.text
    known_id = r.json()["id"]
    spec = make.party(Role.SPECIALIST)  # not the decider: it may answer
    path = f"/review/v1/calibration/{known_id}/answer"
    return Scenario(
        spec,
        Call(path, {"answer": "reject"}),
        Call(path, {"answer": "approve"}),
        lambda: _count(CalibrationAnswer, CalibrationAnswer.known_answer == known_id),
    )


async def submit_device_report(client: AsyncClient, make: Factory) -> Scenario:
    system = make.party(Role.SYSTEM)
    report_id = f"t-{uuid.uuid4()}"
    body = {
        "report_id": report_id,
        "device_serial": "MTR1-UNKNOWN1",
        "ean": await make.connection(),
        "reported_at": datetime.now(UTC).isoformat(),
        "source": "head-end",
    }
    path = "/integrations/v1/device-reports"
    return Scenario(
        system,
        Call(path, body),
        Call(path, {**body, "report_id": f"t-{uuid.uuid4()}"}),
        lambda: _count(DeviceReport, DeviceReport.report_id == report_id),
    )


# --- visits (backend/jobs/visits.py) ----------------------------------------------------------------


def _visit_windows() -> list[dict[str, str]]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    return [
        {
            "window_start": (start + timedelta(hours=h)).isoformat(),
            "window_end": (start + timedelta(hours=h + 4)).isoformat(),
        }
        for h in (0, 24)
    ]


async def _held_case(client: AsyncClient, make: Factory) -> tuple[Draft, int, Party]:
    d = await new_install(client, make)
    await helped(client, d)
    case_id = await case_id_of(d.id)
    spec = make.party(Role.SPECIALIST)
    await claimed(client, spec, case_id)
    return d, case_id, spec


async def offer_visit(client: AsyncClient, make: Factory) -> Scenario:
    d, case_id, spec = await _held_case(client, make)
    path = f"/review/v1/cases/{case_id}/visit"
    return Scenario(
        spec,
        Call(path, {"windows": _visit_windows()}),
        Call(path, {"windows": _visit_windows(), "note": "anders"}),
        _events(d.id, "visit.offered"),
    )


async def pick_visit_window(client: AsyncClient, make: Factory) -> Scenario:
    d, case_id, spec = await _held_case(client, make)
    first, second = _visit_windows()
    r = await client.post(f"/review/v1/cases/{case_id}/visit", json={"windows": [first, second]}, headers=spec.headers)
    assert r.status_code == 201, r.text
    path = f"{d.url}/visit"
    return Scenario(d.who, Call(path, first), Call(path, second), _events(d.id, "visit.planned"))


# Webhooks (backend/events/http.py): receivers on a closed local port, so any later delivery round fails fast;
# subscribed to a rare type (a four-eyes first approval), so few deliveries are left behind.
NOWHERE = "http://127.0.0.1:9/idempotency"


async def create_webhook(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    return Scenario(
        admin,
        Call("/admin/v1/webhooks", {"url": NOWHERE, "event_types": ["review.first_approval"]}),
        Call("/admin/v1/webhooks", {"url": NOWHERE + "/other", "event_types": ["review.first_approval"]}),
        _acts(admin.subject, "webhook.subscribed"),
    )


async def retry_delivery(client: AsyncClient, make: Factory) -> Scenario:
    admin = make.party(Role.ADMIN)
    async with write_transaction(OutboxDelivery._meta.db):
        event_id = await enqueue("review.verdict", {}, datetime.now(UTC), (NOWHERE,))
    [row] = await OutboxDelivery.select(OutboxDelivery.id).where(
        (OutboxDelivery.event == event_id) & OutboxDelivery.subscription.is_null()
    )
    await OutboxDelivery.update({OutboxDelivery.dead_at: datetime.now(UTC)}).where(OutboxDelivery.id == row["id"])
    return Scenario(
        admin,
        Call(f"/admin/v1/deliveries/{row['id']}/retry"),
        Call(f"/admin/v1/deliveries/{NO_CASE}/retry"),
        _acts(admin.subject, "webhook.delivery-retried"),
    )


SCENARIOS: dict[str, Callable[[AsyncClient, Factory], Awaitable[Scenario]]] = {
    "CreateInstall": create_install,
    "ScanLabel": scan_label,
    "ReportLocation": report_location,
    "EnterReading": enter_reading,
    "SubmitInstall": submit_install,
    "CancelInstall": cancel_install,
    "AskForHelp": ask_for_help,
    "ObjectToDecision": object_to_decision,
    "SendMessage": send_message,
    "ClaimConnection": claim_connection,
    "ImportAssets": import_assets,
    "ReleaseConnection": release_connection,
    "SettleConnectionOwner": settle_connection_owner,
    "RetireAsset": retire_asset,
    "IssueAssetLabel": issue_asset_label,
    "SwapAsset": swap_asset,
    "CreateJob": create_job,
    "ImportJobs": import_jobs,
    "AssignJob": assign_job,
    "CancelJob": cancel_job,
    "StartJobInstall": start_job_install,
    "MarkKnownAnswer": mark_known_answer,
    "ClaimCase": claim_case,
    "ReleaseCase": release_case,
    "DecideCase": decide_case,
    "GiveVerdict": give_verdict,
    "AnswerCalibrationItem": answer_calibration_item,
    "SubmitDeviceReport": submit_device_report,
    "OfferVisit": offer_visit,
    "PickVisitWindow": pick_visit_window,
    "CreateWebhook": create_webhook,
    "RetryDelivery": retry_delivery,
}
