"""``oson-operator restore-check``: prove a restored database is good with business checks.

    oson-operator restore-check --database-url URL --public-key PEM [--public-key PEM ...]
        [--expect-operations FILE] [--expect-after ISO-TIME] [--json]

exit 0: every check passed; 1: a check failed; 2: usage, key, file or connection error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from oson_operator.restore.expected import (
    ExpectationsError,
    ExpectedOperations,
    load_expected_operations,
    parse_instant,
)

PROG = "oson-operator restore-check"
EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2

NO_PUBLIC_KEY = (
    "--public-key is required: the event-log check verifies the checkpoint signatures with the public key "
    "that `oson-operator events keygen` printed (the auditors' copy); or save the signing key from the vault "
    "(vault_operator_event_signing_key_pem, `ansible-vault view`) to a file only you can read and pass that "
    "(only its public half is used). Repeat --public-key for keys used before a rotation."
)


def _instant(value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``restore-check`` to the ``oson-operator`` parser."""
    check = commands.add_parser(
        "restore-check", help="business checks of a restored database (exit 1 if one fails)",
        description="Connect read-only to a restored database and check the trial balance, the wallet "
        "balances, the event log's hash chains and signed checkpoints, the schema revision and "
        "(optionally) that every operation a load generator saw acknowledged is there.")
    check.add_argument("--database-url", required=True, metavar="URL",
                       help="the restored database, e.g. postgresql://postgres@127.0.0.1:5433/oson (a password "
                       "may come from PGPASSWORD or ~/.pgpass rather than the URL)")
    check.add_argument("--public-key", type=Path, metavar="PEM", action="append", dest="public_keys",
                       help="public key the event-log checkpoints are signed with (a private key file works "
                       "too); repeat for keys used before a rotation")
    check.add_argument("--expect-operations", type=Path, metavar="FILE",
                       help="operation ids the load generator saw acknowledged: one id per line, or JSON Lines "
                       "with \"operation_id\" (and \"acknowledged_at\")")
    check.add_argument("--expect-after", type=_instant, metavar="ISO-TIME", dest="expect_until",
                       help="expect only operations acknowledged at or before this time (the point-in-time "
                       "recovery target; JSON Lines files only), e.g. 2026-06-10T12:00:00+05:00")
    check.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int | None:
    """Run ``restore-check`` if it is the chosen command; None otherwise."""
    if getattr(args, "command", None) != "restore-check":
        return None
    return restore_check(args.database_url, public_key_files=args.public_keys or [],
                         expect_file=args.expect_operations, expect_until=args.expect_until, as_json=args.json)


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def _keys(files: list[Path]) -> list[Ed25519PublicKey]:
    from oson_operator.storage.events import load_public_key

    return [load_public_key(path) for path in files]


def restore_check(database_url: str, *, public_key_files: list[Path], expect_file: Path | None,
                  expect_until: datetime | None, as_json: bool) -> int:
    from oson_operator.restore.checks import run_restore_check
    from oson_operator.restore.connect import RestoreCheckUnavailable, parse_database_url, restore_engine, shown
    from oson_operator.storage.events import EventKeyError

    if not public_key_files:
        return _fail(NO_PUBLIC_KEY)
    if expect_until is not None and expect_file is None:
        return _fail("--expect-after limits --expect-operations FILE: pass the file too")
    try:
        keys = _keys(public_key_files)
    except EventKeyError as exc:
        return _fail(f"{exc}; --public-key needs the PEM public key of the event-log signing key")
    expected: ExpectedOperations | None = None
    if expect_file is not None:
        try:
            expected = load_expected_operations(expect_file, until=expect_until)
        except ExpectationsError as exc:
            return _fail(str(exc))
    try:
        url = parse_database_url(database_url)
        engine = restore_engine(url)
        try:
            report = run_restore_check(engine, public_keys=keys, expected=expected, where=shown(url))
        finally:
            engine.dispose()
    except RestoreCheckUnavailable as exc:
        return _fail(str(exc))
    for warning in report.warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if as_json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        for check in report.checks:
            print(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
        print(_summary(report.ok, len(report.checks), sum(not c.ok for c in report.checks), report.database))
    return EXIT_OK if report.ok else EXIT_FAILED


def _summary(ok: bool, checks: int, failed: int, database: dict[str, object]) -> str:
    size = int(database["size_bytes"]) / 2**20  # type: ignore[call-overload]
    facts = (f"database {database['name']} as {database['user']} on PostgreSQL {database['server_version']}, "
             f"{size:.1f} MiB, {database['operations']} operations, last at {database['last_operation_at']}")
    if ok:
        return f"restore check passed: {checks} checks ok ({facts})"
    return f"restore check FAILED: {failed} of {checks} checks failed ({facts})"
