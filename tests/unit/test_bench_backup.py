"""The backup and restore benchmark (bench/backup_restore.py) at a tiny size, with real PostgreSQL and pgBackRest.

Each run starts its own PostgreSQL 15 and pgBackRest repository in a temporary directory (about 10-25 s on
two cores); the interrupted run is stopped a moment after it starts generating data.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "backup_restore.py"

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(shutil.which("pgbackrest") is None, reason="pgbackrest not installed (apt-get install "
                       "pgbackrest)"),
]


def processes_under(path: Path) -> list[str]:
    """Command lines of running processes that name ``path`` (a server or tool left behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture
def work() -> Iterator[Path]:
    """An empty directory for the benchmark's temporary directory, reachable by the postgres user (pytest's
    own temporary directories are private to root); removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="oson-test-bench-"))
    path.chmod(0o711)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def load_pgbackrest_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_pgbackrest", ROOT / "bench" / "_pgbackrest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_tiny_run_measures_backup_and_restore_and_cleans_up(work: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench-backup.json"
    result = subprocess.run([sys.executable, str(SCRIPT), "--size-gb", "0.02", "--repeat", "2", "--transactions", "300",
                             "--work-dir", str(work), "--out", str(out)],
                            capture_output=True, text=True, timeout=110, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))

    # Measured with the role's settings.
    defaults = yaml.safe_load((ROOT / "roles/pgbackrest/defaults/main.yml").read_text(encoding="utf-8"))
    assert figures["settings"]["compress_type"] == defaults["pgbackrest_compress_type"]
    assert figures["settings"]["process_max"] == defaults["pgbackrest_process_max"]
    assert figures["settings"]["cipher_type"] == "aes-256-cbc"

    # At least the size asked for; the raw copy copied the data directory without pg_wal.
    assert figures["data_bytes"] >= 0.02 * 1024**3
    assert figures["data_directory_bytes"] == figures["data_bytes"] + figures["pg_wal_bytes"]
    assert abs(figures["raw_copy_bytes"] - figures["data_bytes"]) < 0.05 * figures["data_bytes"]
    # pgBackRest backed up about the same bytes, and its repository holds less (lz4) than that.
    assert abs(figures["backup_bytes"] - figures["data_bytes"]) < 0.1 * figures["data_bytes"]
    assert 0 < figures["backup_repository_bytes"] <= figures["repository_bytes"] < figures["backup_bytes"]

    for name in ("raw_copy_seconds", "backup_seconds", "restore_seconds", "recovery_seconds", "rto_seconds"):
        assert figures[name] > 0, name
    assert figures["rto_seconds"] == pytest.approx(figures["restore_seconds"] + figures["recovery_seconds"], abs=0.02)
    # Two rounds of copy and backup; the figures are their medians.
    assert len(figures["raw_copy_runs"]) == len(figures["backup_runs"]) == 2
    assert figures["raw_copy_seconds"] == pytest.approx(statistics.median(figures["raw_copy_runs"]), abs=0.01)
    assert figures["backup_seconds"] == pytest.approx(statistics.median(figures["backup_runs"]), abs=0.01)
    ratio = figures["raw_copy_seconds"] / figures["backup_seconds"]
    assert figures["backup_ratio"] == pytest.approx(ratio, abs=0.02 + 0.02 * ratio)

    # The restore brought back every transaction made after the backup (replayed from the archived WAL).
    check = figures["restore_check"]
    assert check["passed"] is True
    assert check["after"] == check["before"]
    assert check["before"]["history"] == 300 == figures["transactions_after_backup"]
    assert check["before"]["accounts"] == 100_000 * figures["pgbench_scale"]
    # The realistic layout by default: pgbench_accounts in 16 partitions, each its own files.
    assert figures["pgbench_partitions"] == 16
    assert figures["data_files"] > 16 and 0 < figures["largest_file_bytes"] < figures["data_bytes"] / 8
    # Where the backup's time went, from pgBackRest's own log: within the time measured around it.
    phases = figures["backup_phase_seconds"]
    assert set(phases) == {"start", "archive_wait", "copy", "stop"}
    assert all(value >= 0 for value in phases.values()) and phases["copy"] > 0
    assert sum(phases.values()) <= max(figures["backup_runs"]) + 0.05
    assert figures["backup_cpu_seconds"] > 0 and figures["raw_copy_cpu_seconds"] > 0
    assert figures["pgbackrest_options"] == []

    goals = figures["goals"]
    assert goals["backup_ratio"]["met"] is (figures["backup_ratio"] >= 0.7)
    assert goals["rto_seconds"]["met"] is (figures["rto_seconds"] < 120)
    assert figures["vip_failover_seconds"] is None and goals["vip_failover_seconds"]["met"] is None
    assert figures["database_failover_seconds"] is None
    assert re.search(r"VIP failover\s+not measured \(run with --lab\)", result.stdout)
    assert re.search(r"backup ratio\s+\d+\.\d\d", result.stdout)

    # Nothing left behind: no server, no temporary directory.
    assert processes_under(work) == []
    assert list(work.iterdir()) == []


def test_interrupted_run_stops_the_server_and_removes_its_directory(work: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench-backup.json"
    process = subprocess.Popen([sys.executable, str(SCRIPT), "--size-gb", "0.5", "--work-dir", str(work),
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "generating data" in line:
                break
        else:
            pytest.fail(f"the benchmark ended before generating data: {process.stderr and process.stderr.read()}")
        assert processes_under(work), "the server should be running while data is generated"
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: to the benchmark and the pgbench it runs
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert not out.exists()
    assert processes_under(work) == []
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("option", ["no-checksum-page", "--type=incr", "--repo=2"])
def test_refuses_options_that_are_not_for_trying(option: str) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), f"--pgbackrest-option={option}"], capture_output=True,
                            text=True, timeout=30, check=False)
    assert result.returncode == 2
    assert "--pgbackrest-option" in result.stderr and "give a pgBackRest option" in result.stderr


def test_settings_follow_the_role(tmp_path: Path) -> None:
    module = load_pgbackrest_module()
    for relative in (module.DEFAULTS, module.TEMPLATE):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)
    defaults = tmp_path / module.DEFAULTS
    text = defaults.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^pgbackrest_compress_type: .*$", "pgbackrest_compress_type: zst", text)
    text = re.sub(r"(?m)^pgbackrest_process_max: .*$", "pgbackrest_process_max: 4", text)
    defaults.write_text(text, encoding="utf-8")
    settings = module.role_settings(tmp_path)
    assert (settings.compress_type, settings.process_max) == ("zst", 4)
    assert (settings.cipher_type, settings.bundle, settings.start_fast) == ("aes-256-cbc", "y", "y")

    defaults.write_text(text.replace("pgbackrest_process_max: 4", "pgbackrest_process_max: '{{ cores }}'"),
                        encoding="utf-8")
    with pytest.raises(module.BenchError, match="pgbackrest_process_max"):
        module.role_settings(tmp_path)


def test_phases_start_the_copy_at_the_first_file_stored_not_at_the_end_of_the_first_copied() -> None:
    """pgBackRest logs an empty file as the copy begins and a copied file when it is done (a large one late)."""
    module = load_pgbackrest_module()
    log = """\
2026-11-22 15:33:17.000 P00   INFO: backup command begin 2.45: --stanza=bench
2026-11-22 15:33:18.000 P00   INFO: execute non-exclusive backup start: backup begins after the checkpoint
2026-11-22 15:33:18.020 P00   INFO: backup start archive = 00000001000000020000002A, lsn = 2/2A000028
2026-11-22 15:33:18.034 P00   INFO: check archive for prior segment 000000010000000200000029
2026-11-22 15:33:19.007 P00 DETAIL: store zero-length file /pg/data/base/1/13394
2026-11-22 15:33:19.476 P02 DETAIL: backup file /pg/data/base/16384/16447 (273.8MB, 5.32%) checksum c5e9
2026-11-22 15:33:24.000 P00   INFO: execute non-exclusive backup stop and wait for all WAL segments to archive
2026-11-22 15:33:24.100 P00   INFO: backup command end: completed successfully (7100ms)
"""
    phases = module.backup_phases(log)
    assert (phases.start, phases.archive_wait, phases.copy, phases.stop) == (1.02, 0.987, 4.993, 0.1)
    # Without an empty file, the first file copied marks it.
    without_empty = "\n".join(line for line in log.splitlines() if "zero-length" not in line)
    assert module.backup_phases(without_empty).archive_wait == pytest.approx(1.456)
    # Of several backups in the log, the last one counts.
    assert module.backup_phases(without_empty + "\n" + log).archive_wait == pytest.approx(0.987)
    with pytest.raises(module.BenchError, match="copying"):
        module.backup_phases("\n".join(line for line in log.splitlines() if "file" not in line))
