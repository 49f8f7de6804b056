"""The business checks of a restored database, each a ``Check`` (name, ok, detail, figures).

Every check reads the same read-only REPEATABLE READ snapshot (``run_restore_check``), so the
figures agree with each other however the database was left.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from oson_operator.domain.money import format_amount
from oson_operator.migrate import SCRIPT_LOCATION
from oson_operator.restore.connect import first_line, is_unavailable, unavailable
from oson_operator.restore.expected import ExpectedOperations
from oson_operator.storage import restore as queries
from oson_operator.storage.events import verify_events
from oson_operator.storage.ledger import LedgerCheck, check_ledger, system_balances

SCHEMA_HEAD, TRIAL_BALANCE, WALLET_BALANCES, EVENT_LOG, EXPECTED_OPERATIONS = (
    "schema_head", "trial_balance", "wallet_balances", "event_log", "expected_operations")
# How many offending records a check lists (the counts are always complete).
SHOW_WALLETS = 10
SHOW_IDS = 20
SHOW_PROBLEMS = 5


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``figures`` are JSON-ready (amounts in tiyn, times in ISO 8601)."""

    name: str
    ok: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "figures": self.figures}


@dataclass(frozen=True)
class RestoreReport:
    checks: list[Check]
    database: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.to_dict() for check in self.checks], "database": self.database,
                "warnings": self.warnings}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _kzt(tiyn: int) -> str:
    return f"{format_amount(tiyn)} KZT"


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration this version of the service ships (what ``upgrade`` would leave)."""
    head = ScriptDirectory(SCRIPT_LOCATION).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {SCRIPT_LOCATION}")
    return head


# --- The checks ------------------------------------------------------------------------------------


def check_schema(conn: Connection) -> Check:
    """The schema is at the head migration this service expects."""
    head = head_revision()
    found = queries.schema_revisions(conn)
    figures: dict[str, Any] = {"expected": head, "schema_version": found.schema_version,
                               "alembic_version": found.alembic_version if found.alembic_readable else None}
    if not found.app_meta_present:
        return Check(SCHEMA_HEAD, False, "schema oson is not there (no oson.app_meta): this is not a restored "
                     "OSON database, or the restore is empty; check the database name in --database-url", figures)
    recorded = {found.schema_version} | ({found.alembic_version} if found.alembic_readable else set())
    if recorded != {head}:
        where = f"oson.app_meta says {found.schema_version}"
        if found.alembic_readable:
            where += f", oson.alembic_version says {found.alembic_version}"
        return Check(SCHEMA_HEAD, False, f"schema not at head {head}: {where}; a backup taken by another "
                     "version of the service restores an older or newer schema: check with the matching "
                     "oson-operator version, or `oson-operator-migrate upgrade` a copy", figures)
    also = " and oson.alembic_version" if found.alembic_readable else ""
    return Check(SCHEMA_HEAD, True, f"at head {head} (oson.app_meta{also})", figures)


def check_balances(conn: Connection) -> list[Check]:
    """Trial balance (every entry sums to zero, per operation too) and each wallet = its entries."""
    ledger = check_ledger(conn)
    return [_trial_balance(ledger, system_balances(conn)), _wallet_balances(ledger)]


def _trial_balance(ledger: LedgerCheck, systems: dict[str, int]) -> Check:
    wallets_total = ledger.trial_balance - sum(systems.values())
    figures: dict[str, Any] = {
        "trial_balance": ledger.trial_balance, "entries": ledger.entries, "wallets_total": wallets_total,
        "system_balances": systems, "unbalanced_operations": len(ledger.unbalanced_operations),
        "unbalanced_operation_ids": ledger.unbalanced_operations[:SHOW_IDS],
    }
    balances = ", ".join(f"{kind} {_kzt(total)}" for kind, total in sorted(systems.items()))
    if ledger.trial_balance == 0 and not ledger.unbalanced_operations:
        return Check(TRIAL_BALANCE, True, f"{ledger.entries} entries sum to 0 (wallets {_kzt(wallets_total)}; "
                     f"{balances})", figures)
    problems = []
    if ledger.trial_balance != 0:
        problems.append(f"the {ledger.entries} entries sum to {_kzt(ledger.trial_balance)}, not 0")
    if ledger.unbalanced_operations:
        more = "+" if len(ledger.unbalanced_operations) >= 100 else ""
        problems.append(f"{len(ledger.unbalanced_operations)}{more} operations do not balance, the first "
                        f"{ledger.unbalanced_operations[0]}")
    return Check(TRIAL_BALANCE, False, "; ".join(problems) + ": ledger entries were changed, lost or added "
                 "outside the service", figures)


def _wallet_balances(ledger: LedgerCheck) -> Check:
    mismatches = sorted(ledger.wallet_mismatches, key=lambda m: m["wallet_id"])
    figures: dict[str, Any] = {"wallets": ledger.wallets_checked, "mismatches": len(mismatches),
                               "first_mismatches": mismatches[:SHOW_WALLETS]}
    if not mismatches:
        return Check(WALLET_BALANCES, True, f"{ledger.wallets_checked} wallets equal the sum of their entries",
                     figures)
    shown = "; ".join(f"wallet {m['wallet_id']} stores {_kzt(m['balance'])}, its entries sum to "
                      f"{_kzt(m['entries_sum'])}" for m in mismatches[:3])
    more = f"; and {len(mismatches) - 3} more" if len(mismatches) > 3 else ""
    return Check(WALLET_BALANCES, False, f"{len(mismatches)} of {ledger.wallets_checked} wallets differ from "
                 f"their entries: {shown}{more}", figures)


def check_event_log(conn: Connection, public_keys: Sequence[Ed25519PublicKey]) -> Check:
    """The hash chains verify, and so does every checkpoint signature, up to the last checkpoint."""
    report = verify_events(conn, list(public_keys))
    latest = report.latest_checkpoint
    after = queries.events_after(conn, latest.heads if latest is not None else {})
    figures: dict[str, Any] = {
        "events": report.events_checked, "chains": sum(1 for chain in report.chains if chain.events),
        "checkpoints": report.checkpoints_checked, "signatures_checked": report.signatures_checked,
        "latest_checkpoint": None if latest is None else {
            "id": latest.id, "created_at": latest.created_at.isoformat(), "key_id": latest.key_id},
        "events_after_checkpoint": after.count, "last_event_after_checkpoint_at": _iso(after.last_recorded_at),
        "problems": len(report.problems), "first_problems": [p.to_dict() for p in report.problems[:SHOW_PROBLEMS]],
    }
    chains = f"{report.events_checked} events in {figures['chains']} chains"
    if not report.ok:
        first = report.problems[0].message
        more = f" (and {len(report.problems) - 1} more problems)" if len(report.problems) > 1 else ""
        return Check(EVENT_LOG, False, f"event log damaged ({chains}): {first}{more}", figures)
    unsigned = f"{after.count} events after it (hash-checked, not yet signed)"
    if latest is None:
        if report.events_checked:
            return Check(EVENT_LOG, False, f"{chains} hash-check but no signed checkpoint covers them: nothing "
                         "proves the chains were not rewritten; the service writes checkpoints when "
                         "OSON_EVENT_SIGNING_KEY_FILE is set (`oson-operator events checkpoint` writes one now)",
                         figures)
        return Check(EVENT_LOG, True, "the event log is empty and there is no checkpoint", figures)
    return Check(EVENT_LOG, True, f"{chains} intact; last signed checkpoint {latest.id} of "
                 f"{latest.created_at.isoformat()} (key {latest.key_id}); {unsigned}", figures)


def check_expected_operations(conn: Connection, expected: ExpectedOperations) -> Check:
    """Every operation the load generator saw acknowledged exists and is completed."""
    statuses = queries.operation_statuses(conn, expected.ids)
    missing = [operation_id for operation_id in expected.ids if operation_id not in statuses]
    not_completed = [{"operation_id": operation_id, "status": statuses[operation_id]}
                     for operation_id in expected.ids if statuses.get(operation_id, "completed") != "completed"]
    duplicates = sorted(expected.duplicates.items())
    figures: dict[str, Any] = {
        "file": str(expected.source), "format": expected.format, "records": expected.records,
        "expected": len(expected.ids), "acknowledged_until": _iso(expected.until),
        "excluded_after_until": expected.later,
        "completed": len(expected.ids) - len(missing) - len(not_completed),
        "missing": len(missing), "first_missing": missing[:SHOW_IDS],
        "not_completed": len(not_completed), "first_not_completed": not_completed[:SHOW_IDS],
        "duplicates_in_file": len(duplicates),
        "first_duplicates": [{"operation_id": i, "times": n} for i, n in duplicates[:SHOW_IDS]],
    }
    scope = f"{len(expected.ids)} operations expected"
    if expected.until is not None:
        scope += f" (acknowledged at or before {expected.until.isoformat()}; {expected.later} later ones left out)"
    notes = (f"; {len(duplicates)} ids are written more than once in the file (e.g. {duplicates[0][0]}, "
             f"{duplicates[0][1]} times)" if duplicates else "")
    if not missing and not not_completed:
        return Check(EXPECTED_OPERATIONS, True, f"{scope}: all present and completed{notes}", figures)
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing, the first {', '.join(missing[:3])}: the backup or the restore "
                        "lost acknowledged operations (for a point-in-time restore, pass the recovery target as "
                        "--expect-after)")
    if not_completed:
        first = not_completed[0]
        problems.append(f"{len(not_completed)} recorded as not completed although the client saw them "
                        f"acknowledged, the first {first['operation_id']} ({first['status']})")
    return Check(EXPECTED_OPERATIONS, False, f"{scope}: {'; '.join(problems)}{notes}", figures)


# --- Running them ----------------------------------------------------------------------------------


def _guarded(conn: Connection, names: Sequence[str], run: Callable[[], list[Check]]) -> list[Check]:
    """Run checks in a savepoint; a query error fails them (with the error) but not the others."""
    try:
        with conn.begin_nested():
            return run()
    except DBAPIError as exc:
        if is_unavailable(exc):
            raise
        detail = f"the check could not run: {first_line(exc)}"
        return [Check(name, False, detail, {"error": type(exc.orig or exc).__name__}) for name in names]


def _database_facts(conn: Connection) -> dict[str, Any]:
    server = queries.server_facts(conn)
    facts: dict[str, Any] = {
        "name": server.database, "user": server.user, "server_version": server.server_version,
        "size_bytes": server.size_bytes, "in_recovery": server.in_recovery,
        "operations": None, "last_operation_at": None, "events": None, "last_event_at": None,
    }
    try:
        with conn.begin_nested():
            activity = queries.activity_facts(conn)
    except DBAPIError as exc:
        if is_unavailable(exc):
            raise
        return facts
    facts.update(operations=activity.operations, last_operation_at=_iso(activity.last_operation_at),
                 events=activity.events, last_event_at=_iso(activity.last_event_at))
    return facts


def run_checks(conn: Connection, *, public_keys: Sequence[Ed25519PublicKey],
               expected: ExpectedOperations | None) -> RestoreReport:
    """Every check on ``conn`` (already in the read-only snapshot); the expected operations if given."""
    database = _database_facts(conn)
    checks = _guarded(conn, [SCHEMA_HEAD], lambda: [check_schema(conn)])
    checks += _guarded(conn, [TRIAL_BALANCE, WALLET_BALANCES], lambda: check_balances(conn))
    checks += _guarded(conn, [EVENT_LOG], lambda: [check_event_log(conn, public_keys)])
    if expected is not None:
        checks += _guarded(conn, [EXPECTED_OPERATIONS], lambda: [check_expected_operations(conn, expected)])
    database["checked_at"] = datetime.now(UTC).isoformat()
    return RestoreReport(checks, database, list(expected.warnings) if expected is not None else [])


def run_restore_check(engine: Engine, *, public_keys: Sequence[Ed25519PublicKey],
                      expected: ExpectedOperations | None, where: str) -> RestoreReport:
    """Connect, open one read-only REPEATABLE READ transaction, run every check, roll back.

    Raises RestoreCheckUnavailable (its message says what to do) when the database cannot be
    reached, refuses the login, or the login may not read the schema.
    """
    try:
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin() as transaction:
                conn.execute(text("SET TRANSACTION READ ONLY"))
                conn.execute(text("SET LOCAL statement_timeout = 0"))
                report = run_checks(conn, public_keys=public_keys, expected=expected)
                transaction.rollback()
                return report
    except DBAPIError as exc:
        raise unavailable(exc, where) from None
