"""``oson-operator`` subcommands: access.

    oson-operator staff create --login L --role admin|operator|auditor [--full-name N] [--json]
    oson-operator staff reset-password --login L [--json]
    oson-operator api-clients create --name N [--participant-id ID] [--json]

They run on an app host with the service's runtime settings (env file), and are how the first
administrator is created on a new appliance and how deploy tooling gets an API client. Temporary
passwords and client secrets are printed once; the event log records who ran the command (the OS
user, as ``cli:<user>``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from oson_operator.domain.access import STAFF_ROLES, Role
from oson_operator.domain.clock import SystemClock
from oson_operator.domain.errors import DomainError
from oson_operator.domain.messages import translate
from oson_operator.settings import ConfigurationError, load_settings
from oson_operator.storage import access as store
from oson_operator.storage.engine import create_database_engine

PROG = "oson-operator"


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add this module's subcommands to the ``oson-operator`` parser."""
    staff = commands.add_parser("staff", help="staff users (create, reset a password)")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    create = staff_commands.add_parser("create", help="create a staff user with a temporary password")
    create.add_argument("--login", required=True)
    create.add_argument("--role", required=True, choices=sorted(role.value for role in STAFF_ROLES))
    create.add_argument("--full-name", default="")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    reset = staff_commands.add_parser("reset-password",
                                      help="new temporary password (forced change), lockout lifted, sessions ended")
    reset.add_argument("--login", required=True)
    reset.add_argument("--json", action="store_true", help="print one JSON object")

    clients = commands.add_parser("api-clients", help="API clients of partners' integrations")
    client_commands = clients.add_subparsers(dest="api_clients_command", required=True)
    client_create = client_commands.add_parser("create", help="create an API client (id and secret)")
    client_create.add_argument("--name", required=True, help="the integration; one client per integration")
    client_create.add_argument("--participant-id", default=None)
    client_create.add_argument("--json", action="store_true", help="print one JSON object")


def _audit() -> store.Audit:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return store.Audit(actor=f"cli:{user}", source_address="cli")


def _in_transaction(work: Callable[[Connection], dict[str, object]]) -> tuple[int, dict[str, object] | None]:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2, None
    engine = create_database_engine(settings, application_name="oson-operator-cli", pooled=False)
    try:
        with engine.begin() as connection:
            return 0, work(connection)
    except DomainError as exc:
        print(f"{PROG}: {translate(exc.code, 'en', **exc.params)} ({exc.code})", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem.field}: {translate(problem.code, 'en', **dict(problem.params))}", file=sys.stderr)
        return 1, None
    except SQLAlchemyError as exc:
        first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        print(f"{PROG}: database error as {settings.database_user}@{settings.database_host}:"
              f"{settings.database_port}/{settings.database_name}: {first}. Next: check the env file and that "
              "migrations ran (oson-operator-migrate upgrade)", file=sys.stderr)
        return 1, None
    finally:
        engine.dispose()


def _staff_create(args: argparse.Namespace) -> tuple[int, dict[str, object] | None]:
    def work(connection: Connection) -> dict[str, object]:
        user, temporary = store.issue_staff_user(connection, _audit(), login=args.login, full_name=args.full_name,
                                                 role=Role(args.role), now=SystemClock().now())
        return {"login": user.login, "role": user.role.value, "temporary_password": temporary}

    return _in_transaction(work)


def _staff_reset(args: argparse.Namespace) -> tuple[int, dict[str, object] | None]:
    def work(connection: Connection) -> dict[str, object]:
        user = store.get_staff(connection, args.login, for_update=True)
        if user is None:
            raise DomainError("STAFF_NOT_FOUND", params={"login": args.login})
        user, temporary = store.reset_staff_password(connection, _audit(), user, now=SystemClock().now())
        return {"login": user.login, "role": user.role.value, "temporary_password": temporary}

    return _in_transaction(work)


def _client_create(args: argparse.Namespace) -> tuple[int, dict[str, object] | None]:
    def work(connection: Connection) -> dict[str, object]:
        client, secret = store.issue_api_client(connection, _audit(), name=args.name.strip(),
                                                participant_id=args.participant_id, now=SystemClock().now())
        return {"client_id": client.client_id, "client_secret": secret, "name": client.name,
                "participant_id": client.participant_id}

    return _in_transaction(work)


def run(args: argparse.Namespace) -> int | None:
    """Run the chosen subcommand if it is one of this module's; None otherwise."""
    if args.command == "staff":
        code, result = (_staff_create if args.staff_command == "create" else _staff_reset)(args)
    elif args.command == "api-clients":
        code, result = _client_create(args)
    else:
        return None
    if result is None:
        return code
    if args.json:
        print(json.dumps(result))
    elif "client_id" in result:
        print(f"API client for '{result['name']}' created (shown once; send as HTTP Basic id:secret)")
        print(f"client_id: {result['client_id']}")
        print(f"client_secret: {result['client_secret']}")
    else:
        print(f"staff user {result['login']} ({result['role']}): temporary password, shown once; it must be "
              "changed at first login:")
        print(result["temporary_password"])
    return code
