"""Routes: search, sort and saved queries over every list (§14.1(4), §14.1(5))."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/search", tags=["search"])
