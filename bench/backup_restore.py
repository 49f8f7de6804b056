"""Benchmark: backup throughput against a raw copy of the data directory, and the time to restore (RTO).

    .venv/bin/python bench/backup_restore.py [--size-gb 5.0] [--repeat 3] [--transactions 2000]
                                             [--partitions 16] [--pgbackrest-option OPTION ...]
                                             [--keep] [--lab] [--work-dir DIR] [--out FILE]

One run, one machine, the appliance's pgBackRest settings (compression type and process-max from the
pgbackrest role's defaults; aes-256-cbc, bundling and fast start as in its template), a throwaway
repository in a temporary directory:

1. a PostgreSQL 15 as the appliance runs it (data checksums, fsync, full_page_writes, synchronous_commit,
   wal_log_hints, wal_level replica) archiving its WAL into the repository with ``archive-push``;
   ``pgbench -i`` generates at least ``--size-gb`` GiB of data (5 by default: a backup's fixed cost, up
   to a second whatever the size, is then a small share of it, so the ratio measures throughput; the
   stanza is created first, so the generated WAL is archived as it is written and pg_wal does not pile
   up);
2. after a checkpoint, a raw copy (``cp -a``, then ``sync -f``) of the data directory without pg_wal,
   which a backup does not copy either; then a full ``pgbackrest backup`` (it fsyncs what it writes).
   Ratio = raw copy seconds / backup seconds (above 1: the backup is faster than a raw copy). Both read
   the same warm page cache, and the filesystem is flushed before each clock starts. ``--repeat`` rounds
   of copy and backup (3 by default); the figures are their medians, with the CPU seconds each took
   and the backup's phases from pgBackRest's log (start: the checkpoint; archive wait: until the WAL
   segment that pg_backup_start closed is archived, the manifest, the next whole second; copy; stop:
   until the last segment is archived).
   pgBackRest copies one file per process, so the layout matters: by default pgbench_accounts is
   split into ``--partitions`` 16 partitions (at 1 GiB, files of about 55 MiB with their indexes
   beside them, like a real database's tables and indexes; a larger database has many 1 GiB segments
   anyway); ``--partitions 0`` keeps one table, one ~0.9 GiB file that one process copies alone.
   ``--pgbackrest-option`` adds an option to the backup command (e.g. ``--no-checksum-page``) to see
   what a setting costs; the figures then say so;
3. ``--transactions`` pgbench transactions after the backup (WAL to replay), the accounts' row count and
   balance sum and the history's row count noted, PostgreSQL stopped, the data directory removed;
   RTO = from the start of ``pgbackrest restore`` until the restored server has finished recovery and
   answered ``SELECT count(*) FROM pgbench_accounts``; the restored figures must equal the noted ones;
4. VIP and database failover come from two lab drills (``--lab``; bench/failover.py), which also count
   the acknowledged payments lost.

It prints a table of the figures and their goals (ratio >= 0.7, RTO < 120 s for 1 GiB, VIP failover
< 3 s, database failover < 30 s) and writes them to artifacts/bench-backup.json. It exits 0 when the
benchmark ran, whether or not a goal was met; 1 when a step failed or the restored data differ, 130 when
interrupted. The server is stopped and the temporary directory removed in every case unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from _pgbackrest import BackupPhases, BenchError, Repository, RoleSettings, owned_dir, role_settings, version
from failover import ACKNOWLEDGED_LOST, DATABASE_FAILOVER, VIP_FAILOVER, lab_failover_figures

from appliance.drills.local import DURABLE, PG_BIN, LocalClusterError, LocalPostgres, free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
MIB, GIB = 1024**2, 1024**3
# Bytes of data directory (without pg_wal) per pgbench scale unit, a little under the measured ~15.6 MiB
# so that the generated size is never below the one asked for.
BYTES_PER_SCALE = 15 * MIB
DATABASE = "bench"
# pgbench_accounts' partitions unless told otherwise: at 1 GiB, relation files of tens of MiB.
DEFAULT_PARTITIONS = 16
RATIO_GOAL, RTO_GOAL = 0.7, 120.0
VIP_GOAL, DATABASE_FAILOVER_GOAL = 3.0, 30.0
NOT_MEASURED = "not measured (run with --lab)"
NO_LAB = "not measured (the lab drills did not give it)"

_STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - _STARTED:7.1f} s] {message}", flush=True)


def server_settings(archive_command: str) -> dict[str, str]:
    """The appliance's durability settings (roles/postgresql), archiving into the benchmark's repository."""
    return {**DURABLE, "full_page_writes": "on", "wal_log_hints": "on", "wal_level": "replica", "hot_standby": "on",
            "archive_mode": "on", "archive_command": archive_command, "max_wal_size": "1GB"}


@dataclass(frozen=True)
class Snapshot:
    """What the restore must bring back: pgbench's accounts and history after the last transaction."""

    accounts: int
    balance_sum: int
    history: int


