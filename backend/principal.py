"""Who is calling: a subject and a role. Plain data, shared by every domain."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(enum.StrEnum):
    CUSTOMER = "customer"
    INSTALLER = "installer"
    SPECIALIST = "specialist"
    ADMIN = "admin"
    SYSTEM = "system"  # another system of the operator (head-end, charger back office): /integrations only


@dataclass(frozen=True, slots=True)
class Principal:
    """The token's subject and role; every query is scoped by it."""

    subject: str
    role: Role
    # The token's `email` claim, unless its `email_verified` says false: where a customer's e-mail goes
    # until they set an address themselves (backend/notifications).
    email: str | None = None
