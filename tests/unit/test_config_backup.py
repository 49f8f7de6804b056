"""Configuration archives: sealed with the vault password, checked file by file, restored byte for byte."""

from __future__ import annotations

import argparse
import getpass
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from appliance import __version__, config_backup, secrets
from appliance.ansible_run import run_json_playbook
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab inventory with a real vault, its password file in a 'safe' and the state directory in tmp_path."""
    monkeypatch.setenv("OSON_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("OSON_VAULT_PASSWORD_FILE", str(tmp_path / "safe" / "vault-pass"))
    inv = tmp_path / "inventory" / "lab"
    inv.mkdir(parents=True)
    shutil.copy(ROOT / "inventory" / "lab" / "topology.yml", inv / "topology.yml")
    secrets.ensure_secrets(inv, load_topology(inv))
    (inv / "group_vars" / "all" / "main.yml").write_text("oson_note: kept as it is\n", encoding="utf-8")
    (inv / "host_vars").mkdir()
    (inv / "host_vars" / "osonlb1.yml").write_bytes(b"# \xd0\x9e\xd0\xa1\xd0\x9e\xd0\x9d\nkey: 1\n")
    return inv


def password() -> bytes:
    return Path(os.environ["OSON_VAULT_PASSWORD_FILE"]).read_bytes().strip()


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tar_members(archive: Path, pw: bytes) -> dict[str, bytes]:
    payload = config_backup.unseal(archive.read_bytes(), pw)
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def seal_tar(members: dict[str, bytes], pw: bytes, path: Path) -> Path:
    """A hand-made archive: the given members, sealed with the right password."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(config_backup.seal(buffer.getvalue(), pw))
    return path


def test_round_trip_gives_identical_bytes_and_a_truthful_manifest(inventory: Path, tmp_path: Path) -> None:
    archive = config_backup.create(inventory)
    assert archive.parent == tmp_path / "state" / "osonlab" / "config-backups"
    assert archive.name.startswith("oson-config-osonlab-") and archive.suffix == ".osoncfg"
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    assert archive.read_bytes()[:7] == b"OSONCFG"

    manifest = config_backup.inspect(archive, password())
    original = files_under(inventory)
    assert {f.path: (f.sha256, f.size) for f in manifest.files} == {
        f"inventory/{name}": (hashlib.sha256(data).hexdigest(), len(data)) for name, data in original.items()}
    assert (manifest.topology, manifest.environment, manifest.appliance_version) == ("osonlab", "lab", __version__)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert manifest.git_commit == (head.stdout.strip() if head.returncode == 0 else None)
    assert not manifest.firewall_included
    assert any("no rendered firewall configuration" in note for note in manifest.notes)

    target = tmp_path / "rebuilt" / "inventory" / "osonlab"
    written = config_backup.restore(archive, password().decode(), target)
    assert files_under(target) == original
    assert sorted(written) == sorted(target / name for name in original)
    assert stat.S_IMODE(secrets.vault_file(target).stat().st_mode) == 0o600
    topology = load_topology(target)
    assert secrets.load_secrets(target, topology) == secrets.load_secrets(inventory, topology)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "the staging directory is gone"


