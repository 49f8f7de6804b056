"""``oson-operator``: run the service under uvicorn, or check a configuration file.

    oson-operator [serve]              run with the settings from the environment / env file
    oson-operator check-config [FILE]  load FILE (default: the env file) and report problems
    oson-operator check-business FILE  validate a business configuration (MCI, limits, tariffs)
    oson-operator restore-check ...    business checks of a restored database (oson_operator.restore)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from oson_operator.domain.business import BusinessConfigError, load_business_config
from oson_operator.settings import ConfigurationError, Settings, default_env_file, load_settings


def _summary(settings: Settings, source: Path) -> str:
    return (
        f"{source}: OK - listens on {settings.bind_host}:{settings.bind_port} with {settings.workers} "
        f"worker(s); database {settings.database_user}@{settings.database_host}:{settings.database_port}/"
        f"{settings.database_name} sslmode={settings.database_sslmode}; trusted proxies "
        f"{settings.forwarded_allow_ips}"
    )


def check_config(path: Path) -> int:
    try:
        settings = load_settings(path)
    except ConfigurationError as exc:
        print(f"oson-operator: {exc}", file=sys.stderr)
        return 1
    if not settings.database_password.get_secret_value():
        print(f"oson-operator: {path}: OSON_DATABASE_PASSWORD is empty; set the runtime login's password",
              file=sys.stderr)
        return 1
    problems: list[str] = []
    if settings.business_config_file is not None:
        try:
            load_business_config(settings.business_config_file)
        except BusinessConfigError as exc:
            problems.append(str(exc))
    from oson_operator.storage.events import EventKeyError, load_private_key

    # Both keys are Ed25519 PEM files made by `oson-operator events keygen`.
    for setting, key_file in (("OSON_EVENT_SIGNING_KEY_FILE", settings.event_signing_key_file),
                              ("OSON_DOCUMENT_SIGNING_KEY_FILE", settings.document_signing_key_file)):
        if key_file is not None:
            try:
                load_private_key(key_file)
            except EventKeyError as exc:
                problems.append(f"{setting}: {exc}")
    if problems:
        for problem in problems:
            print(f"oson-operator: {path}: {problem}", file=sys.stderr)
        return 1
    print(_summary(settings, path))
    return 0


def check_business(path: Path) -> int:
    """Validate a business configuration file (MCI, limits, tariffs, receipt header)."""
    try:
        config = load_business_config(path)
    except BusinessConfigError as exc:
        print(f"oson-operator: {exc}", file=sys.stderr)
        return 1
    years = ", ".join(str(year) for year in sorted(config.mci_by_year))
    print(f"{path}: OK - MCI for {years}; {len(config.tariffs)} tariffs; receipts name {config.operator.name}")
    return 0


def serve() -> int:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"oson-operator: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    # Production settings: no reload, the app built by the factory in each worker, X-Forwarded-*
    # trusted only from the configured reverse proxies, no Server header.
    uvicorn.run(
        "oson_operator.api.app:create_app",
        factory=True,
        host=settings.bind_host,
        port=settings.bind_port,
        workers=settings.workers,
        reload=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        server_header=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=10,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="oson-operator", description="OSON operator service")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP service (default)")
    check = commands.add_parser("check-config", help="validate an env file and exit")
    check.add_argument("file", nargs="?", type=Path, help="env file (default: $OSON_ENV_FILE or "
                       "/etc/oson/operator.env)")
    business = commands.add_parser("check-business", help="validate a business configuration file and exit")
    business.add_argument("file", type=Path, help="YAML file with the keys of data/business-defaults.yaml")
    from oson_operator import cli_access, cli_events
    from oson_operator.restore import command as cli_restore

    for module in (cli_access, cli_events, cli_restore):
        module.add_commands(commands)
    args = parser.parse_args(argv)
    for module in (cli_access, cli_events, cli_restore):
        outcome = module.run(args)
        if outcome is not None:
            return outcome
    if args.command == "check-business":
        return check_business(args.file)
    if args.command == "check-config":
        return check_config(args.file or default_env_file())
    return serve()


if __name__ == "__main__":
    sys.exit(main())
