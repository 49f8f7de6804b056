"""AML/CFT (§XVI): the terrorist list, screening, freezes, "under control", suspicious-transaction reports.

- A list import (§16.2.6) replaces the list in force and re-screens every participant.
- A participant is screened on registration too, and operations of a period can be screened by their
  parties' holders.
- A match freezes the participant's wallets at once and without notice (§16.2.7): debits are refused
  with ``WALLET_FROZEN_AML``, credits still come in. A case is opened and a suspicious-transaction
  report (STR) is queued, due by the end of the first working day after detection (§16.2.5).
- A suspicious wallet can be put "under control" (§16.3): debits stop until the participant is
  contacted; the release records who, when, why, and how the person was identified (§16.4).
Every step is appended to the case's history and recorded as an event in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from oson_operator.domain import aml_lists
from oson_operator.domain.case_deadlines import deadline_view, str_due
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import Conflict, DomainError, NotFound, Refusal
from oson_operator.domain.events import EventDraft
from oson_operator.service.transaction import Command, Outcome, execute
from oson_operator.storage import aml as store
from oson_operator.storage.aml import CaseRow, EntryRow, Person, ReportRow
from oson_operator.storage.events import append_event


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def case_view(row: CaseRow) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "participant_id": row.participant_id,
        "participant_name": row.participant_name, "kind": row.kind, "status": row.status,
        "freezes_debits": row.status in store.IN_FORCE, "list_id": row.list_id, "list_entry_id": row.list_entry_id,
        "operation_id": row.operation_id, "details": row.details, "opened_at": _iso(row.opened_at),
        "opened_by": row.opened_by, "released_at": _iso(row.released_at), "released_by": row.released_by,
        "release_reason": row.release_reason,
    }


def report_view(row: ReportRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "case_id": row.case_id, "operation_id": row.operation_id,
        "reason": row.reason, "detected_at": _iso(row.detected_at), "status": row.status,
        "sent_at": _iso(row.sent_at), "sent_by": row.sent_by, "reference": row.reference,
        "deadline": deadline_view(row.due_at, row.sent_at, now),
    }


def _match(entries_by_key: dict[str, list[EntryRow]], entries_by_iin: dict[str, list[EntryRow]],
           person: Person) -> tuple[EntryRow, str] | None:
    candidates = entries_by_iin.get(person.iin_bin, []) + entries_by_key.get(aml_lists.name_key(person.name), [])
    for entry in candidates:
        how = aml_lists.matches(entry.birth_date, entry.iin_bin, entry.name_key, name=person.name,
                                iin_bin=person.iin_bin, birth_date=person.birth_date)
        if how is not None:
            return entry, how
    return None


class Screening:
    """Opens the freeze case and the STR for a match; used by imports, registrations and operation checks."""

    def __init__(self, conn: Connection, command: Command, now: datetime, holidays: Collection[date]) -> None:
        self.conn = conn
        self.command = command
        self.now = now
        self.holidays = holidays

    def event(self, action: str, case_id: str, details: dict[str, Any]) -> None:
        context = self.command.context
        append_event(self.conn, EventDraft(
            action=action, actor=self.command.principal.actor, result="ok", started_at=context.started_at,
            ended_at=max(self.now, context.started_at), record_type="aml_case", record_id=case_id,
            source_address=context.source_address, request_id=context.request_id, details=details))

    def freeze(self, person: Person, list_id: str, entry: EntryRow, how: str,
               operation_id: str | None = None) -> CaseRow | None:
        """A frozen case for ``person``; None when one is in force already, or when a release cleared this
        person against the same entry (a false positive stays cleared until the entry itself changes)."""
        entry_key = f"{entry.name_key}|{_iso(entry.birth_date) or ''}|{entry.iin_bin or ''}"
        if store.case_in_force(self.conn, person.id) is not None or store.cleared(self.conn, person.id, entry_key):
            return None
        details = {"matched_by": how, "entry_key": entry_key, "entry_name": entry.name,
                   "entry_reference": entry.reference,
                   "entry_iin_bin": entry.iin_bin, "entry_birth_date": _iso(entry.birth_date),
                   "participant_name": person.name, "participant_iin_bin": person.iin_bin}
        case = store.insert_case(self.conn, participant_id=person.id, kind="list_match", status="frozen",
                                 list_id=list_id, list_entry_id=entry.id, operation_id=operation_id,
                                 details=details, opened_at=self.now, opened_by=self.command.principal.actor)
        store.add_step(self.conn, case.id, "freeze", None, "frozen", "terrorist list match (§16.2.7)", details,
                       self.now, self.command.principal.actor)
        self.event("aml.freeze", case.id, {"participant_id": person.id, **details})
        self.report(case, operation_id, f"terrorist list match ({how}): {entry.name}")
        return case

    def report(self, case: CaseRow, operation_id: str | None, reason: str) -> ReportRow:
        report = store.queue_report(self.conn, case_id=case.id, operation_id=operation_id, reason=reason,
                                    detected_at=self.now, due_at=str_due(self.now, self.holidays))
        store.add_step(self.conn, case.id, "report_queued", case.status, case.status, reason,
                       {"report_id": report.id, "due_at": report.due_at.isoformat()}, self.now,
                       self.command.principal.actor)
        self.event("aml.report_queued", case.id, {"report_id": report.id, "due_at": report.due_at.isoformat()})
        return report

    def screen(self, person: Person, operation_id: str | None = None) -> CaseRow | None:
        """Screen one person against the list in force (nothing to do without a list)."""
        current = store.current_list(self.conn)
        if current is None:
            return None
        entries = store.candidate_entries(self.conn, current["id"], aml_lists.name_key(person.name), person.iin_bin)
        by_key: dict[str, list[EntryRow]] = {}
        by_iin: dict[str, list[EntryRow]] = {}
        for entry in entries:
            by_key.setdefault(entry.name_key, []).append(entry)
            if entry.iin_bin:
                by_iin.setdefault(entry.iin_bin, []).append(entry)
        found = _match(by_key, by_iin, person)
        return self.freeze(person, current["id"], *found, operation_id=operation_id) if found else None


def screen_new_participant(conn: Connection, command: Command, now: datetime, holidays: Collection[date],
                           participant_id: str) -> None:
    """The registration hook: screen a participant in the registration's own transaction."""
    person = store.participant_person(conn, participant_id)
    if person is not None:
        Screening(conn, command, now, holidays).screen(person)


