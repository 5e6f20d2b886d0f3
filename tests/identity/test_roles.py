"""The role claim path and the provider's role names: one role of ours, or none."""

from __future__ import annotations

from typing import Any

import pytest

from backend.identity.roles import claim_at, role_of
from backend.principal import Role

KEYCLOAK = {"realm_access": {"roles": ["offline_access", "default-roles-grid", "specialist"]}}
ENTRA = {"roles": ["Selfinstall.Specialist"]}
ENTRA_MAP = {"Selfinstall.Specialist": "specialist", "Selfinstall.Admin": "admin"}


class TestClaimAt:
    def test_follows_a_dotted_path(self) -> None:
        assert claim_at(KEYCLOAK, "realm_access.roles") == KEYCLOAK["realm_access"]["roles"]

    @pytest.mark.parametrize("path", ["realm_access.missing", "missing.roles", "realm_access.roles.deeper"])
    def test_a_missing_step_is_none(self, path: str) -> None:
        assert claim_at(KEYCLOAK, path) is None


class TestRoleOf:
    def test_a_single_name(self) -> None:
        assert role_of({"role": "customer"}, "role", {}) is Role.CUSTOMER

    def test_keycloak_realm_roles_by_our_names(self) -> None:
        assert role_of(KEYCLOAK, "realm_access.roles", {}) is Role.SPECIALIST

    def test_entra_app_roles_through_the_mapping(self) -> None:
        assert role_of(ENTRA, "roles", ENTRA_MAP) is Role.SPECIALIST

    def test_several_provider_roles_mapping_to_one_of_ours(self) -> None:
        claims = {"roles": ["grid-reviewer", "grid-senior-reviewer"]}
        assert role_of(claims, "roles", {"grid-reviewer": "specialist", "grid-senior-reviewer": "specialist"}) is (
            Role.SPECIALIST
        )

    def test_with_a_mapping_our_own_names_do_not_count(self) -> None:
        """A provider's own `admin` role must not become ours by accident once names are mapped."""
        assert role_of({"roles": ["admin", "Selfinstall.Specialist"]}, "roles", ENTRA_MAP) is Role.SPECIALIST
        assert role_of({"roles": ["admin"]}, "roles", ENTRA_MAP) is None

    @pytest.mark.parametrize(
        "claims",
        [
            {"roles": ["customer", "admin"]},  # two of ours: which was meant cannot be told
            {"roles": []},
            {"roles": ["offline_access"]},
            {"roles": [1, None, {"name": "admin"}]},
            {"roles": {"admin": True}},
            {"roles": 7},
            {},
        ],
    )
    def test_no_single_role_is_none(self, claims: dict[str, Any]) -> None:
        assert role_of(claims, "roles", {}) is None
