"""pgBackRest for the backup benchmark: the appliance role's settings and a throwaway repository.

The settings that decide speed come from the role, so that a change there shows in the figures:
compression type and parallel processes from ``roles/pgbackrest/defaults/main.yml`` (read with
PyYAML), cipher, bundling and fast start from the fixed lines of the role's database template.
Everything else (paths, logs, locks) points into the benchmark's temporary directory.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shlex
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

STANZA = "bench"
DEFAULTS = Path("roles/pgbackrest/defaults/main.yml")
TEMPLATE = Path("roles/pgbackrest/templates/pgbackrest-database.conf.j2")
# Fixed ``key=value`` lines of the role's template the benchmark takes over as they are.
TEMPLATE_KEYS = ("repo1-cipher-type", "repo1-bundle", "start-fast")


class BenchError(RuntimeError):
    """The benchmark could not run a step; the message says what failed and what to check."""


@dataclass(frozen=True)
class RoleSettings:
    compress_type: str
    process_max: int
    cipher_type: str
    bundle: str
    start_fast: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def role_settings(repo_root: Path) -> RoleSettings:
    """The pgBackRest settings of the appliance role in the repository at ``repo_root``."""
    defaults_path, template_path = repo_root / DEFAULTS, repo_root / TEMPLATE
    try:
        defaults = yaml.safe_load(defaults_path.read_text(encoding="utf-8")) or {}
        template = template_path.read_text(encoding="utf-8")
    except OSError as error:
        raise BenchError(f"cannot read the pgbackrest role ({error}); run from a checkout of the appliance") from None
    compress_type = str(defaults.get("pgbackrest_compress_type", ""))
    process_max = defaults.get("pgbackrest_process_max")
    if not re.fullmatch(r"[a-z0-9]+", compress_type) or not isinstance(process_max, int) or process_max < 1:
        raise BenchError(f"{defaults_path} must set pgbackrest_compress_type (e.g. lz4) and pgbackrest_process_max "
                         f"(a positive integer) as plain values; found {compress_type!r} and {process_max!r}")
    fixed: dict[str, str] = {}
    for key in TEMPLATE_KEYS:
        match = re.search(rf"^{re.escape(key)}=([^{{\s]+)\s*$", template, re.MULTILINE)
        if match is None:
            raise BenchError(f"{template_path} has no plain '{key}=...' line; the benchmark takes {key} from it "
                             "(update bench/_pgbackrest.py if the role now templates it)")
        fixed[key] = match.group(1)
    return RoleSettings(compress_type=compress_type, process_max=process_max, cipher_type=fixed["repo1-cipher-type"],
                        bundle=fixed["repo1-bundle"], start_fast=fixed["start-fast"])


def owned_dir(path: Path, user: str | None) -> Path:
    """Create ``path`` (mode 0700) owned by ``user`` (the server's OS user; None: ourselves)."""
    path.mkdir(mode=0o700, parents=False, exist_ok=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


class Repository:
    """A throwaway pgBackRest repository in ``root`` for the cluster in ``pg_data`` (socket dir, port)."""

    def __init__(self, root: Path, settings: RoleSettings, *, pg_data: Path, pg_socket: Path, pg_port: int,
                 user: str | None) -> None:
        self.root = root
        self.settings = settings
        self.user = user
        self.path = root / "repo"
        self.log_path = root / "log"
        self.config = root / "pgbackrest.conf"
        self.pg_data, self.pg_socket, self.pg_port = pg_data, pg_socket, pg_port

    def write_config(self) -> None:
        for path in (self.path, self.log_path, self.root / "lock", self.root / "spool"):
            owned_dir(path, self.user)
        lines = [
            "[global]",
            f"repo1-path={self.path}",
            "repo1-retention-full=1",
            f"repo1-cipher-type={self.settings.cipher_type}",
            f"repo1-cipher-pass={secrets.token_urlsafe(32)}",
            f"repo1-bundle={self.settings.bundle}",
            f"compress-type={self.settings.compress_type}",
            f"process-max={self.settings.process_max}",
            f"start-fast={self.settings.start_fast}",
            "archive-async=n",
            "log-level-console=warn",
            "log-level-file=detail",
            f"log-path={self.log_path}",
            f"lock-path={self.root / 'lock'}",
            f"spool-path={self.root / 'spool'}",
            "",
            f"[{STANZA}]",
            f"pg1-path={self.pg_data}",
            f"pg1-port={self.pg_port}",
            f"pg1-socket-path={self.pg_socket}",
            "",
        ]
        self.config.write_text("\n".join(lines), encoding="utf-8")
        self.config.chmod(0o600)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.config, entry.pw_uid, entry.pw_gid)

    def command(self, *args: str) -> list[str]:
        return ["pgbackrest", f"--config={self.config}", f"--stanza={STANZA}", *args]

    @property
    def archive_command(self) -> str:
        """PostgreSQL's ``archive_command``: archive-push into this repository."""
        return shlex.join(self.command("archive-push")) + " %p"

    def run(self, *args: str, timeout: float = 3600) -> str:
        """Run a pgBackRest command as the server's user; its standard output."""
        try:
            result = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout,
                                    check=False, user=self.user)
        except FileNotFoundError:
            raise BenchError("pgbackrest not found: apt-get install -y pgbackrest") from None
        except subprocess.TimeoutExpired:
            raise BenchError(f"pgbackrest {args[0]} took longer than {timeout:.0f} s; its log is in "
                             f"{self.log_path} (keep it with --keep)") from None
        if result.returncode != 0:
            output = (result.stderr.strip() or result.stdout.strip())[-3000:]
            raise BenchError(f"pgbackrest {args[0]} failed ({result.returncode}): {output}\nits log is in "
                             f"{self.log_path} (keep it with --keep)")
        return result.stdout

    def last_phases(self) -> BackupPhases:
        """Where the last backup's time went, from its log."""
        log = self.log_path / f"{STANZA}-backup.log"
        try:
            return backup_phases(log.read_text(encoding="utf-8", errors="replace"))
        except OSError as error:
            raise BenchError(f"cannot read pgBackRest's backup log ({error})") from None

    def last_backup(self) -> dict[str, Any]:
        """``pgbackrest info`` of the newest backup: its ``info`` (sizes) and ``timestamp``."""
        info = json.loads(self.run("info", "--output=json", timeout=120))
        backups = info[0].get("backup", []) if info else []
        if not backups:
            raise BenchError(f"pgbackrest info lists no backup in {self.path}")
        return dict(backups[-1])


