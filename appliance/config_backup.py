"""`osonctl config-backup`: encrypted archives of the control node's configuration, apart from the data.

What a lost control node needs to be rebuilt, and nothing else: the inventory directory (topology.yml,
group_vars/, including the ansible-vault file with the CA, every password and the signing keys) and the
rendered firewall configuration (``<state dir>/firewall/``) when it exists, with a ``MANIFEST.json``
naming every file with its SHA-256 and size.

An archive is one file, ``oson-config-<topology>-<UTC timestamp>.osoncfg``, written mode 0600 into
``<state dir>/config-backups/`` and copied to the backup host (playbooks/config-backup-upload.yml).
Its layout::

    "OSONCFG" | format version (1 byte) | scrypt salt (16 bytes) | AES-GCM nonce (12 bytes)
    AES-256-GCM(tar.gz of MANIFEST.json, inventory/..., firewall/...) with the 36-byte header as
    associated data, so a changed header fails like a changed body.

The key is derived with scrypt from the vault password. The vault password is the one secret the
operator keeps offline (in the safe): with it alone, an archive found on the backup host opens, and the
vault inside it opens too. That is why the vault password file itself is NEVER put into an archive (nor
any file in the inventory that holds the same password): an archive is only ciphertext to whoever
holds it without the safe's copy of the password.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import hashlib
import io
import os
import re
import secrets as pysecrets
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.errors import AnsibleError
from ansible.parsing.vault import VaultLib, VaultSecret
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance import __version__
from appliance.ansible_run import run_appliance_playbook, task_results
from appliance.cli_errors import reported
from appliance.paths import PROJECT_ROOT
from appliance.secrets import SecretsError, state_dir, vault_file, vault_password_file
from appliance.topology import HostRole, Topology, TopologyError, load_topology
from appliance.units import human_bytes

MAGIC = b"OSONCFG"
FORMAT_VERSION = 1
HEADER = struct.Struct(">7sB16s12s")  # magic, format version, scrypt salt, AES-GCM nonce
# scrypt cost of format 1: 64 MiB and about a quarter of a second per derivation.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**16, 8, 1
SUFFIX = ".osoncfg"
MANIFEST_NAME = "MANIFEST.json"
INVENTORY_PREFIX = "inventory"
FIREWALL_PREFIX = "firewall"
# AES-GCM in one call; a configuration is kilobytes, this only stops a misplaced data directory.
MAX_PAYLOAD_BYTES = 512 * 1024 * 1024
UPLOAD_PLAYBOOK = "config-backup-upload.yml"
REMOTE_DIR = "/var/lib/oson/config-backups"
DEFAULT_KEEP = 10
WRONG_PASSWORD = "wrong vault password, or the archive was altered"
_NAME = re.compile(r"^oson-config-(?P<topology>.+)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?" + re.escape(SUFFIX) + "$")
_STAMP = "%Y%m%dT%H%M%SZ"


class ConfigBackupError(RuntimeError):
    """A configuration archive that cannot be made, read or restored; the message says what to do."""


class ManifestFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class Manifest(BaseModel):
    """What an archive holds; `files` names every file with its SHA-256, paths relative to the archive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: int
    topology: str
    environment: str
    created_at: dt.datetime
    appliance_version: str
    git_commit: str | None
    firewall_included: bool
    notes: list[str] = Field(default_factory=list)
    files: list[ManifestFile]

    @property
    def file_count(self) -> int:
        return len(self.files)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class ArchiveInfo:
    """An archive in the state directory, as its name tells (its contents need the password)."""

    path: Path
    topology: str
    created_at: dt.datetime
    size: int


# -- places and the password -----------------------------------------------------------------------------


def archive_dir(topology: Topology) -> Path:
    return state_dir(topology) / "config-backups"


def rendered_firewall_dir(topology: Topology) -> Path:
    return state_dir(topology) / "firewall"


def read_password_file(path: Path) -> bytes:
    """The vault password as ansible reads it (surrounding whitespace stripped)."""
    try:
        password = path.read_bytes().strip()
    except FileNotFoundError:
        raise ConfigBackupError(
            f"no vault password file at {path}; write the vault password (from the safe) into it, mode 0600, "
            "or point OSON_VAULT_PASSWORD_FILE / --password-file at the file that holds it"
        ) from None
    except OSError as err:
        raise ConfigBackupError(f"cannot read the vault password file {path}: {err.strerror}") from None
    if not password:
        raise ConfigBackupError(f"the vault password file {path} is empty; put the vault password into it")
    return password


