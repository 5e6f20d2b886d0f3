"""The asset catalog (catalog.toml beside this file): evidence rules per asset type."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import msgspec

from backend.i18n import DataWords

CATALOG_PATH = Path(__file__).with_name("catalog.toml")
_CAPACITY = re.compile(r"^([13])x(\d{2,3})A$")


class SlotSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label_nl: str
    label_en: str
    requires_qr: bool = False
    requires_reading: bool = False


class AssetTypeSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label_nl: str
    label_en: str
    serial_prefix: str
    self_install: frozenset[str]
    capacities: frozenset[str]
    slots: tuple[str, ...]
    power_kw: float = 0.0
    specialist_knowledge: bool = False
    kind: str = ""  # what it is at a connection (rules.one_per_connection); "" is a kind of its own


class Rules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    approval_above_amps: int
    approval_above_kw: float
    one_per_connection: frozenset[str] = frozenset()


class Catalog(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    version: str
    rules: Rules
    slots: dict[str, SlotSpec]
    types: dict[str, AssetTypeSpec]

    def self_installable(self, role: str, capacity: str) -> list[str]:
        """The asset types `role` may install themselves at a connection of `capacity` (the rule
        installs.service.insert_draft enforces), for offering them."""
        return [n for n, t in self.types.items() if role in t.self_install and capacity in t.capacities]

    def type_words(self, asset_type: str) -> DataWords:
        """An asset type as a person reads it ('slimme meter (1-fase)'), for a problem's detail; a type the
        catalog does not know reads as its name."""
        spec = self.types.get(asset_type)
        return DataWords(spec.label_nl, spec.label_en) if spec else DataWords(asset_type, asset_type)

    def __post_init__(self) -> None:
        for name, spec in self.types.items():
            unknown = set(spec.slots) - self.slots.keys()
            if unknown:
                raise ValueError(f"asset type {name} names unknown slots {sorted(unknown)}")
            bad = [c for c in spec.capacities if not is_valid_capacity(c)]
            if bad:
                raise ValueError(f"asset type {name} has malformed capacities {bad}")

    def installable(self, role: str, capacity: str) -> tuple[str, ...]:
        """The asset types this role may install itself on a connection of this capacity (what
        create_install accepts), in catalog order."""
        return tuple(
            name for name, spec in self.types.items() if role in spec.self_install and capacity in spec.capacities
        )

    def rivals(self, asset_type: str) -> frozenset[str]:
        """The asset types of which one installed at a connection stands in the way of another asset of
        `asset_type` there (its kind is one a connection holds one of); empty where several may be."""
        kind = self.types[asset_type].kind or asset_type
        if kind not in self.rules.one_per_connection:
            return frozenset()
        return frozenset(name for name, spec in self.types.items() if (spec.kind or name) == kind)

    def needs_approval(self, asset_type: str, capacity: str) -> bool:
        """A human must approve: the connection's current or the asset's power is above the rule."""
        return capacity_amps(capacity) > self.rules.approval_above_amps or (
            self.types[asset_type].power_kw > self.rules.approval_above_kw
        )


def capacity_amps(capacity: str) -> int:
    """'3x25A' -> 25 (amperes per phase)."""
    match = _CAPACITY.fullmatch(capacity)
    if not match:
        raise ValueError(f"malformed capacity {capacity!r}")
    return int(match.group(2))


def is_valid_capacity(capacity: str) -> bool:
    return bool(_CAPACITY.fullmatch(capacity))


@lru_cache(maxsize=1)
def load_catalog(path: Path = CATALOG_PATH) -> Catalog:
    """Parse and check the catalog once."""
    return msgspec.toml.decode(path.read_bytes(), type=Catalog)
