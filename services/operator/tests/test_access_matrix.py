"""The access matrix: every route of the application declares its roles, and the declaration holds.

The test walks ALL routes of the built application, so routes added later are covered without
touching this file. A route is either public (the allow-list below) or depends on a
``require_roles(...)`` dependency (recognised by its ``allowed_roles``). Each protected route is then
called by an anonymous caller (must get 401), by every role it does not declare (403), and by every
role it declares (anything but 401/403: 404, 409 or 422 are expected with dummy ids and empty bodies).
One session per role serves all calls; logout routes run last so the sessions live to the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import fastapi.routing
from access_support import access_client, api_client_headers, make_api_client, staff_headers, unique_login
from conftest import PostgresServer
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant

from oson_operator.domain.access import Role

PUBLIC = {"/api/live", "/api/health", "/openapi.json", "/api/auth/login"}
DUMMY_ID = "00000000-0000-0000-0000-000000000000"
ALL_ROLES = tuple(Role)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    allowed: frozenset[Role] | None  # None: no require_roles dependency found

    def url(self) -> str:
        return re.sub(r"\{(\w+)(:(\w+))?\}", lambda m: "0" if m.group(3) == "int" else DUMMY_ID, self.path)


def _declared_roles(dependant: Dependant | None) -> frozenset[Role] | None:
    """The roles of the route's require_roles dependencies (intersected when there are several)."""
    found: list[frozenset[Role]] = []

    def walk(node: Dependant) -> None:
        for sub in node.dependencies:
            roles = getattr(sub.call, "allowed_roles", None)
            if roles is not None:
                found.append(frozenset(roles))
            walk(sub)

    if dependant is not None:
        walk(dependant)
    if not found:
        return None
    result = found[0]
    for roles in found[1:]:
        result &= roles
    return result


def _routes(app: FastAPI) -> Iterator[object]:
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from (iterate(app.routes) if iterate is not None else app.routes)


def endpoints(app: FastAPI) -> list[Endpoint]:
    found: list[Endpoint] = []
    for route in _routes(app):
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None) or set()
        if path is None:
            continue
        allowed = _declared_roles(getattr(route, "dependant", None))
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            found.append(Endpoint(method, path, allowed))
    # Logout ends the session used for every other call: keep it for the end.
    return sorted(found, key=lambda e: e.path.endswith("/logout"))


def test_every_route_is_public_or_declares_its_roles(running_pg: PostgresServer) -> None:
    with access_client(running_pg.settings()) as client:
        found = endpoints(client.app)  # type: ignore[arg-type]
    assert {e.path for e in found} >= PUBLIC | {"/api/auth/me", "/api/staff", "/api/api-clients"}
    undeclared = [f"{e.method} {e.path}" for e in found if e.allowed is None and e.path not in PUBLIC]
    assert undeclared == [], "routes without require_roles(...): add it, or (rarely) extend PUBLIC"
    empty = [f"{e.method} {e.path}" for e in found if e.allowed is not None and not e.allowed]
    assert empty == [], "routes that admit no role at all"
    public_but_declared = [e.path for e in found if e.path in PUBLIC and e.allowed]
    assert public_but_declared == []


def test_each_role_gets_exactly_what_the_route_declares(running_pg: PostgresServer) -> None:
    settings = running_pg.settings()
    with access_client(settings) as client:
        callers: dict[Role | None, dict[str, str]] = {None: {}}
        for role in (Role.ADMIN, Role.OPERATOR, Role.AUDITOR):
            callers[role] = staff_headers(client, settings, role)
        callers[Role.INTEGRATION] = api_client_headers(*make_api_client(settings, unique_login("matrix")))
        wrong: list[str] = []
        calls = 0
        for endpoint in endpoints(client.app):  # type: ignore[arg-type]
            if endpoint.allowed is None:
                continue
            for role, headers in callers.items():
                kwargs: dict[str, object] = {"headers": headers}
                if endpoint.method in ("POST", "PUT", "PATCH"):
                    kwargs["json"] = {}
                response = client.request(endpoint.method, endpoint.url(), **kwargs)  # type: ignore[arg-type]
                calls += 1
                status = response.status_code
                if role is None:
                    ok = status == 401
                elif role in endpoint.allowed:
                    ok = status not in (401, 403)
                else:
                    ok = status == 403
                if not ok:
                    body = response.text[:200]
                    wrong.append(f"{endpoint.method} {endpoint.path} as {role or 'anonymous'}: {status} {body}")
        assert calls > 0
        assert wrong == [], "\n".join(wrong)