def test_the_vault_password_is_never_archived(inventory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The password file inside the inventory (where .gitignore expects it), and a stray copy of it.
    inside = inventory / ".vault-pass"
    shutil.copy(os.environ["OSON_VAULT_PASSWORD_FILE"], inside)
    monkeypatch.setenv("OSON_VAULT_PASSWORD_FILE", str(inside))
    (inventory / "notes").mkdir()
    (inventory / "notes" / "pass-copy.txt").write_bytes(b"  " + password() + b"\n\n")

    archive = config_backup.create(inventory)
    members = tar_members(archive, password())
    assert "inventory/group_vars/all/vault.yml" in members
    assert "inventory/.vault-pass" not in members and "inventory/notes/pass-copy.txt" not in members
    assert not [name for name, data in members.items() if password() in data]
    notes = config_backup.inspect(archive, password()).notes
    assert "left out inventory/.vault-pass: the vault password file (kept offline, never archived)" in notes
    assert any("pass-copy.txt" in n and "never archived" in n for n in notes)


def test_a_wrong_password_fails_clearly_and_restores_nothing(inventory: Path, tmp_path: Path) -> None:
    archive = config_backup.create(inventory)
    with pytest.raises(config_backup.ConfigBackupError, match=r"^wrong vault password, or the archive was altered$"):
        config_backup.inspect(archive, "not-the-vault-password")
    target = tmp_path / "restored"
    with pytest.raises(config_backup.ConfigBackupError, match="wrong vault password"):
        config_backup.restore(archive, b"not-the-vault-password", target)
    assert not target.exists()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (0, "not an OSON configuration archive"),  # magic
        (7, "archive format 0 is not known"),  # format version
        (10, "wrong vault password, or the archive was altered"),  # scrypt salt
        (30, "wrong vault password, or the archive was altered"),  # nonce
        (200, "wrong vault password, or the archive was altered"),  # ciphertext
        (-1, "wrong vault password, or the archive was altered"),  # GCM tag
    ],
)
def test_one_flipped_byte_is_refused(inventory: Path, offset: int, message: str) -> None:
    archive = config_backup.create(inventory)
    blob = bytearray(archive.read_bytes())
    blob[offset] ^= 0x01 if offset != 7 else config_backup.FORMAT_VERSION
    archive.write_bytes(bytes(blob))
    with pytest.raises(config_backup.ConfigBackupError, match=message):
        config_backup.inspect(archive, password())


def test_a_truncated_archive_is_refused(inventory: Path) -> None:
    archive = config_backup.create(inventory)
    archive.write_bytes(archive.read_bytes()[:20])
    with pytest.raises(config_backup.ConfigBackupError, match="not an OSON configuration archive"):
        config_backup.inspect(archive, password())


def test_restore_refuses_a_non_empty_directory_unless_forced(inventory: Path, tmp_path: Path) -> None:
    archive = config_backup.create(inventory)
    target = tmp_path / "target"
    target.mkdir()
    (target / "local-notes.txt").write_text("mine\n", encoding="utf-8")
    (target / "topology.yml").write_text("edited since\n", encoding="utf-8")
    with pytest.raises(config_backup.ConfigBackupError, match=r"is not empty.*--force"):
        config_backup.restore(archive, password(), target)
    assert files_under(target) == {"local-notes.txt": b"mine\n", "topology.yml": b"edited since\n"}

    config_backup.restore(archive, password(), target, force=True)
    assert files_under(target) == {**files_under(inventory), "local-notes.txt": b"mine\n"}


