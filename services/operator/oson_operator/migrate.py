"""``oson-operator-migrate`` (also ``python -m oson_operator.migrate``): schema migrations.

    oson-operator-migrate upgrade [--json] [REVISION]   apply migrations up to REVISION (head)
    oson-operator-migrate current [--json]              print the applied revision
    oson-operator-migrate history                       list the known revisions

Connects with the OWNER login when ``OSON_DATABASE_OWNER_USER`` / ``OSON_DATABASE_OWNER_PASSWORD``
are set (pass them through the environment, never on the command line), otherwise with the runtime
login; database host, port, name and sslmode come from the usual settings (env file included).
With ``--json`` the last line of stdout is ``{"before": ..., "after": ..., "applied": [...]}``, so a
deploy can tell whether anything was applied.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from oson_operator.settings import ConfigurationError, Settings, load_settings
from oson_operator.storage.engine import connect_args, database_url
from oson_operator.storage.models import SCHEMA

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")
VERSION_TABLE = "alembic_version"


class MigrationError(Exception):
    """A migration could not run; the message says what to do next."""


def alembic_config(settings: Settings, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    config.attributes["runtime_user"] = settings.database_user
    return config


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(
        connection, opts={"version_table": VERSION_TABLE, "version_table_schema": SCHEMA}
    )
    revision = context.get_current_revision()
    connection.commit()
    return revision


def _describe(settings: Settings, user: str) -> str:
    return f"{user}@{settings.database_host}:{settings.database_port}/{settings.database_name}"


def _owner_connection_engine(settings: Settings) -> tuple[str, Engine]:
    user, password = settings.owner_credentials()
    args = connect_args(settings, application_name="oson-operator-migrate")
    # DDL may legitimately run long; it must not wait forever for a lock held by a live session.
    args["options"] = "-c statement_timeout=0 -c lock_timeout=15s"
    return user, create_engine(database_url(settings, user=user, password=password),
                               connect_args=args, poolclass=NullPool)


def upgrade(settings: Settings, target: str = "head") -> dict[str, object]:
    """Apply migrations up to ``target``; returns before/after revisions and what was applied."""
    user, engine = _owner_connection_engine(settings)
    config = alembic_config(settings)
    script = ScriptDirectory.from_config(config)
    try:
        with engine.connect() as connection:
            before = current_revision(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, target)
            after = current_revision(connection)
    except SQLAlchemyError as exc:
        raise MigrationError(_explain(exc, settings, user)) from None
    except CommandError as exc:
        raise MigrationError(f"{exc}. Next: `oson-operator-migrate history` lists the revisions") from None
    finally:
        engine.dispose()
    applied: list[str] = []
    if after != before and after is not None:
        applied = [rev.revision for rev in script.iterate_revisions(after, before or "base")]
        applied.reverse()
    return {"before": before, "after": after, "applied": applied}


def current(settings: Settings) -> str | None:
    user, engine = _owner_connection_engine(settings)
    try:
        with engine.connect() as connection:
            return current_revision(connection)
    except SQLAlchemyError as exc:
        raise MigrationError(_explain(exc, settings, user)) from None
    finally:
        engine.dispose()


def _explain(exc: SQLAlchemyError, settings: Settings, user: str) -> str:
    original = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (str(original).strip().splitlines() or [type(original).__name__])[0]
    where = _describe(settings, user)
    sqlstate = getattr(original, "sqlstate", None)
    refused = ("password authentication failed", "no pg_hba.conf entry", "role \"")
    if sqlstate in ("28P01", "28000") or (sqlstate is None and any(text in first for text in refused)):
        hint = ("the login was refused: check OSON_DATABASE_OWNER_USER / OSON_DATABASE_OWNER_PASSWORD "
                "and pg_hba.conf")
    elif sqlstate is None and type(original).__name__ == "OperationalError":
        hint = ("check that the database (or its HAProxy frontend) is up and reachable, and the "
                "OSON_DATABASE_OWNER_USER / OSON_DATABASE_OWNER_PASSWORD credentials")
    elif sqlstate == "42704":
        hint = (f"a role is missing: the runtime login '{settings.database_user}' must exist before "
                "migrations run (the postgresql role creates it)")
    elif sqlstate == "42501":
        hint = ("permission denied: migrations must run as the owner of the database "
                "(set OSON_DATABASE_OWNER_USER / OSON_DATABASE_OWNER_PASSWORD)")
    elif sqlstate == "25006":
        hint = ("the server reached is a read-only standby: point OSON_DATABASE_HOST at the primary "
                "(the DB frontend VIP)")
    else:
        hint = "see the PostgreSQL log of the primary for details"
    return f"migration failed as {where}: {type(original).__name__}: {first}. Next: {hint}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oson-operator-migrate", description="OSON schema migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    cur = commands.add_parser("current", help="print the applied revision")
    cur.add_argument("--json", action="store_true")
    commands.add_parser("history", help="list the known revisions, newest first")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"oson-operator-migrate: {exc}", file=sys.stderr)
        return 2
    if args.command == "history":
        script = ScriptDirectory.from_config(alembic_config(settings))
        for rev in script.walk_revisions():
            print(f"{rev.revision}  {rev.doc}")
        return 0
    if not settings.database_owner_user:
        print("oson-operator-migrate: OSON_DATABASE_OWNER_USER is not set; using the runtime login "
              f"'{settings.database_user}' (it cannot create tables unless it owns the database)",
              file=sys.stderr)
    try:
        if args.command == "upgrade":
            summary = upgrade(settings, args.revision)
            if args.json:
                print(json.dumps(summary))
            else:
                applied = ", ".join(summary["applied"]) or "nothing"  # type: ignore[arg-type]
                print(f"schema at {summary['after']} (was {summary['before']}); applied: {applied}")
        else:
            revision = current(settings)
            print(json.dumps({"current": revision}) if args.json else (revision or "base"))
    except MigrationError as exc:
        print(f"oson-operator-migrate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
