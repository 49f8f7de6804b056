"""The register of written claims (§XVIII): received by post, e-mail or in person (§18.5), answered in
writing within one month (§18.6), monitored to resolution (§18.7). Phone calls and the feedback form are
not claims (§18.4), so they have no channel here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from oson_operator.domain.case_deadlines import deadline_view, dispute_due
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import Conflict, NotFound, Refusal
from oson_operator.service.transaction import Command, Outcome, execute
from oson_operator.storage import disputes as store
from oson_operator.storage.disputes import DisputeRow

NEXT_STATUSES = {"registered": {"in_progress", "redirected", "answered"},
                 "in_progress": {"redirected", "answered"}, "redirected": {"in_progress", "answered"},
                 "answered": set()}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def dispute_view(row: DisputeRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "claimant_name": row.claimant_name, "participant_id": row.participant_id,
        "contact": row.contact, "channel": row.channel, "subject": row.subject, "claim": row.claim,
        "operation_id": row.operation_id, "received_at": _iso(row.received_at), "status": row.status,
        "answer": row.answer, "answered_at": _iso(row.answered_at), "answered_by": row.answered_by,
        "recorded_at": _iso(row.recorded_at), "recorded_by": row.recorded_by,
        "deadline": deadline_view(row.due_at, row.answered_at, now),
    }


class Disputes:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def register(self, command: Command, fields: dict[str, Any]) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            received: datetime = fields.get("received_at") or now
            if received > now + timedelta(minutes=5):
                raise Refusal("DISPUTE_RECEIVED_IN_FUTURE")
            for table, key in (("participant", "participant_id"), ("operation", "operation_id")):
                if fields.get(key) and not store.exists(conn, table, fields[key]):
                    raise Refusal(f"DISPUTE_{table.upper()}_UNKNOWN", params={"id": fields[key]})
            row = store.insert_dispute(
                conn, claimant_name=fields["claimant_name"], participant_id=fields.get("participant_id"),
                contact=fields["contact"], channel=fields["channel"], subject=fields["subject"],
                claim=fields["claim"], operation_id=fields.get("operation_id"), received_at=received,
                due_at=dispute_due(received), recorded_at=now, recorded_by=command.principal.actor)
            store.add_step(conn, row.id, "register", "registered", None, now, command.principal.actor)
            return Outcome(201, {"dispute": dispute_view(row, now)}, "dispute", row.id)
        return execute(self.engine, command, work)

    def change(self, command: Command, dispute_id: str, status: str, note: str, answer: str | None) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            row = store.get_dispute(conn, dispute_id, lock=True)
            if row is None:
                raise NotFound("DISPUTE_NOT_FOUND", params={"dispute_id": dispute_id})
            if status not in NEXT_STATUSES[row.status]:
                raise Conflict("DISPUTE_STATUS", params={"current": row.status, "target": status})
            if status == "answered":
                if not answer:
                    raise Refusal("DISPUTE_ANSWER_REQUIRED")
                store.set_status(conn, dispute_id, status, answer=answer, answered_at=now,
                                 answered_by=command.principal.actor)
            else:
                store.set_status(conn, dispute_id, status)
            store.add_step(conn, dispute_id, status, status, note, now, command.principal.actor)
            updated = store.get_dispute(conn, dispute_id)
            assert updated is not None
            return Outcome(200, {"dispute": dispute_view(updated, now)}, "dispute", dispute_id)
        return execute(self.engine, command, work)