# Lines of pgBackRest's backup log (log-level-file=detail) that mark where a full backup's time goes. The
# copy starts with the first empty file stored (logged as the copy begins) or, when there is none, the
# first file copied (logged when that file is done: a late mark when the file is large).
_LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) P\d\d +\w+: (.*)$")
_MARKS: dict[str, tuple[str, ...]] = {
    "begin": ("backup command begin",), "started": ("backup start archive =",),
    "copying": ("store zero-length file ", "backup file "), "stopping": ("execute non-exclusive backup stop",),
    "end": ("backup command end",)}


@dataclass(frozen=True)
class BackupPhases:
    """Seconds of one backup's phases, from its log: ``start`` (pgBackRest starting, connecting, the
    immediate checkpoint, pg_backup_start), ``archive_wait`` (until the WAL segment before the backup,
    closed by pg_backup_start, is in the archive: pgBackRest checks that archiving works before it
    copies; then the manifest, and pgBackRest's wait for the next whole second, so that a file changed
    in the second the copy starts is never taken for unchanged), ``copy`` (read, page checksums, SHA-1,
    compress, encrypt, write every file) and ``stop`` (pg_backup_stop, until the last WAL segment is
    archived, the manifest saved)."""

    start: float
    archive_wait: float
    copy: float
    stop: float


def backup_phases(log: str) -> BackupPhases:
    """The phases of the last backup in the text of a ``<stanza>-backup.log``."""
    times: dict[str, datetime] = {}
    for line in log.splitlines():
        match = _LOG_LINE.match(line)
        if match is None:
            continue
        for mark, texts in _MARKS.items():
            if match.group(2).startswith(texts):
                if mark == "begin":
                    times.clear()
                times.setdefault(mark, datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f"))
    if len(times) != len(_MARKS):
        raise BenchError(f"the backup log lacks the {sorted(set(_MARKS) - set(times))} lines of the last backup "
                         "(log-level-file must be detail)")

    def seconds(first: str, last: str) -> float:
        return (times[last] - times[first]).total_seconds()

    return BackupPhases(start=seconds("begin", "started"), archive_wait=seconds("started", "copying"),
                        copy=seconds("copying", "stopping"), stop=seconds("stopping", "end"))


def version() -> str:
    """``pgBackRest 2.45 (package 2.45-1+oson1)``, or a BenchError that says how to install it."""
    try:
        result = subprocess.run(["pgbackrest", "version"], capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        raise BenchError("pgbackrest not found: run scripts/host-setup.sh (it installs the appliance's own)") from None
    # The Debian package's version tells the appliance's build (the pgbackrest role's patch) from Debian's.
    package = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "pgbackrest"], capture_output=True, text=True,
                             check=False).stdout.strip()
    return f"{result.stdout.strip()} (package {package or 'unknown'})"