def _as_bytes(password: str | bytes) -> bytes:
    raw = password.encode("utf-8") if isinstance(password, str) else password
    return raw.strip()


def _check_vault_opens(vault_bytes: bytes, password: bytes, where: str) -> None:
    try:
        VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(password))]).decrypt(vault_bytes)
    except AnsibleError:
        raise ConfigBackupError(f"the vault password does not open {where}") from None


# -- the envelope ----------------------------------------------------------------------------------------


def _derive_key(password: bytes, salt: bytes) -> bytes:
    return Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(password)


def seal(payload: bytes, password: str | bytes) -> bytes:
    """The payload encrypted and authenticated under a key derived from the password (format 1)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ConfigBackupError(
            f"the configuration is {len(payload)} bytes, more than {MAX_PAYLOAD_BYTES}: an inventory holds "
            "configuration only; move data files out of it"
        )
    salt, nonce = pysecrets.token_bytes(16), pysecrets.token_bytes(12)
    header = HEADER.pack(MAGIC, FORMAT_VERSION, salt, nonce)
    return header + AESGCM(_derive_key(_as_bytes(password), salt)).encrypt(nonce, payload, header)


def unseal(blob: bytes, password: str | bytes) -> bytes:
    """The payload of a sealed archive; ConfigBackupError when it is not one, or does not open."""
    if len(blob) < HEADER.size or blob[: len(MAGIC)] != MAGIC:
        raise ConfigBackupError("not an OSON configuration archive (the file does not start with OSONCFG)")
    _, version, salt, nonce = HEADER.unpack_from(blob)
    if version != FORMAT_VERSION:
        raise ConfigBackupError(
            f"archive format {version} is not known to osonctl {__version__} (it reads format {FORMAT_VERSION}); "
            "use the osonctl that made it, or a newer one"
        )
    header = blob[: HEADER.size]
    try:
        return AESGCM(_derive_key(_as_bytes(password), salt)).decrypt(nonce, blob[HEADER.size :], header)
    except InvalidTag:
        raise ConfigBackupError(WRONG_PASSWORD) from None


# -- create ----------------------------------------------------------------------------------------------


def _git_commit() -> str | None:
    try:
        proc = subprocess.run(["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = proc.stdout.strip()
    return commit if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def _is_inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _gather(root: Path, prefix: str, skip: Callable[[Path, bytes], str | None],
            notes: list[str]) -> dict[str, tuple[bytes, int]]:
    """Every regular file under root (symlinks followed) as (content, mode), keyed by its archive path."""
    files: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            notes.append(f"left out {prefix}/{(Path(dirpath) / name).relative_to(root).as_posix()}/: "
                         "a symlinked directory")
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if not path.is_file():
                notes.append(f"left out {prefix}/{rel}: not a regular file")
                continue
            data = path.read_bytes()
            reason = skip(path, data)
            if reason:
                notes.append(f"left out {prefix}/{rel}: {reason}")
                continue
            files[f"{prefix}/{rel}"] = (data, stat.S_IMODE(path.stat().st_mode))
    return files


def _tar(files: dict[str, tuple[bytes, int]], manifest: Manifest, mtime: float) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        body = manifest.model_dump_json(indent=2).encode("utf-8")
        for name, (data, mode) in [(MANIFEST_NAME, (body, 0o600)), *files.items()]:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, mtime
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write_new(directory: Path, stem: str, blob: bytes) -> Path:
    """Write blob under a name that did not exist (stem, else stem-2, stem-3 ...), mode 0600, atomically."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.chmod(0o700)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".writing-", suffix=SUFFIX)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
            out.flush()
            os.fsync(out.fileno())
        tmp.chmod(0o600)
        for n in range(1, 1000):
            final = directory / (f"{stem}{SUFFIX}" if n == 1 else f"{stem}-{n}{SUFFIX}")
            try:
                os.link(tmp, final)
            except FileExistsError:
                continue
            return final
        raise ConfigBackupError(f"{directory} already holds 999 archives named {stem}*; remove old ones")
    finally:
        tmp.unlink(missing_ok=True)


def create(inventory_dir: Path) -> Path:
    """Archive the inventory and the rendered firewall configuration; returns the archive's path.

    The archive is sealed with the vault password (read from the vault password file, which is left
    out), after checking that this password opens the inventory's vault; it is read back and checked
    before this returns.
    """
    return create_checked(inventory_dir)[0]


