"""Routes: accounting journals, full or for dates (§14.1(7))."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/journals", tags=["journals"])
