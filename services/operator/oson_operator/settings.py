"""Configuration of the operator service.

Values come from, in order of precedence: ``OSON_*`` environment variables, then the env file
(``/etc/oson/operator.env`` unless ``OSON_ENV_FILE`` names another one), then the defaults. The
env file is written by the ``operator`` Ansible role; its format is literal ``OSON_NAME=value``
lines (see ``read_env_file``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ENV_FILE = Path("/etc/oson/operator.env")
ENV_FILE_VARIABLE = "OSON_ENV_FILE"

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class ConfigurationError(Exception):
    """The configuration cannot be loaded; the message says what to fix."""


class Settings(BaseSettings):
    """Every setting of the operator service (environment prefix ``OSON_``)."""

    model_config = SettingsConfigDict(
        env_prefix="OSON_",
        extra="forbid",
        case_sensitive=False,
    )

    # Runtime database connection (the service's own login, not the owner of the schema).
    database_host: str = Field("127.0.0.1", min_length=1, description="PostgreSQL host or address")
    database_port: int = Field(5432, ge=1, le=65535, description="PostgreSQL port")
    database_name: str = Field("oson", min_length=1, description="database name")
    database_user: str = Field("oson_app", min_length=1, description="runtime login of the service")
    database_password: SecretStr = Field(SecretStr(""), description="password of the runtime login")
    database_sslmode: SslMode = Field("prefer", description="libpq sslmode")
    database_sslrootcert: Path | None = Field(None, description="CA file for sslmode verify-ca/verify-full")
    database_connect_timeout: int = Field(2, ge=1, le=60, description="libpq connect_timeout, seconds")
    database_statement_timeout_ms: int = Field(5000, ge=100, description="server-side statement timeout")
    database_pool_size: int = Field(
        10, ge=1, le=100, description="connections kept per worker process; also its number of request threads"
    )
    database_money_pool_size: int = Field(
        8, ge=0, le=100, description="connections per worker process for payments and transfers served from the "
        "event loop, besides the pool above (0: they take the request threads like every other request)"
    )

    # Owner login, used only by migrations (oson-operator-migrate); never by the running service.
    database_owner_user: str | None = Field(None, description="owner of the database, for migrations")
    database_owner_password: SecretStr | None = Field(None, description="password of the owner login")

    # HTTP server.
    bind_host: str = Field("127.0.0.1", min_length=1, description="address uvicorn listens on")
    bind_port: int = Field(8000, ge=1, le=65535, description="port uvicorn listens on")
    workers: int = Field(1, ge=1, le=64, description="uvicorn worker processes")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="comma-separated addresses (the reverse proxies) whose X-Forwarded-* headers are trusted",
    )
    log_level: LogLevel = Field("info", description="uvicorn and application log level")
    health_timeout_seconds: float = Field(4.0, gt=0, le=30, description="upper bound of /api/health")

    # Staff access (§14.1(2); password rules of the operator's security policy).
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60, description="staff session idle timeout")
    login_max_failures: int = Field(5, ge=1, le=100, description="consecutive failures before lockout")
    login_lockout_minutes: int = Field(60, ge=1, description="lockout after too many failures")
    source_block_logins: int = Field(
        5, ge=2, le=1000, description="distinct logins failing from one address before it is blocked"
    )
    source_block_hours: int = Field(24, ge=1, description="how long a failing source address stays blocked")
    password_max_age_days: int = Field(60, ge=1, description="staff passwords expire after this many days")
    password_warn_days: int = Field(7, ge=0, description="warn this many days before a password expires")
    password_history: int = Field(7, ge=0, le=50, description="previous passwords that cannot be reused")
    api_client_max_idle_days: int = Field(90, ge=1, description="API clients unused this long are blocked")
    api_client_cache_seconds: float = Field(
        60.0, ge=0, le=300, description="at most how long a verified API client is trusted without a database "
        "read; any change to it (block, new secret) drops it at once, announced by the database (0: read on "
        "every request)"
    )
    totp_issuer: str = Field("OSON operator", min_length=1, description="issuer name shown by TOTP apps")

    # Event log (§14.1(11), §7.5): hash chain checkpoints signed with Ed25519 and exported off the database.
    event_signing_key_file: Path | None = Field(
        None, description="PEM Ed25519 private key that signs event-log checkpoints"
    )
    event_checkpoint_dir: Path | None = Field(
        None, description="directory where signed checkpoints are also written, outside the database"
    )
    event_checkpoint_interval_seconds: float = Field(
        60.0, ge=0, description="how often the service writes a signed checkpoint (0 disables)"
    )

    # Electronic documents (§14.1(10), §VII): outgoing documents are signed with this key, kept off the database.
    document_signing_key_file: Path | None = Field(
        None, description="PEM Ed25519 private key that signs outgoing electronic documents"
    )

    # Business configuration (§6.1 limits, §8.2 tariffs): a YAML file; built-in defaults when unset.
    business_config_file: Path | None = Field(
        None, description="YAML with the MCI per year, limits and tariffs (see docs/business-config.md)"
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _no_wildcard_trust(cls, value: str) -> str:
        addresses = [part.strip() for part in value.split(",") if part.strip()]
        if not addresses:
            raise ValueError("name at least one trusted proxy address (e.g. 127.0.0.1)")
        if "*" in addresses:
            raise ValueError("'*' would trust X-Forwarded-* from any client; list the reverse proxies")
        return ",".join(addresses)

    def owner_credentials(self) -> tuple[str, SecretStr]:
        """The owner login for migrations; falls back to the runtime login when none is configured."""
        if self.database_owner_user:
            return self.database_owner_user, self.database_owner_password or SecretStr("")
        return self.database_user, self.database_password


def _variable(loc: tuple[int | str, ...]) -> str:
    """The variable a validation error is about."""
    return "OSON_" + "_".join(str(part) for part in loc).upper()


def default_env_file() -> Path:
    """The env file to read: ``$OSON_ENV_FILE`` if set, else ``/etc/oson/operator.env``."""
    return Path(os.environ.get(ENV_FILE_VARIABLE) or DEFAULT_ENV_FILE)


def read_env_file(path: Path) -> dict[str, str]:
    """Parse an env file: ``OSON_NAME=value`` lines, ``#`` comments and blank lines.

    Values are literal up to the end of the line: no quotes, escapes or ``${}`` expansion, so a
    generated password can hold any character but a newline.
    """
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except PermissionError:
        raise ConfigurationError(
            f"cannot read {path}: run as the 'oson' user or root, or point {ENV_FILE_VARIABLE} "
            "at a readable file"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigurationError(f"{path}:{number}: expected OSON_NAME=value")
        if not key.upper().startswith("OSON_"):
            raise ConfigurationError(f"{path}:{number}: {key} is not an OSON_* setting")
        name = key[len("OSON_") :].lower()
        if name in values:
            raise ConfigurationError(f"{path}:{number}: {key} is set twice")
        values[name] = value
    return values


def load_settings(env_file: Path | None = None, *, use_env_file: bool = True) -> Settings:
    """Load settings, turning every failure into a ConfigurationError that says what to do.

    Precedence: ``OSON_*`` environment variables, then the env file, then the defaults.
    """
    path = env_file if env_file is not None else default_env_file()
    file_values: dict[str, str] = {}
    source: Path | None = None
    if use_env_file and path.exists():
        file_values = read_env_file(path)
        source = path
    elif use_env_file and env_file is not None:
        raise ConfigurationError(f"env file {path} does not exist")
    from_environment = {key.lower() for key in os.environ if key.upper().startswith("OSON_")}
    overrides = {name: value for name, value in file_values.items() if f"oson_{name}" not in from_environment}
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{_variable(err['loc'])}: unknown setting" if err["type"] == "extra_forbidden"
            else f"{_variable(err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        where = f" (read from {source} and the environment)" if source else " (read from the environment)"
        raise ConfigurationError(f"invalid operator settings{where}: {problems}") from None
