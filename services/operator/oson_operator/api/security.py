"""Authentication of staff sessions and API clients, and the per-route role declaration.

Every route other than the public ones (live, health, openapi, login) depends on
``require_roles(...)``; the access-matrix test walks the routes and checks the declaration.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from oson_operator.domain.access import Principal, Role
from oson_operator.domain.errors import NotAuthenticated


def require_roles(*roles: Role) -> Callable[[Request], Principal]:
    """A FastAPI dependency admitting only callers with one of ``roles``.

    The returned callable carries ``allowed_roles`` so tests can read the declaration.
    """

    def dependency(request: Request) -> Principal:
        raise NotAuthenticated("NOT_AUTHENTICATED")

    dependency.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
    return dependency