def create_checked(inventory_dir: Path) -> tuple[Path, Manifest]:
    """As create(), with the manifest of the archive as read back."""
    inventory_dir = Path(inventory_dir)
    topology = load_topology(inventory_dir)
    password_file = vault_password_file(topology)
    vault = vault_file(inventory_dir)
    if not vault.is_file():
        raise ConfigBackupError(
            f"no vault at {vault}: without it the archive could not rebuild anything; run "
            f"`osonctl secrets init -i {inventory_dir}` (or a deploy) first"
        )
    password = read_password_file(password_file)
    _check_vault_opens(vault.read_bytes(), password, f"{vault} (password file {password_file})")

    password_path = password_file.resolve()
    earlier_archives = archive_dir(topology).resolve()
    notes: list[str] = []

    def skip(path: Path, data: bytes) -> str | None:
        resolved = path.resolve()
        if resolved == password_path:
            return "the vault password file (kept offline, never archived)"
        if data.strip() == password:
            return "it holds the vault password (kept offline, never archived)"
        if _is_inside(resolved, earlier_archives):
            return "an earlier configuration archive"
        return None

    files = _gather(inventory_dir, INVENTORY_PREFIX, skip, notes)
    if f"{INVENTORY_PREFIX}/topology.yml" not in files:
        raise ConfigBackupError(f"{inventory_dir} has no topology.yml to archive")
    firewall = rendered_firewall_dir(topology)
    firewall_included = firewall.is_dir()
    if firewall_included:
        firewall_files = _gather(firewall, FIREWALL_PREFIX, skip, notes)
        files.update(firewall_files)
        if not firewall_files:
            notes.append(f"the rendered firewall directory {firewall} was empty")
    else:
        notes.append(f"no rendered firewall configuration at {firewall} (none rendered yet on this control node)")

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    manifest = Manifest(
        format=FORMAT_VERSION, topology=topology.name, environment=topology.environment, created_at=now,
        appliance_version=__version__, git_commit=_git_commit(), firewall_included=firewall_included,
        notes=notes,
        files=[ManifestFile(path=name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))
               for name, (data, _) in files.items()],
    )
    blob = seal(_tar(files, manifest, now.timestamp()), password)
    path = _write_new(archive_dir(topology), f"oson-config-{topology.name}-{now.strftime(_STAMP)}", blob)
    return path, inspect(path, password)


# -- read and check --------------------------------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts:
        return False
    return name == MANIFEST_NAME or (len(pure.parts) >= 2 and pure.parts[0] in (INVENTORY_PREFIX, FIREWALL_PREFIX))


def _open(archive: Path, password: str | bytes) -> tuple[Manifest, bytes]:
    """Decrypt, then check the tar against its manifest; returns the manifest and the tar.gz bytes."""
    try:
        blob = Path(archive).read_bytes()
    except FileNotFoundError:
        raise ConfigBackupError(f"no archive at {archive}; `osonctl config-backup list -i INV` lists them") from None
    payload = unseal(blob, password)
    contents: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not member.isfile() or not _safe_member_name(member.name) or member.name in contents:
                    raise ConfigBackupError(f"damaged archive: unexpected member {member.name!r}")
                extracted = tar.extractfile(member)
                if extracted is None:
                    raise ConfigBackupError(f"damaged archive: {member.name!r} does not read")
                contents[member.name] = extracted.read()
        manifest = Manifest.model_validate_json(contents.pop(MANIFEST_NAME, b"{}"))
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ConfigBackupError(f"damaged archive: the tar inside does not read ({err})") from None
    except ValidationError as err:
        raise ConfigBackupError(f"damaged archive: MANIFEST.json is missing or invalid ({err.error_count()} "
                                "problems)") from None
    listed = {f.path: f for f in manifest.files}
    if set(listed) != set(contents):
        extra, missing = sorted(set(contents) - set(listed)), sorted(set(listed) - set(contents))
        raise ConfigBackupError(f"damaged archive: files not in the manifest {extra}, missing files {missing}")
    for name, data in contents.items():
        entry = listed[name]
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            raise ConfigBackupError(f"damaged archive: {name} does not match its SHA-256 in the manifest")
    vault_name = f"{INVENTORY_PREFIX}/{vault_file(Path()).as_posix()}"
    if vault_name in contents:
        _check_vault_opens(contents[vault_name], _as_bytes(password), f"the archived {vault_name}")
    return manifest, payload


