"""Routes: electronic document exchange with counterparties (§14.1(10), §VII)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/documents", tags=["documents"])
