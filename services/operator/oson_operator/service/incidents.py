"""The information-security incident register (§13.5-13.11): record, classify, plan, report, close.

Every change is one idempotent transaction that also appends a step to the incident's history
(append-only) and an event. Deadlines (24 h response plan, 48 h National Bank card) are computed from
the detection time and the service clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from oson_operator.domain.case_deadlines import (
    WARN_BEFORE,
    deadline_state,
    deadline_view,
    nbk_report_due,
    response_plan_due,
    retain_until,
)
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import Conflict, NotFound, Refusal
from oson_operator.domain.incidents import CATEGORIES, reportable, transition_allowed
from oson_operator.service.transaction import Command, Outcome, execute
from oson_operator.storage import incidents as store
from oson_operator.storage.incidents import IncidentRow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def deadlines(row: IncidentRow, now: datetime) -> dict[str, Any]:
    nbk: dict[str, Any] = {"required": reportable(row.category)}
    if nbk["required"]:
        nbk.update(deadline_view(nbk_report_due(row.detected_at), row.nbk_reported_at, now))
    return {"response_plan": {"required": True,
                              **deadline_view(response_plan_due(row.detected_at), row.response_plan_at, now)},
            "nbk_report": nbk}


def incident_view(row: IncidentRow, now: datetime) -> dict[str, Any]:
    clause, title = CATEGORIES[row.category]
    return {
        "id": row.id, "number": row.number, "title": row.title, "description": row.description,
        "category": row.category, "category_clause": clause, "category_title": title, "status": row.status,
        "affected_assets": row.affected_assets, "detected_at": _iso(row.detected_at),
        "recorded_at": _iso(row.recorded_at), "recorded_by": row.recorded_by,
        "response_plan": row.response_plan, "response_plan_at": _iso(row.response_plan_at),
        "response_plan_by": row.response_plan_by, "nbk_reported_at": _iso(row.nbk_reported_at),
        "nbk_reported_by": row.nbk_reported_by, "nbk_reference": row.nbk_reference, "measures": row.measures,
        "corrective_actions": row.corrective_actions, "retain_until": _iso(row.retain_until),
        "deadlines": deadlines(row, now),
    }


def overdue_items(rows: list[IncidentRow], now: datetime) -> list[dict[str, Any]]:
    """One line per missing response plan or NBK card that is overdue or due within the warning time."""
    items: list[dict[str, Any]] = []
    for row in rows:
        candidates = [("response_plan", response_plan_due(row.detected_at), row.response_plan_at)]
        if reportable(row.category):
            candidates.append(("nbk_report", nbk_report_due(row.detected_at), row.nbk_reported_at))
        for item, due, done in candidates:
            state = deadline_state(due, done, now)
            if state in ("overdue", "due_soon"):
                items.append({"incident_id": row.id, "number": row.number, "title": row.title, "item": item,
                              "due_at": due.isoformat(), "state": state,
                              "overdue_seconds": max(0, int((now - due).total_seconds()))})
    items.sort(key=lambda i: i["due_at"])
    return items


class Incidents:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def _load(self, conn: Connection, incident_id: str) -> IncidentRow:
        row = store.get_incident(conn, incident_id, lock=True)
        if row is None:
            raise NotFound("INCIDENT_NOT_FOUND", params={"incident_id": incident_id})
        return row

    def _answer(self, conn: Connection, incident_id: str, status: int = 200) -> Outcome:
        row = store.get_incident(conn, incident_id)
        assert row is not None
        return Outcome(status, {"incident": incident_view(row, self.clock.now())}, "incident", incident_id)

    def record(self, command: Command, title: str, description: str, category: str, detected_at: datetime | None,
               affected_assets: str | None) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            detected = detected_at or now
            if detected > now + timedelta(minutes=5):
                raise Refusal("INCIDENT_DETECTED_IN_FUTURE")
            row = store.insert_incident(conn, title=title, description=description, category=category,
                                        affected_assets=affected_assets, detected_at=detected, recorded_at=now,
                                        recorded_by=command.principal.actor, retain_until=retain_until(detected))
            store.add_step(conn, row.id, "record", "open", None, {"category": category}, now,
                           command.principal.actor)
            return self._answer(conn, row.id, 201)
        return execute(self.engine, command, work)

    def _change(self, command: Command, incident_id: str, action: str, note: str | None,
                decide: Any) -> Outcome:
        """Lock, let ``decide(row, now)`` return the column changes (or raise), store them and a history step."""
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            row = self._load(conn, incident_id)
            changes: dict[str, Any] = decide(row, now)
            store.update_incident(conn, incident_id, changes)
            details = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()}
            store.add_step(conn, incident_id, action, changes.get("status", row.status), note, details, now,
                           command.principal.actor)
            return self._answer(conn, incident_id)
        return execute(self.engine, command, work)

    def set_response_plan(self, command: Command, incident_id: str, plan: str) -> Outcome:
        """§13.7: the urgent measures to eliminate the incident, its causes and consequences (24 h)."""
        def decide(row: IncidentRow, now: datetime) -> dict[str, Any]:
            if row.status == "closed":
                raise Conflict("INCIDENT_CLOSED")
            changes: dict[str, Any] = {"response_plan": plan, "response_plan_by": command.principal.actor}
            if row.response_plan_at is None:  # the deadline is met by the first plan; later ones revise it
                changes["response_plan_at"] = now
            return changes
        return self._change(command, incident_id, "response_plan", None, decide)

    def report_to_nbk(self, command: Command, incident_id: str, reference: str) -> Outcome:
        """§13.10-13.11: the incident card was sent to the National Bank (its platform's reference)."""
        def decide(row: IncidentRow, now: datetime) -> dict[str, Any]:
            if not reportable(row.category):
                raise Refusal("INCIDENT_NOT_REPORTABLE")
            if row.nbk_reported_at is not None:
                raise Conflict("INCIDENT_ALREADY_REPORTED")
            return {"nbk_reported_at": now, "nbk_reported_by": command.principal.actor, "nbk_reference": reference}
        return self._change(command, incident_id, "nbk_report", reference, decide)

    def classify(self, command: Command, incident_id: str, category: str, note: str) -> Outcome:
        def decide(row: IncidentRow, now: datetime) -> dict[str, Any]:
            if row.category == category:
                raise Conflict("INCIDENT_CATEGORY_UNCHANGED")
            if row.nbk_reported_at is not None and not reportable(category):
                raise Refusal("INCIDENT_ALREADY_REPORTED")
            return {"category": category}
        return self._change(command, incident_id, "classify", note, decide)

    def change_status(self, command: Command, incident_id: str, status: str, note: str,
                      measures: str | None, corrective_actions: str | None) -> Outcome:
        def decide(row: IncidentRow, now: datetime) -> dict[str, Any]:
            if not transition_allowed(row.status, status):
                raise Conflict("INCIDENT_STATUS_BACKWARDS", params={"current": row.status, "target": status})
            if status == "closed":
                if row.response_plan_at is None:
                    raise Refusal("INCIDENT_CLOSE_NEEDS_PLAN")
                if reportable(row.category) and row.nbk_reported_at is None:
                    raise Refusal("INCIDENT_CLOSE_NEEDS_NBK_REPORT")
            changes: dict[str, Any] = {"status": status}
            if measures is not None:
                changes["measures"] = measures
            if corrective_actions is not None:
                changes["corrective_actions"] = corrective_actions
            return changes
        return self._change(command, incident_id, "status", note, decide)

    def overdue(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self.engine.connect() as conn:
            rows = store.pending_deadlines(conn, now + WARN_BEFORE)
        return overdue_items(rows, now)