def inspect(archive: Path, password: str | bytes) -> Manifest:
    """The manifest of an archive whose every file matched its SHA-256 and whose vault opened."""
    return _open(archive, password)[0]


# -- restore ---------------------------------------------------------------------------------------------


def _refuse_file(directory: Path, what: str) -> None:
    if directory.exists() and not directory.is_dir():
        raise ConfigBackupError(f"{directory} ({what}) is a file, not a directory; choose another destination")


def _refuse_non_empty(directory: Path, what: str) -> None:
    _refuse_file(directory, what)
    if directory.is_dir() and any(directory.iterdir()):
        raise ConfigBackupError(
            f"{directory} ({what}) is not empty; restore into an empty or new directory, or pass --force to "
            "overwrite the archive's files there (other files are left alone)"
        )


def _move_tree(staged: Path, destination: Path) -> list[Path]:
    written: list[Path] = []
    for source in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = destination / source.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(source, target)
        written.append(target)
    return written


def restore(archive: Path, password: str | bytes, target_dir: Path, *, force: bool = False,
            firewall_dir: Path | None = None) -> list[Path]:
    """Unpack a checked archive; returns the files written.

    The inventory goes into target_dir (e.g. inventory/<name>). The rendered firewall configuration,
    when the archive holds one, goes back where it came from: ``<state dir>/firewall/`` of the
    restored topology (OSON_STATE_DIR is honoured), or firewall_dir when given. It is kept out of the
    inventory because it is an output of a deploy, not configuration: the next deploy renders it again,
    and the restored copy is there to compare with. A destination that exists and is not empty is
    refused unless force; with force the archive's files overwrite those there and other files stay.
    Nothing is written unless the whole archive checked out.
    """
    manifest, payload = _open(archive, password)
    target_dir = Path(target_dir)
    has_firewall = any(f.path.startswith(FIREWALL_PREFIX + "/") for f in manifest.files)
    check = _refuse_file if force else _refuse_non_empty
    check(target_dir, "the inventory")
    if firewall_dir is not None and has_firewall:
        check(firewall_dir, "the rendered firewall configuration")
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target_dir.parent, prefix=f".{target_dir.name}.restoring-"))
    try:
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name != MANIFEST_NAME]
            tar.extractall(staging, members=members, filter="data")
        if has_firewall and firewall_dir is None:
            try:
                firewall_dir = rendered_firewall_dir(load_topology(staging / INVENTORY_PREFIX))
            except TopologyError as err:
                raise ConfigBackupError(f"{err}; pass the rendered firewall's destination explicitly "
                                        "(--firewall-to DIR)") from None
            check(firewall_dir, "the rendered firewall configuration")
        written = _move_tree(staging / INVENTORY_PREFIX, target_dir)
        if has_firewall and firewall_dir is not None:
            written += _move_tree(staging / FIREWALL_PREFIX, firewall_dir)
        return written
    except tarfile.FilterError as err:
        raise ConfigBackupError(f"damaged archive: refused member ({err})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# -- list ------------------------------------------------------------------------------------------------


def list_archives(inventory_dir: Path) -> list[ArchiveInfo]:
    """This inventory's archives in the state directory, oldest first."""
    topology = load_topology(inventory_dir)
    directory = archive_dir(topology)
    found: list[tuple[tuple[dt.datetime, int], ArchiveInfo]] = []
    for path in directory.glob(f"oson-config-*{SUFFIX}") if directory.is_dir() else []:
        match = _NAME.match(path.name)
        if not match or match["topology"] != topology.name:
            continue
        created = dt.datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=dt.UTC)
        info = ArchiveInfo(path=path, topology=topology.name, created_at=created, size=path.stat().st_size)
        found.append(((created, int(match["n"] or 1)), info))
    return [info for _, info in sorted(found, key=lambda item: item[0])]


# -- upload ----------------------------------------------------------------------------------------------


def upload_vars(archive: Path, keep: int = DEFAULT_KEEP) -> dict[str, Any]:
    return {"oson_config_archive": str(Path(archive).resolve()), "oson_config_keep": keep}


def _first_failure(report: dict[str, Any], host: str) -> dict[str, Any] | None:
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            result = task.get("hosts", {}).get(host)
            if result and (result.get("unreachable") or result.get("failed")):
                kind = "unreachable" if result.get("unreachable") else "failed"
                detail = str(result.get("msg") or result.get("stderr") or "").strip()
                return {"host": host, "result": kind, "detail": f"{task['task']['name']}: {detail}"[:2000]}
    return None