def test_the_rendered_firewall_is_archived_and_goes_back_to_the_state_directory(
    inventory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    firewall = tmp_path / "state" / "osonlab" / "firewall"
    (firewall / "osonlb1").mkdir(parents=True)
    (firewall / "osonlb1" / "nftables.conf").write_text("table inet oson {}\n", encoding="utf-8")
    (firewall / "osondb1.nft").write_text("table inet oson { chain input {} }\n", encoding="utf-8")

    archive = config_backup.create(inventory)
    manifest = config_backup.inspect(archive, password())
    assert manifest.firewall_included
    assert {f.path for f in manifest.files} >= {"firewall/osonlb1/nftables.conf", "firewall/osondb1.nft"}

    # On the same control node the rendered firewall is there already: refused, nothing written.
    target = tmp_path / "rebuilt"
    with pytest.raises(config_backup.ConfigBackupError, match=r"rendered firewall configuration.*not empty"):
        config_backup.restore(archive, password(), target)
    assert not target.exists() or not any(target.iterdir())

    # A new control node: an empty state directory.
    monkeypatch.setenv("OSON_STATE_DIR", str(tmp_path / "new-state"))
    written = config_backup.restore(archive, password(), target)
    restored_firewall = tmp_path / "new-state" / "osonlab" / "firewall"
    assert files_under(restored_firewall) == files_under(firewall)
    assert files_under(target) == files_under(inventory)
    assert restored_firewall / "osondb1.nft" in written

    elsewhere = tmp_path / "fw-copy"
    config_backup.restore(archive, password(), tmp_path / "third", firewall_dir=elsewhere)
    assert files_under(elsewhere) == files_under(firewall)


@pytest.mark.parametrize("bad_name", ["inventory/../../escaped", "/etc/oson-escaped", "elsewhere/x"])
def test_members_outside_the_archive_layout_are_rejected(inventory: Path, tmp_path: Path, bad_name: str) -> None:
    data = b"payload\n"
    manifest = config_backup.Manifest(
        format=1, topology="osonlab", environment="lab", created_at="2026-01-01T00:00:00Z",
        appliance_version=__version__, git_commit=None, firewall_included=False,
        files=[config_backup.ManifestFile(path=bad_name, sha256=hashlib.sha256(data).hexdigest(), size=len(data))])
    archive = seal_tar({"MANIFEST.json": manifest.model_dump_json().encode(), bad_name: data}, password(),
                       tmp_path / "oson-config-osonlab-20260101T000000Z.osoncfg")
    with pytest.raises(config_backup.ConfigBackupError, match="damaged archive: unexpected member"):
        config_backup.restore(archive, password(), tmp_path / "target")
    assert not (tmp_path / "target").exists() and not (tmp_path / "escaped").exists()


def test_a_file_that_does_not_match_the_manifest_is_named(inventory: Path, tmp_path: Path) -> None:
    members = tar_members(config_backup.create(inventory), password())
    members["inventory/group_vars/all/main.yml"] = b"oson_note: changed before sealing\n"
    forged = seal_tar(members, password(), tmp_path / "forged.osoncfg")
    with pytest.raises(config_backup.ConfigBackupError, match=r"inventory/group_vars/all/main\.yml does not match"):
        config_backup.inspect(forged, password())
    del members["MANIFEST.json"]
    with pytest.raises(config_backup.ConfigBackupError, match=r"MANIFEST\.json is missing or invalid"):
        config_backup.inspect(seal_tar(members, password(), tmp_path / "no-manifest.osoncfg"), password())


def test_create_refuses_a_password_that_does_not_open_the_vault(inventory: Path) -> None:
    Path(os.environ["OSON_VAULT_PASSWORD_FILE"]).write_text("some-other-password\n", encoding="utf-8")
    with pytest.raises(config_backup.ConfigBackupError, match="does not open"):
        config_backup.create(inventory)
    secrets.vault_file(inventory).unlink()
    with pytest.raises(config_backup.ConfigBackupError, match="osonctl secrets init"):
        config_backup.create(inventory)
    assert config_backup.list_archives(inventory) == []


def test_list_archives_oldest_first_and_only_this_topology(inventory: Path) -> None:
    first = config_backup.create(inventory)
    second = config_backup.create(inventory)
    assert first != second and first.is_file()
    (first.parent / "oson-config-othername-20200101T000000Z.osoncfg").write_bytes(b"x")
    (first.parent / "README.txt").write_bytes(b"x")
    listed = config_backup.list_archives(inventory)
    assert [a.path for a in listed] == [first, second]
    assert all(a.topology == "osonlab" and a.size == a.path.stat().st_size for a in listed)
    assert listed[0].created_at <= listed[1].created_at


# -- osonctl config-backup -------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="osonctl")
    sub = parser.add_subparsers(dest="command", required=True)
    config_backup.add_parser(sub)
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse(argv)
    return int(args.func(args))


def test_cli_create_list_check_restore(
    inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(["config-backup", "create", "-i", str(inventory), "--no-upload"]) == 0
    out = capsys.readouterr().out
    archive = config_backup.list_archives(inventory)[0].path
    assert str(archive) in out and f"{len(files_under(inventory))} files" in out and "not uploaded" in out

    assert run(["config-backup", "list", "-i", str(inventory)]) == 0
    assert str(archive) in capsys.readouterr().out

    safe_copy = os.environ["OSON_VAULT_PASSWORD_FILE"]
    assert run(["config-backup", "check", str(archive), "--password-file", safe_copy]) == 0
    assert "ok," in capsys.readouterr().out
    wrong = tmp_path / "wrong-pass"
    wrong.write_text("nope\n", encoding="utf-8")
    assert run(["config-backup", "check", str(archive), "--password-file", str(wrong)]) == 1
    assert "wrong vault password" in capsys.readouterr().err

    target = tmp_path / "restored"
    assert run(["config-backup", "restore", str(archive), "--to", str(target)]) == 0  # password from the env
    out = capsys.readouterr().out
    assert f"restored {len(files_under(inventory))} files into {target}" in out and "osonctl deploy" in out
    assert files_under(target) == files_under(inventory)
    assert run(["config-backup", "restore", str(archive), "--to", str(target)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert run(["config-backup", "restore", str(archive), "--to", str(target), "--force"]) == 0

    # No password file anywhere: asked for on the terminal.
    typed = password().decode()
    monkeypatch.delenv("OSON_VAULT_PASSWORD_FILE")
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": typed)
    assert run(["config-backup", "check", str(archive)]) == 0
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": "mistyped")
    assert run(["config-backup", "check", str(archive)]) == 1


def test_cli_reports_a_missing_archive_and_needs_a_verb(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pw = tmp_path / "pw"
    pw.write_text("x\n", encoding="utf-8")
    assert run(["config-backup", "restore", str(tmp_path / "none.osoncfg"), "--to", str(tmp_path / "t"),
                "--password-file", str(pw)]) == 2
    assert "no archive at" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["config-backup"])


# -- the upload playbook, on this machine as the "backup host" --------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="the playbook stores archives owned by root")
def test_the_upload_playbook_stores_the_archive_and_keeps_the_newest(inventory: Path, tmp_path: Path) -> None:
    archive = config_backup.create(inventory)
    remote = tmp_path / "backup-host" / "config-backups"
    remote.mkdir(parents=True)
    older = [remote / f"oson-config-osonlab-2026010{d}T000000Z.osoncfg" for d in (1, 2, 3)]
    for path in older:
        path.write_bytes(b"an older archive")
    (remote / "operator-notes.txt").write_text("not an archive\n", encoding="utf-8")
    local = tmp_path / "local-inventory"
    local.mkdir()
    (local / "topology.yml").write_text(json.dumps({"backup": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}),
        encoding="utf-8")
    password_file = Path(os.environ["OSON_VAULT_PASSWORD_FILE"])

    extra = {**config_backup.upload_vars(archive, keep=2), "oson_config_dir": str(remote)}
    outcome = config_backup.upload_outcome(
        run_json_playbook(local, password_file, config_backup.UPLOAD_PLAYBOOK, extra), archive)
    stored = remote / archive.name
    assert outcome["ok"], outcome
    assert outcome["hosts"] == [{"host": "localhost", "result": "ok", "dest": str(stored),
                                 "removed": [str(p) for p in older[:2]]}]
    assert stored.read_bytes() == archive.read_bytes()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stat.S_IMODE(remote.stat().st_mode) == 0o700
    assert sorted(p.name for p in remote.iterdir()) == sorted([older[2].name, archive.name, "operator-notes.txt"])

    # The copy fails (no such file on the control node): the failing task is named.
    missing = tmp_path / "oson-config-osonlab-20990101T000000Z.osoncfg"
    extra = {**config_backup.upload_vars(missing), "oson_config_dir": str(remote)}
    failed = config_backup.upload_outcome(
        run_json_playbook(local, password_file, config_backup.UPLOAD_PLAYBOOK, extra), archive)
    assert not failed["ok"] and failed["hosts"][0]["result"] == "failed"
    assert failed["hosts"][0]["detail"].startswith("Copy the configuration archive:")

    # A stored file that is not this archive is not an upload.
    other = tmp_path / "oson-config-osonlab-20990102T000000Z.osoncfg"
    other.write_bytes(b"some other bytes")
    extra = {**config_backup.upload_vars(other), "oson_config_dir": str(remote)}
    mismatch = config_backup.upload_outcome(
        run_json_playbook(local, password_file, config_backup.UPLOAD_PLAYBOOK, extra), archive)
    assert not mismatch["ok"] and "SHA-1" in mismatch["hosts"][0]["detail"]
