"""Response schemas of the operator API (published in /openapi.json)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class LiveResponse(BaseModel):
    status: Literal["ok"] = "ok"


class DatabaseHealth(BaseModel):
    reachable: bool = Field(description="a connection was made and the server answered")
    role: Literal["primary", "standby"] | None = Field(None, description="role of the server reached")
    server: str | None = Field(None, description="inet_server_addr():port of the server reached")
    schema_version: str | None = Field(None, description="schema version recorded in oson.app_meta")
    error: str | None = Field(None, description="error class when not healthy")
    detail: str | None = Field(None, description="first line of the error, with what to do next")


class HealthResponse(BaseModel):
    status: Literal["ok", "error"]
    version: str = Field(description="version of the oson-operator package")
    database: DatabaseHealth