def upload_outcome(report: dict[str, Any], archive: Path) -> dict[str, Any]:
    """Judge the upload playbook's JSON report: did each backup host store this exact archive?"""
    sha1 = hashlib.sha1(Path(archive).read_bytes(), usedforsecurity=False).hexdigest()
    copies = task_results(report, "Copy the configuration archive")
    removals = task_results(report, "Remove the older configuration archives")
    hosts: list[dict[str, Any]] = []
    for host in sorted(set(report.get("stats", {})) | set(copies)):
        failure = _first_failure(report, host)
        if failure is not None:
            hosts.append(failure)
            continue
        copy = copies.get(host, {})
        if copy.get("checksum") != sha1:
            hosts.append({"host": host, "result": "failed",
                          "detail": f"the stored copy's SHA-1 {copy.get('checksum')} is not the archive's {sha1}"})
            continue
        removed = [str(r.get("item", {}).get("path")) for r in removals.get(host, {}).get("results", [])
                   if r.get("changed")]
        hosts.append({"host": host, "result": "ok", "dest": copy.get("dest"), "removed": removed})
    ok = bool(hosts) and all(h["result"] == "ok" for h in hosts)
    return {"archive": str(archive), "ok": ok, "hosts": hosts}


def upload(inventory_dir: Path, archive: Path, *, keep: int = DEFAULT_KEEP) -> dict[str, Any]:
    """Copy an archive to the backup host (REMOTE_DIR, root 0600), keeping its newest `keep` archives there."""
    topology = load_topology(inventory_dir)
    if not topology.hosts_with_role(HostRole.BACKUP):
        raise ConfigBackupError(f"{topology.name} has no backup host; copy {archive} to offline storage yourself")
    if not Path(archive).is_file():
        raise ConfigBackupError(f"no archive at {archive}")
    if keep < 1:
        raise ConfigBackupError("keep at least one archive on the backup host (--keep 1 or more)")
    try:
        report = run_appliance_playbook(Path(inventory_dir), UPLOAD_PLAYBOOK, upload_vars(archive, keep))
    except RuntimeError as err:
        raise ConfigBackupError(f"{err}; is the backup host reachable? Try `osonctl prechecks`") from None
    return upload_outcome(report, archive)


# -- osonctl config-backup -------------------------------------------------------------------------------


def _password(args: argparse.Namespace) -> bytes:
    """--password-file, else OSON_VAULT_PASSWORD_FILE, else asked for on the terminal."""
    path = args.password_file or os.environ.get("OSON_VAULT_PASSWORD_FILE")
    if path:
        return read_password_file(Path(path))
    typed = getpass.getpass("vault password (from the safe): ").strip()
    if not typed:
        raise ConfigBackupError("no vault password given")
    return typed.encode("utf-8")


def _print_upload(outcome: dict[str, Any]) -> None:
    for host in outcome["hosts"]:
        if host["result"] == "ok":
            removed = f"; removed {len(host['removed'])} older" if host["removed"] else ""
            print(f"  uploaded to {host['host']}:{host['dest']}{removed}")
        else:
            print(f"  upload to {host['host']}: {host['result']}: {host.get('detail', '')}")


def _cmd_create(args: argparse.Namespace) -> int:
    path, manifest = create_checked(Path(args.inventory))
    print(f"{path}\n  {human_bytes(path.stat().st_size)}, {manifest.file_count} files "
          f"({human_bytes(manifest.total_bytes)} before compression and encryption), checked")
    for note in manifest.notes:
        print(f"  note: {note}")
    if args.no_upload:
        print("not uploaded (--no-upload): keep a copy off this machine")
        return 0
    outcome = upload(Path(args.inventory), path, keep=args.keep)
    _print_upload(outcome)
    if not outcome["ok"]:
        print(f"upload FAILED; the archive is kept here. Retry: osonctl config-backup upload -i {args.inventory} "
              f"{path}", file=sys.stderr)
        return 1
    return 0


def _cmd_upload(args: argparse.Namespace) -> int:
    outcome = upload(Path(args.inventory), Path(args.archive), keep=args.keep)
    _print_upload(outcome)
    return 0 if outcome["ok"] else 1