def tree_bytes(path: Path, skip: str | None = None) -> int:
    """Total size of the regular files under ``path`` (the top-level entry ``skip`` left out)."""
    total = 0
    for entry in os.scandir(path):
        if entry.name == skip:
            continue
        if entry.is_dir(follow_symlinks=False):
            total += tree_bytes(Path(entry.path))
        elif entry.is_file(follow_symlinks=False):
            total += entry.stat(follow_symlinks=False).st_size
    return total


def data_files(path: Path) -> tuple[int, int]:
    """Number of regular files under ``path`` and the size of the largest."""
    count = largest = 0
    for directory, _, names in os.walk(path):
        for name in names:
            entry = Path(directory) / name
            if entry.is_file() and not entry.is_symlink():
                count += 1
                largest = max(largest, entry.stat().st_size)
    return count, largest


def children_cpu() -> float:
    """CPU seconds (user and system) of every finished child process so far, theirs included."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sync_filesystem(path: Path) -> None:
    """``sync -f``: flush the filesystem that holds ``path`` and wait until it is on disk."""
    run_tool(["sync", "-f", str(path)])


def run_tool(command: list[str], *, user: str | None = None, timeout: float = 3600) -> str:
    """Run a PostgreSQL client tool; its output, or a BenchError with its message."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, user=user)
    if result.returncode != 0:
        output = (result.stderr.strip() or result.stdout.strip())[-3000:]
        raise BenchError(f"{Path(command[0]).name} failed ({result.returncode}): {output}")
    return result.stdout


