"""The shipped asset catalog, its approval rules and the checks that refuse a broken catalog."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from backend.installs.catalog import CATALOG_PATH, capacity_amps, is_valid_capacity, load_catalog

CATALOG = load_catalog()


def broken_catalog(tmp_path: Path, old: str, new: str) -> Path:
    text = CATALOG_PATH.read_text()
    assert old in text
    path = tmp_path / "catalog.toml"
    path.write_text(text.replace(old, new, 1))
    return path


class TestShippedCatalog:
    async def test_types_and_slots(self) -> None:
        assert set(CATALOG.types) == {
            "smart_meter_1p",
            "smart_meter_3p",
            "home_battery",
            "home_battery_large",
            "ev_charger",
        }
        meter = CATALOG.types["smart_meter_1p"]
        assert meter.slots == ("meter_label", "meter_display", "cabinet_overview")
        assert meter.self_install == {"customer", "installer"}
        assert meter.capacities == {"1x25A", "1x35A", "1x40A"}
        assert CATALOG.types["smart_meter_3p"].self_install == {"installer"}
        assert CATALOG.types["ev_charger"].specialist_knowledge

    async def test_label_slots_require_a_qr_code(self) -> None:
        assert {name for name, slot in CATALOG.slots.items() if slot.requires_qr} == {"meter_label", "device_label"}

    async def test_every_type_names_known_slots_and_well_formed_capacities(self) -> None:
        for spec in CATALOG.types.values():
            assert set(spec.slots) <= CATALOG.slots.keys()
            assert all(is_valid_capacity(c) for c in spec.capacities)


class TestNeedsApproval:
    @pytest.mark.parametrize(
        ("asset_type", "capacity", "expected"),
        [
            ("smart_meter_1p", "1x35A", False),
            ("smart_meter_3p", "3x80A", False),  # at the limit, not above it
            ("smart_meter_3p", "3x100A", True),
            ("smart_meter_3p", "3x125A", True),
            ("home_battery", "3x25A", False),  # 5 kW
            ("home_battery_large", "3x25A", True),  # 13 kW
            ("ev_charger", "3x25A", True),  # 11 kW is above the 10 kW rule
        ],
    )
    async def test_rules(self, asset_type: str, capacity: str, expected: bool) -> None:
        assert CATALOG.needs_approval(asset_type, capacity) is expected


class TestCapacity:
    async def test_amps_per_phase(self) -> None:
        assert capacity_amps("3x25A") == 25
        assert capacity_amps("1x125A") == 125

    @pytest.mark.parametrize("capacity", ["2x25A", "3x5A", "3x1000A", "3X25A", "3x25", "x25A", "", "3x25A\n"])
    async def test_malformed(self, capacity: str) -> None:
        assert not is_valid_capacity(capacity)
        with pytest.raises(ValueError):
            capacity_amps(capacity)


class TestBrokenCatalog:
    async def test_unknown_slot_is_refused(self, tmp_path: Path) -> None:
        path = broken_catalog(
            tmp_path, 'slots = ["device_label", "cabinet_overview"]', 'slots = ["device_label", "garage_door"]'
        )
        with pytest.raises(msgspec.ValidationError, match="garage_door"):
            load_catalog(path)

    async def test_malformed_capacity_is_refused(self, tmp_path: Path) -> None:
        path = broken_catalog(tmp_path, '"1x25A", "1x35A"', '"1x25A", "35 amps"')
        with pytest.raises(msgspec.ValidationError, match="35 amps"):
            load_catalog(path)

    async def test_unknown_field_is_refused(self, tmp_path: Path) -> None:
        path = broken_catalog(tmp_path, "power_kw = 5.0", "power_kw = 5.0\npowr_kw = 50.0")
        with pytest.raises(msgspec.ValidationError):
            load_catalog(path)
