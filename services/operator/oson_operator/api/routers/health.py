"""Liveness and health endpoints, used by systemd deploys, Apache and HAProxy checks."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from oson_operator import __version__
from oson_operator.api.schemas import DatabaseHealth, HealthResponse, LiveResponse
from oson_operator.storage.probe import ProbeResult, probe_database

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/live", response_model=LiveResponse, summary="The process is up (never touches the database)")
async def live() -> LiveResponse:
    return LiveResponse()


@router.get(
    "/health",
    response_model=HealthResponse,
    summary="The database is reachable; reports the role and schema version of the server reached",
    responses={503: {"model": HealthResponse, "description": "database unreachable or not migrated"}},
)
async def health(request: Request) -> JSONResponse:
    state = request.app.state
    try:
        # The probe is blocking (libpq); run it in a thread and bound the wait so health never hangs
        # even if a connection is stuck beyond the driver's own timeouts.
        result = await asyncio.wait_for(
            asyncio.to_thread(probe_database, state.engine), timeout=state.settings.health_timeout_seconds
        )
    except TimeoutError:
        result = ProbeResult(
            reachable=False,
            error="TimeoutError",
            detail=f"no answer within {state.settings.health_timeout_seconds} s",
        )
    body = HealthResponse(
        status="ok" if result.healthy else "error",
        version=__version__,
        database=DatabaseHealth(
            reachable=result.reachable,
            role=result.role,
            server=result.server,
            schema_version=result.schema_version,
            error=result.error,
            detail=result.detail,
        ),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if result.healthy else 503)