class Bench:
    """The throwaway world of one run: a temporary directory, one PostgreSQL, one pgBackRest repository."""

    def __init__(self, settings: RoleSettings, *, work_dir: Path | None, keep: bool) -> None:
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix="oson-bench-backup-", dir=work_dir))
        try:
            port = free_port()
            self.pg = LocalPostgres(self.root / "pg", {}, port)
            owned_dir(self.root, self.pg.user)
            self._check_reachable()
            self.repo = Repository(self.root, settings, pg_data=self.pg.data, pg_socket=self.pg.root, pg_port=port,
                                   user=self.pg.user)
            self.pg.settings = server_settings(self.repo.archive_command)
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _check_reachable(self) -> None:
        user = self.pg.user
        if user is not None and subprocess.run(["test", "-w", str(self.root)], user=user, check=False).returncode:
            raise BenchError(f"the {user} user (PostgreSQL, pgBackRest) cannot write to {self.root}: give every "
                             "directory above it search permission (chmod o+x) or pick another --work-dir")

    def close(self) -> None:
        self.pg.stop()
        if self.keep:
            say(f"kept {self.root} (server stopped)")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- steps -----------------------------------------------------------------------------------------
    def start(self) -> None:
        owned_dir(self.pg.root, self.pg.user)
        self.pg.initdb()
        run_tool([str(PG_BIN / "pg_checksums"), "--enable", "-D", str(self.pg.data)], user=self.pg.user)
        self.repo.write_config()
        self.pg.start()
        with self.pg.connect() as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self.repo.run("stanza-create", timeout=300)

    def pgbench(self, *args: str) -> list[str]:
        return [str(PG_BIN / "pgbench"), "-h", str(self.pg.root), "-p", str(self.pg.port), "-U", "postgres",
                *args, DATABASE]

    def generate(self, scale: int, partitions: int = 0) -> float:
        """``pgbench -i -s scale`` (pgbench_accounts in ``partitions`` partitions when not 0), its progress
        printed as it goes; seconds it took."""
        started = time.monotonic()
        partitioned = [f"--partitions={partitions}"] if partitions else []
        process = subprocess.Popen(self.pgbench("-i", "-q", "-s", str(scale), *partitioned), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        try:
            assert process.stdout is not None
            tail: list[str] = []
            for line in process.stdout:
                line = line.strip()
                if line:
                    say(f"  pgbench: {line}")
                    tail = [*tail[-20:], line]
            if process.wait() != 0:
                raise BenchError(f"pgbench -i failed ({process.returncode}): " + "\n".join(tail))
        except BaseException:
            process.kill()
            process.wait()
            raise
        return time.monotonic() - started

    def checkpoint(self) -> None:
        with self.pg.connect() as conn:
            conn.execute("CHECKPOINT")

    def wait_archived(self, timeout: float = 1800) -> None:
        """Until every finished WAL segment is in the repository (no ``.ready`` file left)."""
        deadline = time.monotonic() + timeout
        with self.pg.connect() as conn:
            while True:
                row = conn.execute("SELECT count(*) FILTER (WHERE name LIKE '%.ready'), "
                                   "(SELECT last_failed_wal FROM pg_stat_archiver) FROM pg_ls_archive_statusdir()"
                                   ).fetchone()
                assert row is not None
                if row[0] == 0:
                    return
                if time.monotonic() > deadline:
                    raise BenchError(f"{row[0]} WAL segments still not archived after {timeout:.0f} s (last failed: "
                                     f"{row[1]}); see {self.pg.log} and {self.repo.log_path} (keep them with --keep)")
                time.sleep(0.2)

    def raw_copy(self) -> tuple[float, float, int]:
        """``cp -a`` of the data directory without pg_wal, then ``sync -f``; seconds, CPU seconds of cp and sync
        (the kernel's writeback threads are not counted) and bytes. The copy is removed afterwards.
        Whatever else was waiting to be written is flushed before the clock starts."""
        self.checkpoint()
        target = self.root / "copy"
        owned_dir(target, self.pg.user)
        entries = sorted(str(p) for p in self.pg.data.iterdir() if p.name != "pg_wal")
        sync_filesystem(target)
        cpu, started = children_cpu(), time.monotonic()
        run_tool(["cp", "-a", "-t", str(target), *entries], user=self.pg.user)
        (target / "pg_wal").mkdir(mode=0o700)
        sync_filesystem(target)
        seconds, cpu = time.monotonic() - started, children_cpu() - cpu
        copied = tree_bytes(target)
        shutil.rmtree(target)
        return seconds, cpu, copied

    def backup(self, options: list[str]) -> tuple[float, float, BackupPhases, dict[str, Any]]:
        """A full backup with the role's settings (and ``options`` added); seconds, CPU seconds of pgBackRest's
        processes, its phases and pgBackRest's record of it."""
        sync_filesystem(self.repo.path)
        cpu, started = children_cpu(), time.monotonic()
        self.repo.run("backup", "--type=full", *options)
        seconds, cpu = time.monotonic() - started, children_cpu() - cpu
        return seconds, cpu, self.repo.last_phases(), self.repo.last_backup()

    def transactions(self, count: int) -> None:
        clients = 2 if count >= 2 else 1
        run_tool(self.pgbench("-n", "-c", str(clients), "-j", str(clients), "-t", str(max(1, count // clients))))

    def snapshot(self) -> Snapshot:
        with self.pg.connect(DATABASE) as conn:
            row = conn.execute("SELECT (SELECT count(*) FROM pgbench_accounts), "
                               "(SELECT sum(abalance) FROM pgbench_accounts), "
                               "(SELECT count(*) FROM pgbench_history)").fetchone()
        assert row is not None
        return Snapshot(int(row[0]), int(row[1] or 0), int(row[2]))

    def stop_after_archiving(self) -> None:
        """Switch to a new WAL segment, wait until the last one is archived, stop the server."""
        with self.pg.connect() as conn:
            conn.execute("SELECT pg_switch_wal()")
        self.wait_archived(timeout=300)
        self.pg.stop()
        if self.pg.process is not None and self.pg.process.returncode not in (0, None):
            raise BenchError(f"PostgreSQL did not stop cleanly ({self.pg.process.returncode}); see {self.pg.log}")

    def restore(self) -> tuple[float, float, Snapshot]:
        """Data directory removed, restored, recovered; seconds of the restore and of the recovery, and the
        figures the restored server answered (the timer stops when they are in)."""
        shutil.rmtree(self.pg.data)
        started = time.monotonic()
        owned_dir(self.pg.data, self.pg.user)
        self.repo.run("restore")
        restored = time.monotonic()
        self.pg.start(timeout=1800)
        with self.pg.connect() as conn:
            while conn.execute("SELECT pg_is_in_recovery()").fetchone() != (False,):
                if self.pg.process is not None and self.pg.process.poll() is not None:
                    raise BenchError(f"PostgreSQL exited during recovery; see {self.pg.log}")
                time.sleep(0.05)
        answered = self.snapshot()
        done = time.monotonic()
        return restored - started, done - restored, answered


def scale_for(size_gib: float) -> int:
    return max(1, math.ceil(size_gib * GIB / BYTES_PER_SCALE))


def measure(bench: Bench, args: argparse.Namespace, settings: RoleSettings) -> dict[str, Any]:
    figures: dict[str, Any] = {"benchmark": "backup-restore", "measured_at": datetime.now(UTC).isoformat(),
                               "pgbackrest": version(), "settings": settings.as_dict(),
                               "pgbackrest_options": args.pgbackrest_option, "size_goal_gib": args.size_gb,
                               "cpus": os.cpu_count(), "load_average": {"before": round(os.getloadavg()[0], 2)}}
    say(f"starting PostgreSQL 15 and a pgBackRest repository in {bench.root}")
    bench.start()
    scale = scale_for(args.size_gb)
    partitioned = f" --partitions={args.partitions}" if args.partitions else ""
    say(f"generating data: pgbench -i -s {scale}{partitioned} (about {scale * BYTES_PER_SCALE / GIB:.2f} GiB; "
        "WAL archived as it goes)")
    figures.update(pgbench_scale=scale, pgbench_partitions=args.partitions)
    figures["generate_seconds"] = round(bench.generate(scale, args.partitions), 2)
    bench.checkpoint()
    say("waiting for the archive to catch up")
    bench.wait_archived()
    bench.checkpoint()
    data = tree_bytes(bench.pg.data, skip="pg_wal")
    wal = tree_bytes(bench.pg.data / "pg_wal")
    files, largest = data_files(bench.pg.data / "base")
    figures.update(data_bytes=data, pg_wal_bytes=wal, data_directory_bytes=data + wal, data_files=files,
                   largest_file_bytes=largest)
    say(f"data directory: {data / GIB:.3f} GiB without pg_wal, {(data + wal) / GIB:.3f} GiB with it; {files} files "
        f"in base/, the largest {largest / MIB:.0f} MiB")
    if data < args.size_gb * GIB:
        raise BenchError(f"pgbench scale {scale} made only {data / GIB:.3f} GiB, less than the {args.size_gb} GiB "
                         "asked for; lower BYTES_PER_SCALE in bench/backup_restore.py")

    copies: list[float] = []
    copy_cpus: list[float] = []
    backups: list[float] = []
    backup_cpus: list[float] = []
    phases: list[BackupPhases] = []
    extra = "".join(f" {option}" for option in args.pgbackrest_option)
    for round_ in range(1, args.repeat + 1):
        say(f"round {round_} of {args.repeat}: raw copy of the data directory (cp -a, sync -f)")
        seconds, cpu, copied = bench.raw_copy()
        copies.append(seconds)
        copy_cpus.append(cpu)
        say(f"round {round_} of {args.repeat}: full backup (compress-type={settings.compress_type}, "
            f"process-max={settings.process_max}, {settings.cipher_type}{extra})")
        seconds, cpu, phase, record = bench.backup(args.pgbackrest_option)
        backups.append(seconds)
        backup_cpus.append(cpu)
        phases.append(phase)
    copy_seconds, backup_seconds = statistics.median(copies), statistics.median(backups)
    repository = tree_bytes(bench.repo.path)
    backup_bytes = int(record["info"]["size"])
    figures.update(
        rounds=args.repeat, raw_copy_runs=[round(s, 2) for s in copies], backup_runs=[round(s, 2) for s in backups],
        raw_copy_seconds=round(copy_seconds, 2), raw_copy_bytes=copied,
        raw_copy_mib_per_s=round(copied / MIB / copy_seconds, 1),
        backup_seconds=round(backup_seconds, 2), backup_bytes=backup_bytes,
        backup_mib_per_s=round(backup_bytes / MIB / backup_seconds, 1),
        backup_repository_bytes=int(record["info"]["repository"]["delta"]), repository_bytes=repository,
        backup_ratio=round(copy_seconds / backup_seconds, 2),
        raw_copy_cpu_seconds=round(statistics.median(copy_cpus), 2),
        backup_cpu_seconds=round(statistics.median(backup_cpus), 2),
        backup_phase_seconds={name: round(statistics.median(getattr(p, name) for p in phases), 2)
                              for name in ("start", "archive_wait", "copy", "stop")})

    say(f"{args.transactions} pgbench transactions after the backup")
    bench.transactions(args.transactions)
    before = bench.snapshot()
    bench.stop_after_archiving()
    say("data directory removed; restoring and recovering")
    restore_seconds, recovery_seconds, after = bench.restore()
    figures.update(transactions_after_backup=before.history, restore_seconds=round(restore_seconds, 2),
                   recovery_seconds=round(recovery_seconds, 2),
                   rto_seconds=round(restore_seconds + recovery_seconds, 2),
                   restore_check={"passed": after == before and before.history > 0, "before": asdict(before),
                                  "after": asdict(after)})
    figures["load_average"]["after"] = round(os.getloadavg()[0], 2)
    return figures


def add_failover(figures: dict[str, Any], lab: bool) -> None:
    measured = lab_failover_figures() if lab else None
    figures["failover_source"] = "lab" if measured else (NO_LAB if lab else NOT_MEASURED)
    for key in (VIP_FAILOVER, DATABASE_FAILOVER, ACKNOWLEDGED_LOST):
        figures[key] = round(measured[key], 2) if measured and key in measured else None


def add_goals(figures: dict[str, Any]) -> None:
    def goal(value: float | None, text: str, met: bool | None) -> dict[str, Any]:
        return {"value": value, "goal": text, "met": met}

    ratio, rto = figures["backup_ratio"], figures["rto_seconds"]
    vip, database = figures[VIP_FAILOVER], figures[DATABASE_FAILOVER]
    figures["goals"] = {
        "backup_ratio": goal(ratio, f">= {RATIO_GOAL}", ratio >= RATIO_GOAL),
        "rto_seconds": goal(rto, f"< {RTO_GOAL:.0f} s for 1 GiB", rto < RTO_GOAL),
        VIP_FAILOVER: goal(vip, f"< {VIP_GOAL:.0f} s", None if vip is None else vip < VIP_GOAL),
        DATABASE_FAILOVER: goal(database, f"< {DATABASE_FAILOVER_GOAL:.0f} s",
                                None if database is None else database < DATABASE_FAILOVER_GOAL),
        ACKNOWLEDGED_LOST: goal(figures[ACKNOWLEDGED_LOST], "= 0",
                                None if figures[ACKNOWLEDGED_LOST] is None else figures[ACKNOWLEDGED_LOST] == 0),
    }


def report(figures: dict[str, Any], out: Path) -> None:
    settings, goals, check = figures["settings"], figures["goals"], figures["restore_check"]

    def met(name: str) -> str:
        return {True: "yes", False: "NO", None: "-"}[goals[name]["met"]]

    def row(label: str, value: str, name: str) -> str:
        return f"  {label:<20} {value:<34} {goals[name]['goal']:<18} {met(name)}"

    def failover(label: str, name: str) -> str:
        value = figures[name]
        if value is None:
            return f"  {label:<20} {figures['failover_source']}"
        return row(label, f"{value:.2f} s", name)

    def spread(name: str) -> str:
        runs = figures[name]
        return f" (median of {len(runs)}: {min(runs):.2f}-{max(runs):.2f})" if len(runs) > 1 else ""

    data = figures["data_bytes"]
    rto_note = "" if data >= GIB else f" (data {data / GIB:.2f} GiB < 1 GiB)"
    print()
    print(f"Backup and restore benchmark ({figures['pgbackrest']}: compress-type={settings['compress_type']}, "
          f"process-max={settings['process_max']}, {settings['cipher_type']}, bundle={settings['bundle']})")
    if figures["pgbackrest_options"]:
        print(f"  NOT the role's settings alone: backups ran with {' '.join(figures['pgbackrest_options'])}")
    load = figures["load_average"]
    print(f"  machine:   {figures['cpus']} CPUs, load average {load['before']} before, {load['after']} after "
          "(the backup is CPU-bound: other work slows it)")
    print(f"  data:      {data / GIB:.3f} GiB ({figures['data_directory_bytes'] / GIB:.3f} GiB with pg_wal), "
          f"pgbench scale {figures['pgbench_scale']}"
          + (f" in {figures['pgbench_partitions']} partitions" if figures["pgbench_partitions"] else " (one table)")
          + f", generated in {figures['generate_seconds']:.1f} s; {figures['data_files']} files in base/, the largest "
          f"{figures['largest_file_bytes'] / MIB:.0f} MiB")
    phases = figures["backup_phase_seconds"]
    print(f"  raw copy:  {figures['raw_copy_seconds']:.2f} s{spread('raw_copy_runs')}, "
          f"{figures['raw_copy_mib_per_s']:.0f} MiB/s (cp -a and sync -f, without pg_wal; "
          f"{figures['raw_copy_cpu_seconds']:.2f} CPU s)")
    print(f"  backup:    {figures['backup_seconds']:.2f} s{spread('backup_runs')}, "
          f"{figures['backup_mib_per_s']:.0f} MiB/s (full; "
          f"{figures['backup_repository_bytes'] / MIB:.0f} MiB in the repository, "
          f"{figures['repository_bytes'] / MIB:.0f} MiB with the archived WAL; "
          f"{figures['backup_cpu_seconds']:.2f} CPU s)")
    print(f"  phases:    start {phases['start']:.2f} s (checkpoint, pg_backup_start), archive wait "
          f"{phases['archive_wait']:.2f} s (prior WAL segment archived, manifest, next second), "
          f"copy {phases['copy']:.2f} s, "
          f"stop {phases['stop']:.2f} s (pg_backup_stop, last WAL archived)")
    print(f"  restore:   {figures['restore_seconds']:.2f} s pgbackrest restore + {figures['recovery_seconds']:.2f} s "
          f"recovery to the first answer")
    print(f"  {'figure':<20} {'value':<34} {'goal':<18} met")
    print(row("backup ratio", f"{figures['backup_ratio']:.2f} (raw copy s / backup s)", "backup_ratio"))
    print(row("RTO", f"{figures['rto_seconds']:.2f} s{rto_note}", "rto_seconds"))
    print(failover("VIP failover", VIP_FAILOVER))
    print(failover("database failover", DATABASE_FAILOVER))
    if figures[ACKNOWLEDGED_LOST] is not None:
        print(row("acknowledged lost", f"{figures[ACKNOWLEDGED_LOST]:.0f} (lb and database primary drills)",
                  ACKNOWLEDGED_LOST))
    before, after = check["before"], check["after"]
    verdict = "as before the stop" if check["passed"] else f"DIFFERENT from before the stop ({before})"
    print(f"  restore check: {after['history']} transactions replayed, {after['accounts']} accounts, balance sum "
          f"{after['balance_sum']}: {verdict}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"  written:   {out}")


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=5.0,
                        help="GiB of data to generate (at least; 0.01 and up, 1.0 and up for the goals; "
                        "default 5.0, where the backup's fixed cost is a small share)")
    parser.add_argument("--transactions", type=int, default=2000,
                        help="pgbench transactions after the backup, replayed by the restore")
    parser.add_argument("--repeat", type=int, default=3,
                        help="raw copies and backups to take, alternately; the ratio is of their medians")
    parser.add_argument("--partitions", type=int, default=DEFAULT_PARTITIONS,
                        help="split pgbench_accounts into this many partitions (files pgBackRest can copy in "
                        f"parallel, as a real database's tables and indexes); 0: one table (default "
                        f"{DEFAULT_PARTITIONS})")
    parser.add_argument("--pgbackrest-option", action="append", default=[], metavar="OPTION",
                        help="add this option to the backup command to see what a setting costs, e.g. "
                        "--pgbackrest-option=--no-checksum-page (repeatable; the figures say so)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (server stopped)")
    parser.add_argument("--lab", action="store_true", help="also take the failover figures from the lab")
    parser.add_argument("--work-dir", type=Path, help="where to make the temporary directory (default: $TMPDIR)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "artifacts" / "bench-backup.json",
                        help="where to write the figures (JSON)")
    args = parser.parse_args(argv)
    if args.size_gb < 0.01:
        parser.error("--size-gb must be at least 0.01")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.partitions < 0:
        parser.error("--partitions must be 0 or more")
    if args.transactions < 1:
        parser.error("--transactions must be at least 1")
    for option in args.pgbackrest_option:
        if not option.startswith("--") or option.startswith(("--type", "--stanza", "--config", "--repo=")):
            parser.error(f"--pgbackrest-option {option!r}: give a pgBackRest option such as --compress-type=zst; "
                         "the backup's type, stanza, configuration and repository are the benchmark's own")
    # Ctrl-C must stop the benchmark even when it was started from a background job, where the shell
    # leaves SIGINT ignored and Python then installs no KeyboardInterrupt handler of its own.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        settings = role_settings(REPO_ROOT)
        bench = Bench(settings, work_dir=args.work_dir, keep=args.keep)
    except (BenchError, LocalClusterError, OSError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    try:
        figures = measure(bench, args, settings)
    except KeyboardInterrupt:
        print("interrupted: stopping PostgreSQL and removing the temporary directory", file=sys.stderr)
        return 130
    except (BenchError, LocalClusterError, OSError, subprocess.SubprocessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        bench.close()
    add_failover(figures, args.lab)
    add_goals(figures)
    report(figures, args.out)
    if not figures["restore_check"]["passed"]:
        print("benchmark failed: the restored database differs from the one backed up (see restore check)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
