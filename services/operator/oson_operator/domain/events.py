"""The content of one event record (§14.1(11)): start, user, record id, end, result, and more."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class EventDraft:
    """One event, before it is chained and stored.

    ``result`` is ``ok``, ``refused:<CODE>``, ``denied``, ``failed``, ``error`` or ``unknown``.
    ``actor`` is ``staff:<login>``, ``client:<client id>`` or ``anonymous``.
    Timestamps are timezone-aware (UTC).
    """

    action: str  # e.g. "payment.create", "auth.login", "auth.login_failed", "http.POST /api/..."
    actor: str
    result: str
    started_at: datetime
    ended_at: datetime
    record_type: str | None = None  # e.g. "operation", "wallet", "participant", "staff_user"
    record_id: str | None = None
    source_address: str | None = None
    request_id: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)  # JSON-serialisable
