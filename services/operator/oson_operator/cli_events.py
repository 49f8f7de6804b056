"""``oson-operator events ...``: verify the event log, write a checkpoint, make a signing key.

    oson-operator events verify [--json] [--checkpoints DIR] [--public-key FILE ...]
        exit 0: intact; 1: damaged (the first bad record is named); 2: configuration or database error
    oson-operator events checkpoint [--json]
        sign the committed chain heads now (OSON_EVENT_SIGNING_KEY_FILE), export to OSON_EVENT_CHECKPOINT_DIR
    oson-operator events keygen --out FILE
        a new Ed25519 private key (PEM, mode 0600); prints the public key auditors verify with

Auditors need only the public key: ``--public-key`` (repeatable, for checkpoints signed before a key
rotation); without it the key is derived from OSON_EVENT_SIGNING_KEY_FILE.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError

from oson_operator.domain.event_chain import VerifyReport, key_id, private_key_pem, public_key_pem
from oson_operator.settings import ConfigurationError, Settings, load_settings

PROG = "oson-operator events"
EXIT_OK, EXIT_DAMAGED, EXIT_CONFIG = 0, 1, 2


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``events`` and its subcommands to the ``oson-operator`` parser."""
    events = commands.add_parser("events", help="event log: verify, checkpoint, keygen")
    sub = events.add_subparsers(dest="events_command", required=True)
    verify = sub.add_parser("verify", help="check the hash chains and signed checkpoints (exit 1 if damaged)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.add_argument("--checkpoints", type=Path, metavar="DIR",
                        help="exported checkpoint files (default: OSON_EVENT_CHECKPOINT_DIR when it exists)")
    verify.add_argument("--public-key", type=Path, metavar="FILE", action="append", dest="public_keys",
                        help="PEM public key the checkpoints are signed with; repeat for older keys "
                        "(default: derived from OSON_EVENT_SIGNING_KEY_FILE)")
    checkpoint = sub.add_parser("checkpoint", help="sign and store a checkpoint of the chain heads now")
    checkpoint.add_argument("--json", action="store_true")
    keygen = sub.add_parser("keygen", help="write a new Ed25519 signing key and print its public key")
    keygen.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="where to write the private key (PEM, mode 0600; must not exist)")


def run(args: argparse.Namespace) -> int | None:
    """Run the chosen subcommand if it is one of this module's; None otherwise."""
    if getattr(args, "command", None) != "events":
        return None
    if args.events_command == "keygen":
        return keygen(args.out)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        return _fail(str(exc))
    if args.events_command == "verify":
        return verify(settings, public_key_files=args.public_keys, checkpoints=args.checkpoints,
                      as_json=args.json)
    return checkpoint(settings, as_json=args.json)


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return EXIT_CONFIG


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from oson_operator.storage.engine import create_database_engine

    return create_database_engine(settings, application_name="oson-operator-events", pooled=False)


def _database_error(exc: SQLAlchemyError, settings: Settings) -> int:
    original = getattr(exc, "orig", None) or exc
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    return _fail(f"database {settings.database_user}@{settings.database_host}:{settings.database_port}/"
                 f"{settings.database_name}: {type(original).__name__}: {first}. Next: check the OSON_DATABASE_* "
                 "settings and that the schema is migrated (oson-operator-migrate upgrade)")


def verify(settings: Settings, *, public_key_files: list[Path] | None, checkpoints: Path | None,
           as_json: bool) -> int:
    from oson_operator.storage.events import EventKeyError, load_public_key, verify_event_log

    keys: list[Ed25519PublicKey] | None = None
    try:
        if public_key_files:
            keys = [load_public_key(path) for path in public_key_files]
        elif settings.event_signing_key_file is not None:
            keys = [load_public_key(settings.event_signing_key_file)]
    except EventKeyError as exc:
        return _fail(str(exc))
    if checkpoints is not None and not checkpoints.is_dir():
        return _fail(f"--checkpoints {checkpoints} is not a directory")
    if checkpoints is None and settings.event_checkpoint_dir is not None and settings.event_checkpoint_dir.is_dir():
        checkpoints = settings.event_checkpoint_dir
    engine = _engine(settings)
    try:
        report = verify_event_log(engine, keys, checkpoints)
    except SQLAlchemyError as exc:
        return _database_error(exc, settings)
    except EventKeyError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    if as_json:
        body = report.to_dict()
        body["checkpoint_files"] = str(checkpoints) if checkpoints is not None else None
        print(json.dumps(body, indent=2, default=str))
    else:
        print(_summary(report, checkpoints))
    if keys is None and not as_json:
        print(f"{PROG}: checkpoint signatures were NOT checked: pass --public-key FILE or set "
              "OSON_EVENT_SIGNING_KEY_FILE", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_DAMAGED


def _summary(report: VerifyReport, checkpoints: Path | None) -> str:
    chains = sum(1 for chain in report.chains if chain.events)
    signatures = "signatures checked" if report.signatures_checked else "signatures NOT checked"
    files = (f", {report.checkpoint_files_checked} exported checkpoint files in {checkpoints}"
             if checkpoints is not None else ", no exported checkpoint files")
    facts = (f"{report.events_checked} events in {chains} chains, {report.checkpoints_checked} checkpoints "
             f"({signatures}){files}")
    if report.ok:
        return f"event log intact: {facts}"
    lines = [f"EVENT LOG DAMAGED: {facts}", f"first bad record: {report.problems[0].message}"]
    lines += [f"also: {problem.message}" for problem in report.problems[1:]]
    return "\n".join(lines)


def checkpoint(settings: Settings, *, as_json: bool) -> int:
    from oson_operator.storage.events import EventKeyError, load_private_key, write_checkpoint

    if settings.event_signing_key_file is None:
        return _fail("OSON_EVENT_SIGNING_KEY_FILE is not set; make a key with "
                     f"`{PROG} keygen --out FILE` and point the setting at it")
    try:
        key = load_private_key(settings.event_signing_key_file)
    except EventKeyError as exc:
        return _fail(str(exc))
    engine = _engine(settings)
    try:
        written = write_checkpoint(engine, key, settings.event_checkpoint_dir)
    except SQLAlchemyError as exc:
        return _database_error(exc, settings)
    except OSError as exc:
        return _fail(str(exc))
    finally:
        engine.dispose()
    assert written is not None
    heads = {str(chain): head.seq for chain, head in sorted(written.heads.items())}
    if as_json:
        print(json.dumps({"id": written.id, "created_at": written.created_at.isoformat(),
                          "key_id": written.key_id, "heads": heads}))
    else:
        total = sum(heads.values())
        where = f"; exported to {settings.event_checkpoint_dir}" if settings.event_checkpoint_dir else ""
        print(f"checkpoint {written.id} written at {written.created_at.isoformat()} by key {written.key_id}: "
              f"{total} events in {sum(1 for seq in heads.values() if seq)} chains{where}")
    return EXIT_OK


def keygen(out: Path) -> int:
    key = Ed25519PrivateKey.generate()
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _fail(f"{out} exists; a signing key is never overwritten (move it away first)")
    except OSError as exc:
        return _fail(f"cannot create {out}: {exc.strerror or exc}")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private_key_pem(key))
    os.chmod(out, 0o600)
    public = key.public_key()
    print(f"private key written to {out} (mode 0600): set OSON_EVENT_SIGNING_KEY_FILE={out}", file=sys.stderr)
    print(f"key id {key_id(public)}; public key for auditors (events verify --public-key FILE):", file=sys.stderr)
    print(public_key_pem(public), end="")
    return EXIT_OK
