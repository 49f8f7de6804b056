"""The event log's hash chains: canonical bytes of a stored event, and the chain rules (pure).

The database computes ``hash = sha256(prev_hash || canonical)`` in the insert trigger
(``oson.event_canonical``, migration 0002). This module mirrors that canonical form byte for
byte so that the verifier recomputes every hash from the stored fields alone:

    'oson.event.v1' US id US chain US chain_seq US started US ended US recorded
                    US actor US action US record_type US record_id US result
                    US source_address US request_id US details

with US = U+001F, timestamps as integer microseconds since the Unix epoch, and every text field
written as ``-`` (NULL) or ``<number of characters>:<value>`` so that NULL differs from '' and a
value cannot imitate a separator. ``details`` is PostgreSQL's normalized ``jsonb::text``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CANONICAL_VERSION = "oson.event.v1"
CHAINS = 16
GENESIS_HASH = bytes(32)
_SEPARATOR = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``oson.event`` as the verifier reads it (``details`` as ``details::text``)."""

    id: int
    chain: int
    chain_seq: int
    started_at: datetime
    ended_at: datetime
    recorded_at: datetime
    actor: str
    action: str
    record_type: str | None
    record_id: str | None
    result: str
    source_address: str | None
    request_id: str | None
    details_text: str
    prev_hash: bytes
    hash: bytes

    @property
    def where(self) -> str:
        return f"event id {self.id} (chain {self.chain} seq {self.chain_seq})"


def epoch_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    if value.tzinfo is None:
        raise ValueError("stored event timestamps are timezone-aware")
    return (value - _EPOCH) // timedelta(microseconds=1)


def _field(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def canonical_bytes(event: StoredEvent) -> bytes:
    """The bytes the insert trigger hashed for this row (see the module docstring)."""
    parts = [
        CANONICAL_VERSION,
        str(event.id),
        str(event.chain),
        str(event.chain_seq),
        str(epoch_micros(event.started_at)),
        str(epoch_micros(event.ended_at)),
        str(epoch_micros(event.recorded_at)),
        _field(event.actor),
        _field(event.action),
        _field(event.record_type),
        _field(event.record_id),
        _field(event.result),
        _field(event.source_address),
        _field(event.request_id),
        _field(event.details_text),
    ]
    return _SEPARATOR.join(parts).encode("utf-8")


def chain_hash(prev_hash: bytes, event: StoredEvent) -> bytes:
    """``sha256(prev_hash || canonical)``: the hash the row must carry."""
    return hashlib.sha256(prev_hash + canonical_bytes(event)).digest()
