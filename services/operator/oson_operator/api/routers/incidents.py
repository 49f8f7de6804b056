"""Routes: the information-security incident register (§13.5-13.11)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/incidents", tags=["incidents"])
