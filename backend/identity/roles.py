"""Where a token carries its role: a configurable claim path and the provider's role names mapped to ours.

Keycloak puts realm roles in `realm_access.roles`, Entra app roles in `roles`, our development tokens a
single `role`; a claim may be one name or a list of names. A principal has exactly one role, so a token
naming none of ours, or two different ones, has no role: guessing which one was meant would grant too
much or too little."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.principal import Role

_ROLES = {r.value: r for r in Role}


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`realm_access.roles`), or None where any step is missing."""
    value: Any = claims
    for step in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def role_of(claims: Mapping[str, Any], path: str, mapping: Mapping[str, str]) -> Role | None:
    """The one role of ours the claim at `path` names (through `mapping` when one is configured)."""
    value = claim_at(claims, path)
    names = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    # With a mapping only mapped names count: a provider's own "admin" role is not ours by accident.
    ours = {mapping.get(n) if mapping else n for n in names if isinstance(n, str)}
    roles = {_ROLES[name] for name in ours if name in _ROLES}
    return roles.pop() if len(roles) == 1 else None
