"""The INSERTs repository.py writes itself (`_insert_rows`: an upload's photo row and its check results)
read back as Piccolo's own Insert wrote them, on both engines."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

import pytest
from httpx import AsyncClient

from backend.installs import repository as repo
from backend.installs.tables import CheckResult, Photo
from tests.factories import Factory
from tests.mobile_api.helpers import ready_install, upload


class TestOwnInserts:
    async def test_an_uploaded_photo_and_its_checks_read_back_as_sent(self, client: AsyncClient, make: Factory) -> None:
        d = await ready_install(client, make, skip=("meter_label",))
        data = make.photo("meter_label", payload=d.payload, serial=d.serial or "DEMO")
        r = await upload(client, d, "meter_label", data)
        assert r.status_code == 201, r.text
        sent = r.json()["photo"]
        mine = (Photo.install == uuid.UUID(d.id)) & (Photo.slot == "meter_label")
        (row,) = await Photo.select().where(mine).output(load_json=True)
        assert row["id"] == sent["id"] and row["sha256"] == hashlib.sha256(data).hexdigest()
        assert row["qr_texts"] == [d.payload]  # JSON, as Piccolo dumps it
        assert row["is_current"] is True and row["hash_informative"] is True and row["qr_symbol_seen"] is True
        assert isinstance(row["exif_taken_at"], datetime) and row["exif_taken_at"].utcoffset() is not None
        assert isinstance(row["phash"], int) and row["phash_h0"] == (row["phash"] % (1 << 64)) >> 32
        checks = await CheckResult.select().where(CheckResult.photo == row["id"]).output(load_json=True)
        assert {c["check_name"]: c["status"] for c in checks} == {c["check"]: c["status"] for c in sent["checks"]}
        assert all(isinstance(c["evidence"], dict) and isinstance(c["fix_params"], dict) for c in checks)
        assert all(c["install"] == uuid.UUID(d.id) and c["attempt"] == 0 for c in checks)

    async def test_rows_naming_other_columns_are_refused(self) -> None:
        with pytest.raises(ValueError, match="same columns"):
            await repo.insert_checks([{"install": uuid.uuid4(), "status": "pass"}, {"status": "pass"}])
        with pytest.raises(ValueError, match="same columns"):
            await repo.insert_checks([{"no_such_column": 1}])
