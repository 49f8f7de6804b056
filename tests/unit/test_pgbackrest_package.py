"""The appliance's pgBackRest package (roles/pgbackrest/files/build_package.py): version, cache, this machine,
and what its patches change in a real backup (a throwaway PostgreSQL 15 and repository, as the backup benchmark's)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "pgbackrest" / "files" / "build_package.py"
DEFAULTS = ROOT / "roles" / "pgbackrest" / "defaults" / "main.yml"
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_package", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_role_installs_the_version_the_script_builds(builder: ModuleType) -> None:
    defaults = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    assert defaults["pgbackrest_package_version"] == builder.VERSION
    assert builder.VERSION.startswith(builder.DEBIAN_VERSION + "+")
    # Sorts above Debian's package, so apt never swaps ours back for it.
    compare = subprocess.run(["dpkg", "--compare-versions", builder.VERSION, "gt", builder.DEBIAN_VERSION], check=False)
    assert compare.returncode == 0


def test_every_patch_says_what_it_does_and_touches_the_source_tree(builder: ModuleType) -> None:
    for patch in builder.patches():
        text = patch.read_text(encoding="utf-8")
        assert text.startswith("Description: "), f"{patch.name}: DEP-3 header first"
        assert "\nForwarded: " in text
        targets = [line.split()[1] for line in text.splitlines() if line.startswith("+++ ")]
        assert targets and all(t.startswith("b/src/") for t in targets), targets


def test_a_package_built_from_the_same_inputs_is_reused_without_the_mirror(builder: ModuleType,
                                                                           tmp_path: Path) -> None:
    target = tmp_path / f"pgbackrest-{builder.build_digest()[:16]}" / builder.deb_name()
    target.parent.mkdir()
    target.write_bytes(b"built before")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dest", str(tmp_path), "--mirror", "http://127.0.0.1:9/"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"changed": False, "deb": str(target), "digest": builder.build_digest(),
                      "package": "pgbackrest", "version": builder.VERSION}


def test_a_changed_patch_means_a_new_build_and_an_unreachable_mirror_says_so(builder: ModuleType, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = builder.build_digest()
    patches = tmp_path / "patches"
    shutil.copytree(builder.PATCH_DIR, patches)
    first = sorted(patches.glob("*.patch"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.setattr(builder, "PATCH_DIR", patches)
    assert builder.build_digest() != before
    with pytest.raises(builder.BuildError, match=r"cannot fetch http://127\.0\.0\.1:9/pool/main/p/pgbackrest/.*--mirror"):
        builder.build(tmp_path / "debs", "http://127.0.0.1:9")


def test_this_machine_runs_the_appliances_pgbackrest(builder: ModuleType) -> None:
    """scripts/host-setup.sh installs it: the backup benchmark and the local drills use this machine's."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Version}", "pgbackrest"],
                          capture_output=True, text=True, check=False)
    # "ii ": installed; a removed package keeps its version in dpkg's database ("rc ").
    assert (proc.returncode, proc.stdout) == (0, f"ii {builder.VERSION}"), (
        f"pgbackrest here is {proc.stdout or 'not installed'}; run scripts/host-setup.sh (make setup)")


@pytest.fixture(scope="module")
def bench_module() -> ModuleType:
    """The backup benchmark (bench/backup_restore.py), whose modules import their siblings by name."""
    sys.path.insert(0, str(BENCH))
    try:
        import backup_restore
    finally:
        sys.path.remove(str(BENCH))
    return backup_restore


@pytest.fixture
def bench(bench_module: ModuleType) -> Iterator[Any]:
    """A started PostgreSQL 15 with a pgBackRest stanza and the role's settings (the benchmark's ``Bench``), in a
    directory the postgres user can reach; stopped and removed afterwards."""
    if shutil.which("pgbackrest") is None:
        pytest.skip("pgbackrest not installed: run scripts/host-setup.sh (make setup)")
    work = Path(tempfile.mkdtemp(prefix="oson-test-pgbackrest-"))
    work.chmod(0o711)
    world = bench_module.Bench(bench_module.role_settings(ROOT), work_dir=work, keep=False)
    try:
        world.start()
        yield world
    finally:
        world.close()
        shutil.rmtree(work, ignore_errors=True)


def log_time(line: str) -> float:
    """Epoch seconds of a pgBackRest log line (its time is the machine's local time)."""
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").timestamp()


def is_copy_line(line: str) -> bool:
    """A file stored or copied by the backup (the benchmark's phases start the copy at the first)."""
    return " backup file " in line or " store zero-length file " in line


def last_backup_log(bench: Any) -> list[str]:
    lines = (bench.repo.log_path / "bench-backup.log").read_text(encoding="utf-8").splitlines()
    begins = [i for i, line in enumerate(lines) if "backup command begin" in line]
    return lines[begins[-1]:]


@pytest.mark.timeout(150)
def test_the_copy_starts_after_the_copy_start_second_and_archiving_is_still_checked_first(
        bench_module: ModuleType, bench: Any) -> None:
    """backup-waits.patch overlaps the archive check with the wait for the next whole second. What a backup must
    keep: no file is copied before the manifest's copy start (the second after the manifest was built), and a
    backup whose WAL does not reach the archive fails before copying anything."""
    with bench.pg.connect("bench") as conn:
        conn.execute("CREATE TABLE payments AS SELECT g AS id, g * 100 AS amount FROM generate_series(1, 200000) g")
    bench.repo.run("backup", "--type=full", timeout=120)
    label = bench.repo.last_backup()["label"]
    manifest = bench.repo.run("repo-get", f"backup/bench/{label}/backup.manifest", timeout=60)
    copy_start = int(re.search(r"^backup-timestamp-copy-start=(\d+)$", manifest, re.MULTILINE)[1])

    log = last_backup_log(bench)
    checked = next(line for line in log if "check archive for" in line)
    copied = [line for line in log if is_copy_line(line)]
    assert copied, "the backup copied no file"
    # The copy start is the second after the manifest was built, which the archive check follows.
    assert int(log_time(checked)) + 1 >= copy_start
    # Every file was copied (its log line written) at or after the copy start.
    assert min(log_time(line) for line in copied) >= copy_start, (checked, copied[0], copy_start)

    # Archiving broken: the backup fails on the archive check, having copied nothing.
    bench.pg.stop()
    # pgBackRest insists that the archive command names it; this one fails whatever it is given.
    bench.pg.settings["archive_command"] = "false pgbackrest archive-push %p"
    bench.pg.start()
    with pytest.raises(bench_module.BenchError) as failure:
        bench.repo.run("backup", "--type=full", "--archive-timeout=3", timeout=120)
    assert re.search(r"WAL segment \w+ was not archived before the 3000ms timeout", str(failure.value))
    log = last_backup_log(bench)
    assert any("check archive for" in line for line in log)
    assert not any(is_copy_line(line) for line in log), "files were copied before archiving was checked"
