"""SQL of the information-security incident register and its append-only history (migration 0006)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from oson_operator.storage.where import Where

UPDATABLE = frozenset({"category", "status", "response_plan", "response_plan_at", "response_plan_by",
                       "nbk_reported_at", "nbk_reported_by", "nbk_reference", "measures", "corrective_actions"})


@dataclass(frozen=True)
class IncidentRow:
    id: str
    number: int
    title: str
    description: str
    category: str
    status: str
    affected_assets: str | None
    detected_at: datetime
    recorded_at: datetime
    recorded_by: str
    response_plan: str | None
    response_plan_at: datetime | None
    response_plan_by: str | None
    nbk_reported_at: datetime | None
    nbk_reported_by: str | None
    nbk_reference: str | None
    measures: str | None
    corrective_actions: str | None
    retain_until: datetime


_COLUMNS = ("id::text, number, title, description, category, status, affected_assets, detected_at, recorded_at, "
            "recorded_by, response_plan, response_plan_at, response_plan_by, nbk_reported_at, nbk_reported_by, "
            "nbk_reference, measures, corrective_actions, retain_until")


def insert_incident(conn: Connection, **values: Any) -> IncidentRow:
    row = conn.execute(text(f"""
        INSERT INTO oson.incident (title, description, category, status, affected_assets, detected_at, recorded_at,
            recorded_by, retain_until)
        VALUES (:title, :description, :category, 'open', :affected_assets, :detected_at, :recorded_at, :recorded_by,
            :retain_until)
        RETURNING {_COLUMNS}"""), values).one()
    return IncidentRow(*row)


def get_incident(conn: Connection, incident_id: str, *, lock: bool = False) -> IncidentRow | None:
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM oson.incident WHERE id = CAST(:id AS uuid)"
                            + (" FOR UPDATE" if lock else "")), {"id": incident_id}).first()
    return IncidentRow(*row) if row else None


def update_incident(conn: Connection, incident_id: str, changes: dict[str, Any]) -> None:
    if not changes or not set(changes) <= UPDATABLE:
        raise ValueError(sorted(set(changes) - UPDATABLE))
    assignments = ", ".join(f"{column} = :{column}" for column in changes)
    conn.execute(text(f"UPDATE oson.incident SET {assignments} WHERE id = CAST(:id AS uuid)"),
                 {**changes, "id": incident_id})


def add_step(conn: Connection, incident_id: str, action: str, status: str, note: str | None,
             details: dict[str, Any], at: datetime, by: str) -> None:
    conn.execute(text(
        "INSERT INTO oson.incident_step (incident_id, action, status, note, details, at, by) "
        "VALUES (CAST(:id AS uuid), :action, :status, :note, CAST(:details AS jsonb), :at, :by)"
    ), {"id": incident_id, "action": action, "status": status, "note": note, "details": json.dumps(details),
        "at": at, "by": by})


def steps(conn: Connection, incident_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT action, status, note, details, at, by FROM oson.incident_step "
        "WHERE incident_id = CAST(:id AS uuid) ORDER BY id"), {"id": incident_id}).mappings().all()
    return [{**row, "at": row["at"].isoformat()} for row in rows]


def list_incidents(conn: Connection, *, status: str | None, category: str | None, detected_from: datetime | None,
                   detected_to: datetime | None, limit: int, offset: int) -> list[IncidentRow]:
    where = Where().equal("status", status).equal("category", category)
    where.time_range("detected_at", detected_from, detected_to)
    rows = conn.execute(text(f"SELECT {_COLUMNS} FROM oson.incident WHERE {where.sql} "
                             "ORDER BY detected_at DESC, number DESC LIMIT :limit OFFSET :offset"),
                        where.page(limit, offset)).all()
    return [IncidentRow(*row) for row in rows]


def pending_deadlines(conn: Connection, before: datetime) -> list[IncidentRow]:
    """Incidents whose response plan (24 h) or reportable NBK card (48 h) is still missing and due before ``before``."""
    rows = conn.execute(text(f"""
        SELECT {_COLUMNS} FROM oson.incident
        WHERE (response_plan_at IS NULL AND detected_at + interval '24 hours' <= :before)
           OR (nbk_reported_at IS NULL AND category <> 'other' AND detected_at + interval '48 hours' <= :before)
        ORDER BY detected_at, number"""), {"before": before}).all()
    return [IncidentRow(*row) for row in rows]
