"""/integrations/v1: what other systems of the operator report (role `system` only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.auth import requires_role
from backend.bounds import WireRequest
from backend.installs.context import InstallContext
from backend.integrations import service
from backend.integrations.repository import ReportRec
from backend.principal import Principal, Role

ReportId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="the sender's unique id of this report: a retry sends the same id and body",
        examples=["hes-20260512-000123"],
    ),
]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$", examples=["MTR1-000001"])]
Ean = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{18}$", description="18-digit EAN code of the connection", examples=["871687000000000009"]
    ),
]
Kwh = Annotated[float, msgspec.Meta(ge=0, le=1e9, examples=[4513.2])]
Source = Literal["head-end", "charger-back-office"]


class Readings(WireRequest):
    import_kwh: Kwh
    export_kwh: Kwh | None = None


class DeviceReportIn(WireRequest):
    report_id: ReportId
    device_serial: Serial
    ean: Ean
    reported_at: Annotated[datetime, msgspec.Meta(tz=True, description="when the device reported in, with offset")]
    source: Source
    readings: Readings | None = None


class DeviceReportView(msgspec.Struct, kw_only=True):  # examples: documentation only (backend/openapi_schemas.py)
    report_id: Annotated[str, msgspec.Meta(examples=["hes-20260512-000123"])]
    device_serial: Annotated[str, msgspec.Meta(examples=["MTR1-000001"])]
    ean: Annotated[str, msgspec.Meta(examples=["871687000000000009"])]
    reported_at: Annotated[datetime, msgspec.Meta(examples=["2026-05-12T10:15:00+02:00"])]
    source: Annotated[str, msgspec.Meta(examples=["head-end"])]
    readings: Readings | None
    received_at: Annotated[datetime, msgspec.Meta(examples=["2026-05-12T10:15:02+02:00"])]
    # confirmed, auto_approved, already_confirmed, noted, device_mismatch, reading_mismatch, unmatched
    outcomes: Annotated[list[str], msgspec.Meta(examples=[["confirmed"]])]
    # the install the report was matched to
    install_id: Annotated[uuid.UUID, msgspec.Meta(examples=["0b9f7c62-3c1e-4b8e-9a51-6f2d8e4c7a10"])] | None
    flagged_install_ids: list[uuid.UUID]  # installs it cast doubt on (suspected fraud)
    # reported minus typed import reading
    reading_difference_kwh: Annotated[float, msgspec.Meta(examples=[0.5])] | None


def report_view(r: ReportRec) -> DeviceReportView:
    return DeviceReportView(
        report_id=r.report_id,
        device_serial=r.device_serial,
        ean=r.ean,
        reported_at=r.reported_at,
        source=r.source,
        readings=Readings(import_kwh=r.import_kwh, export_kwh=r.export_kwh) if r.import_kwh is not None else None,
        received_at=r.received_at,
        outcomes=r.outcomes,
        install_id=r.install,
        flagged_install_ids=[uuid.UUID(i) for i in r.flagged_installs],
        reading_difference_kwh=r.reading_difference_kwh,
    )


class DeviceReportController(Controller):
    path = "/integrations/v1"
    tags = ["integrations"]
    guards = [requires_role(Role.SYSTEM)]

    @post(
        "/device-reports",
        operation_id="SubmitDeviceReport",
        status_code=HTTP_201_CREATED,
        responses={
            200: ResponseSpec(DeviceReportView, description="The same report again: the first answer, replayed."),
            409: ResponseSpec(None, description="This report_id was sent before with another body (problem+json)."),
            422: ResponseSpec(None, description="EAN check digit or reported_at outside the window (problem+json)."),
        },
    )
    async def submit(
        self,
        request: Request[Principal, Any, Any],
        ctx: NamedDependency[InstallContext],
        data: JSONBody[DeviceReportIn],
    ) -> Response[DeviceReportView]:
        """A device reported in: confirm, approve or doubt its install (201; the same report again: 200)."""
        readings = data.readings
        report, created = await service.receive_report(
            ctx,
            request.user,
            service.DeviceReportIn(
                report_id=data.report_id,
                device_serial=data.device_serial,
                ean=data.ean,
                reported_at=data.reported_at,
                source=data.source,
                import_kwh=readings.import_kwh if readings else None,
                export_kwh=readings.export_kwh if readings else None,
            ),
        )
        return Response(report_view(report), status_code=HTTP_201_CREATED if created else HTTP_200_OK)

    @get("/device-reports/{report_id:str}", operation_id="GetDeviceReport")
    async def get_report(
        self, request: Request[Principal, Any, Any], report_id: FromPath[ReportId]
    ) -> DeviceReportView:
        """A device report as stored, with what it did; only to the system that sent it."""
        return report_view(await service.get_report(request.user, report_id))
