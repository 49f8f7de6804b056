"""Per-request facts the service layer records: request id, start time, source address, language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from oson_operator.domain.messages import Language


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    started_at: datetime
    source_address: str | None
    language: Language
