"""Routes: the register of written claims (§XVIII)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/disputes", tags=["disputes"])
