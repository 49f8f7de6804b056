"""Who is calling: staff roles (§14.1(2): administrator, user, plus a read-only auditor) and API clients."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    ADMIN = "admin"  # manages staff users, API clients and business configuration
    OPERATOR = "operator"  # the "user" level: runs the business operations
    AUDITOR = "auditor"  # reads everything, changes nothing
    INTEGRATION = "integration"  # a partner's software (seed 003): client id + secret


STAFF_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.AUDITOR})

PrincipalKind = Literal["staff", "api_client"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``actor`` is what the event log records as the user."""

    kind: PrincipalKind
    name: str  # staff login, or API client id
    role: Role
    session_id: str | None = None

    @property
    def actor(self) -> str:
        return f"staff:{self.name}" if self.kind == "staff" else f"client:{self.name}"
