"""The operator service's HTTP API as drills use it: endpoints, staff sessions and API clients."""

from __future__ import annotations

import base64
import ssl
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

IDEMPOTENCY_HEADER = "Idempotency-Key"


class DrillApiError(RuntimeError):
    """The service refused or failed a request the drill needs; the message names the request."""


@dataclass(frozen=True)
class Endpoint:
    """Where the operator API is: ``https://...`` with the appliance CA file, or ``http://`` for local runs."""

    base_url: str
    ca_file: Path | None = None
    timeout: float = 10.0

    def client(self, *, connections: int = 10, timeout: float | None = None) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if self.ca_file is not None:
            if not self.ca_file.is_file():
                raise DrillApiError(f"CA file {self.ca_file} not found; pass the appliance CA certificate")
            verify = ssl.create_default_context(cafile=str(self.ca_file))
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.Client(base_url=self.base_url.rstrip("/"), verify=verify, limits=limits,
                            timeout=timeout if timeout is not None else self.timeout)


@dataclass(frozen=True)
class StaffCredentials:
    login: str
    password: str


@dataclass(frozen=True)
class ClientCredentials:
    """An API client of an integration (HTTP Basic ``client_id:client_secret``)."""

    client_id: str
    client_secret: str

    @property
    def actor(self) -> str:
        """How the service's event log names this client."""
        return f"client:{self.client_id}"

    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode("ascii")
        return {"Authorization": f"Basic {token}"}


@dataclass(frozen=True)
class StaffSession:
    credentials: StaffCredentials  # the password in force after the login (changed if it was temporary)
    headers: dict[str, str]


def new_password() -> str:
    """A password that meets the service's policy (length and character classes)."""
    return f"Drill-{uuid.uuid4().hex}"


def new_key() -> str:
    return str(uuid.uuid4())


def describe(response: httpx.Response) -> str:
    """``METHOD path -> status CODE: message`` from the service's error body, for error messages."""
    code = message = ""
    try:
        body = response.json()
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            code, message = str(error.get("code", "")), str(error.get("message", ""))
    except ValueError:
        message = response.text[:200]
    request = response.request
    return f"{request.method} {request.url.path} -> {response.status_code} {code}: {message}".rstrip(": ")


def error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return str(error["code"]) if isinstance(error, dict) and "code" in error else None


def staff_session(http: httpx.Client, credentials: StaffCredentials, *, replacement: str | None = None) -> StaffSession:
    """Log in; a temporary password (``must_change_password``) is changed to ``replacement`` (or a new one)."""
    response = http.post("/api/auth/login", json={"login": credentials.login, "password": credentials.password})
    if response.status_code != 200:
        raise DrillApiError(f"staff login as {credentials.login} failed ({describe(response)}); check the login "
                            "and password, or reset it with `oson-operator staff reset-password`")
    body = response.json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    if not body.get("must_change_password"):
        return StaffSession(credentials, headers)
    password = replacement or new_password()
    changed = http.post("/api/auth/password", headers=headers,
                        json={"current_password": credentials.password, "new_password": password})
    if changed.status_code != 200:
        raise DrillApiError(f"changing the temporary password of {credentials.login} failed ({describe(changed)})")
    return StaffSession(StaffCredentials(credentials.login, password), headers)


def post_command(http: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """A state-changing request with a fresh idempotency key; its JSON answer, or DrillApiError."""
    response = http.post(path, json=body, headers={**headers, IDEMPOTENCY_HEADER: new_key()})
    if response.status_code not in (200, 201):
        raise DrillApiError(f"{describe(response)}")
    return dict(response.json())


def get_json(http: httpx.Client, path: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = http.get(path, headers=headers, params={k: v for k, v in params.items() if v is not None})
    if response.status_code != 200:
        raise DrillApiError(describe(response))
    return dict(response.json())
