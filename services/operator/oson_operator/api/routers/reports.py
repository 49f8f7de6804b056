"""Routes: regulator and operations reports (§14.1(6), §14.1(9))."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/reports", tags=["reports"])