def _cmd_list(args: argparse.Namespace) -> int:
    archives = list_archives(Path(args.inventory))
    if not archives:
        print(f"no configuration archives yet; make one: osonctl config-backup create -i {args.inventory}")
        return 0
    for info in archives:
        print(f"{info.created_at:%Y-%m-%d %H:%M:%S}Z  {human_bytes(info.size):>10}  {info.path}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    password = _password(args)
    try:
        manifest = inspect(Path(args.archive), password)
    except ConfigBackupError as err:
        print(f"check FAILED: {err}", file=sys.stderr)
        return 1
    print(f"{args.archive}: ok, {manifest.file_count} files match their SHA-256 and the vault opens")
    print(f"  topology {manifest.topology} ({manifest.environment}), made {manifest.created_at.isoformat()} by "
          f"osonctl {manifest.appliance_version}, project commit {manifest.git_commit or 'unknown'}")
    print(f"  rendered firewall: {'included' if manifest.firewall_included else 'not included'}")
    for note in manifest.notes:
        print(f"  note: {note}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    target = Path(args.to)
    written = restore(Path(args.archive), _password(args), target, force=args.force,
                      firewall_dir=Path(args.firewall_to) if args.firewall_to else None)
    inventory = [p for p in written if _is_inside(p.resolve(), target.resolve())]
    firewall = [p for p in written if p not in inventory]
    print(f"restored {len(inventory)} files into {target}")
    if firewall:
        print(f"restored {len(firewall)} rendered firewall files into {firewall[0].parent}")
    password_file = vault_password_file(load_topology(target))
    state = "exists" if password_file.exists() else "is missing"
    print(f"next: the vault password file {password_file} {state}; it must hold the vault password "
          f"(mode 0600). Then: osonctl prechecks -i {target} && osonctl deploy -i {target}")
    return 0


_guarded = reported("osonctl", ConfigBackupError, TopologyError, SecretsError)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `config-backup create | upload | list | check | restore` on osonctl's subcommands."""
    cb = subparsers.add_parser(
        "config-backup", help="encrypted archives of the inventory, vault, CA and rendered firewall",
        description="Back up the control node's configuration apart from the data, so a lost control node "
                    "can be rebuilt. Archives are sealed with the vault password.")
    cb_sub = cb.add_subparsers(dest="config_backup_command", required=True)

    def password_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--password-file", metavar="F", help="file holding the vault password (default: "
                       "$OSON_VAULT_PASSWORD_FILE, else asked for)")

    create_p = cb_sub.add_parser("create", help="archive the configuration, then copy it to the backup host")
    create_p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    create_p.add_argument("--no-upload", action="store_true", help="keep the archive on this machine only")
    create_p.add_argument("--keep", type=int, default=DEFAULT_KEEP,
                          help=f"archives kept on the backup host (default {DEFAULT_KEEP})")
    create_p.set_defaults(func=_guarded(_cmd_create))

    upload_p = cb_sub.add_parser("upload", help="copy an archive to the backup host (e.g. after a failed upload)")
    upload_p.add_argument("archive", help="the .osoncfg file")
    upload_p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    upload_p.add_argument("--keep", type=int, default=DEFAULT_KEEP,
                          help=f"archives kept on the backup host (default {DEFAULT_KEEP})")
    upload_p.set_defaults(func=_guarded(_cmd_upload))

    list_p = cb_sub.add_parser("list", help="the archives on this control node")
    list_p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    list_p.set_defaults(func=_guarded(_cmd_list))

    check_p = cb_sub.add_parser("check", help="decrypt an archive and check every file against its manifest; "
                                "exits 1 when it does not open or does not match")
    check_p.add_argument("archive", help="the .osoncfg file")
    password_option(check_p)
    check_p.set_defaults(func=_guarded(_cmd_check))

    restore_p = cb_sub.add_parser("restore", help="unpack an archive's inventory into a directory (and its rendered "
                                  "firewall into the state directory)")
    restore_p.add_argument("archive", help="the .osoncfg file")
    restore_p.add_argument("--to", required=True, metavar="DIR", help="inventory directory to create, e.g. "
                           "inventory/<name>")
    restore_p.add_argument("--force", action="store_true", help="write into a non-empty DIR, overwriting the "
                           "archive's files there")
    restore_p.add_argument("--firewall-to", metavar="DIR", help="where the rendered firewall goes (default: "
                           "<state dir>/firewall of the restored topology)")
    password_option(restore_p)
    restore_p.set_defaults(func=_guarded(_cmd_restore))