class Aml:
    def __init__(self, engine: Engine, clock: Clock, holidays: Collection[date]) -> None:
        self.engine = engine
        self.clock = clock
        self.holidays = holidays

    def import_list(self, command: Command, file_format: str, content: bytes, source: str,
                    list_date: date | None) -> Outcome:
        try:
            entries = aml_lists.parse_list(content, file_format)
        except aml_lists.ListFormatError as exc:
            raise DomainError("AML_LIST_INVALID", status=422, params={"reason": str(exc)}) from None

        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            list_id = store.insert_list(conn, source=source, list_date=list_date, file_format=file_format,
                                        file_sha256=hashlib.sha256(content).hexdigest(), entries=entries, now=now,
                                        actor=command.principal.actor)
            stored = store.list_entries(conn, list_id)
            by_key: dict[str, list[EntryRow]] = {}
            by_iin: dict[str, list[EntryRow]] = {}
            for entry in stored:
                by_key.setdefault(entry.name_key, []).append(entry)
                if entry.iin_bin:
                    by_iin.setdefault(entry.iin_bin, []).append(entry)
            # Matches first, cases after: the participants' cursor is done before anything is written.
            found: list[tuple[Person, tuple[EntryRow, str]]] = []
            screened = 0
            for person in store.all_participants(conn):
                screened += 1
                if (match := _match(by_key, by_iin, person)) is not None:
                    found.append((person, match))
            screening = Screening(conn, command, now, self.holidays)
            opened = [case for person, (entry, how) in found
                      if (case := screening.freeze(person, list_id, entry, how)) is not None]
            body = {"list": {"id": list_id, "entries": len(entries), "source": source,
                             "list_date": _iso(list_date), "imported_at": now.isoformat()},
                    "screened_participants": screened, "matches": len(found),
                    "cases_opened": [case_view(case) for case in opened]}
            return Outcome(201, body, "aml_list", list_id)
        return execute(self.engine, command, work)

    def screen_operations(self, command: Command, start: datetime, end: datetime) -> Outcome:
        """Screen the holders of both parties of the completed operations in [start, end)."""
        if start >= end:
            raise DomainError("AML_RANGE_INVALID", status=422)

        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            refuse_if_no_list(conn)
            screening = Screening(conn, command, now, self.holidays)
            pairs = store.holders_of_operations(conn, start, end)
            opened: list[CaseRow] = []
            seen: set[str] = set()
            for operation_id, participant_id in pairs:
                if participant_id in seen:
                    continue
                seen.add(participant_id)
                person = store.participant_person(conn, participant_id)
                if person is not None and (case := screening.screen(person, operation_id)) is not None:
                    opened.append(case)
            body = {"operations": len({op for op, _ in pairs}), "participants": len(seen),
                    "cases_opened": [case_view(case) for case in opened]}
            return Outcome(200, body, "aml_screening", None)
        return execute(self.engine, command, work)

    def open_case(self, command: Command, participant_id: str, operation_id: str | None, reason: str,
                  under_control: bool) -> Outcome:
        """A suspicious operation or wallet (§16.5): an STR is queued; ``under_control`` stops debits (§16.3)."""
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            person = store.participant_person(conn, participant_id)
            if person is None:
                raise NotFound("PARTICIPANT_NOT_FOUND", params={"participant_id": participant_id})
            status = "under_control" if under_control else "open"
            if under_control and store.case_in_force(conn, participant_id) is not None:
                raise Conflict("AML_CASE_IN_FORCE")
            case = store.insert_case(conn, participant_id=participant_id, kind="suspicious", status=status,
                                     list_id=None, list_entry_id=None, operation_id=operation_id,
                                     details={"reason": reason}, opened_at=now, opened_by=command.principal.actor)
            screening = Screening(conn, command, now, self.holidays)
            store.add_step(conn, case.id, "open", None, status, reason, {"operation_id": operation_id}, now,
                           command.principal.actor)
            screening.report(case, operation_id, reason)
            return Outcome(201, {"case": case_view(case)}, "aml_case", case.id)
        return execute(self.engine, command, work)

    def _transition(self, command: Command, case_id: str, action: str, allowed_from: tuple[str, ...], target: str,
                    reason: str, details: dict[str, Any]) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            case = store.get_case(conn, case_id, lock=True)
            if case is None:
                raise NotFound("AML_CASE_NOT_FOUND", params={"case_id": case_id})
            if case.status not in allowed_from:
                raise Conflict("AML_CASE_STATUS", params={"status": case.status})
            if target == "under_control" and store.case_in_force(conn, case.participant_id) not in (None, case_id):
                raise Conflict("AML_CASE_IN_FORCE")
            released = target == "released"
            store.set_case_status(conn, case_id, target, released_at=now if released else None,
                                  released_by=command.principal.actor if released else None,
                                  release_reason=reason if released else None)
            store.add_step(conn, case_id, action, case.status, target, reason, details, now, command.principal.actor)
            Screening(conn, command, now, self.holidays).event(f"aml.{action}", case_id,
                                                               {"from": case.status, "to": target, **details})
            updated = store.get_case(conn, case_id)
            assert updated is not None
            return Outcome(200, {"case": case_view(updated)}, "aml_case", case_id)
        return execute(self.engine, command, work)

    def put_under_control(self, command: Command, case_id: str, reason: str) -> Outcome:
        return self._transition(command, case_id, "under_control", ("open",), "under_control", reason, {})

    def release(self, command: Command, case_id: str, reason: str, identity_evidence: str, channel: str,
                confirmation_reference: str) -> Outcome:
        """§16.4: the participant was identified and confirmed a code sent by SMS or e-mail."""
        details = {"identity_evidence": identity_evidence, "confirmation_channel": channel,
                   "confirmation_reference": confirmation_reference}
        return self._transition(command, case_id, "release", store.IN_FORCE, "released", reason, details)

    def close(self, command: Command, case_id: str, reason: str) -> Outcome:
        return self._transition(command, case_id, "close", ("open",), "closed", reason, {})

    def mark_report_sent(self, command: Command, report_id: str, reference: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            report = store.get_report(conn, report_id, lock=True)
            if report is None:
                raise NotFound("AML_REPORT_NOT_FOUND", params={"report_id": report_id})
            if report.status == "sent":
                raise Conflict("AML_REPORT_ALREADY_SENT")
            store.mark_report_sent(conn, report_id, now, command.principal.actor, reference)
            case = store.get_case(conn, report.case_id)
            assert case is not None
            store.add_step(conn, case.id, "report_sent", case.status, case.status, reference,
                           {"report_id": report_id, "late": now > report.due_at}, now, command.principal.actor)
            updated = store.get_report(conn, report_id)
            assert updated is not None
            return Outcome(200, {"report": report_view(updated, now)}, "aml_report", report_id)
        return execute(self.engine, command, work)


def refuse_if_no_list(conn: Connection) -> None:
    if store.current_list(conn) is None:
        raise Refusal("AML_LIST_MISSING")
