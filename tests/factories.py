"""Test data with explicit defaults; every call makes unique keys, so tests never share rows."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.auth import issue_token
from backend.installs import qr
from backend.installs import repository as repo
from backend.installs.catalog import load_catalog
from backend.installs.ean import check_digit
from backend.jobs import repository as jobs_repo
from backend.principal import Role
from backend.settings import Settings
from fixtures.demo_photos import photo_for_slot

_counter = itertools.count(int(uuid.uuid4().int % 10**6) * 1000)
# A point inside the demo territory (Arnhem centre).
ARNHEM = (51.98370, 5.90560)


def new_ean() -> str:
    body = f"871687{next(_counter):011d}"
    return body + str(check_digit(body))


@dataclass
class Party:
    subject: str
    role: Role
    headers: dict[str, str]


async def dispatch(
    ean: str,
    asset_type: str = "smart_meter_1p",
    *,
    installer: str | None = None,
    self_install: bool = False,
    serial: str | None = None,
    starts_in: timedelta = timedelta(hours=1),
    hours: float = 4,
) -> int:
    """A job stored as the dispatch API would store it (its checks are tested in tests/jobs)."""
    connection = await repo.connection_by_ean(ean)
    asset = await repo.asset_by_serial(serial) if serial else None
    assert connection is not None and (asset is not None or serial is None)
    assignee = "installer" if installer else "customer" if self_install else None
    now = datetime.now(UTC)
    return await jobs_repo.insert_job(
        {
            "connection": connection.id,
            "asset_type": asset_type,
            "asset": asset.id if asset else None,
            "window_start": now + starts_in,
            "window_end": now + starts_in + timedelta(hours=hours),
            "assignee": assignee,
            "installer_subject": installer,
            "state": "planned" if assignee is None else "assigned",
            "created_by": "admin-test",
            "created_at": now,
            "updated_at": now,
        }
    )


class Factory:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def party(self, role: Role, subject: str | None = None) -> Party:
        subject = subject or f"{role.value}-{uuid.uuid4().hex[:8]}"
        token = issue_token(self.settings, subject, role, timedelta(hours=1))
        return Party(subject, role, {"Authorization": f"Bearer {token}"})

    async def connection(
        self,
        *,
        owner: str | None = None,
        capacity: str = "1x35A",
        postcode: str = "6811AL",
        house_number: int = 14,
        lat: float = ARNHEM[0],
        lon: float = ARNHEM[1],
    ) -> str:
        ean = new_ean()
        await repo.insert_connections(
            [
                {
                    "ean": ean,
                    "street": "Jansbinnensingel",
                    "house_number": house_number,
                    "house_number_suffix": "",
                    "postcode": postcode,
                    "city": "Arnhem",
                    "lat": lat,
                    "lon": lon,
                    "capacity": capacity,
                    "owner_subject": owner,
                    "created_at": datetime.now(UTC),
                }
            ]
        )
        return ean

    async def asset(self, asset_type: str = "smart_meter_1p", status: str = "in_stock") -> tuple[str, str]:
        """(serial, signed payload)"""
        prefix = load_catalog().types[asset_type].serial_prefix
        serial = f"{prefix}-T{next(_counter):08d}"
        await repo.insert_assets(
            [{"serial": serial, "asset_type": asset_type, "status": status, "created_at": datetime.now(UTC)}]
        )
        return serial, qr.sign(serial, self.settings.qr_keys, self.settings.qr_active_key)

    def photo(
        self,
        slot: str,
        payload: str | None = None,
        serial: str = "DEMO",
        gps: tuple[float, float] | None = ARNHEM,
        **options: Any,
    ) -> bytes:
        """A fresh picture each call (its own seed), so no two installs share a photo by accident."""
        options.setdefault("seed", next(_counter))
        return photo_for_slot(slot, payload=payload, serial=serial, gps=gps, **options)

    # A job at an EAN, assigned to an installer (or the customer, or nobody), in a window from now.
    job = staticmethod(dispatch)

    @staticmethod
    def fix(lat: float = ARNHEM[0], lon: float = ARNHEM[1], accuracy_m: float = 8.0, **extra: Any) -> dict[str, Any]:
        return {
            "lat": lat,
            "lon": lon,
            "accuracy_m": accuracy_m,
            "captured_at": datetime.now(UTC).isoformat(),
            "provider": "gps",
            **extra,
        }
