"""Routes: AML/CFT screening, cases and suspicious-transaction reports (§XVI)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/aml", tags=["aml"])
