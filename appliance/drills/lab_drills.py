"""Drills in the one-machine lab: a VM loses its power under load, and nothing acknowledged is lost.

    osonctl drill power-loss TARGET    (TARGET: db-primary, db-all, app, web, lb)

The load generator sends payments through the public VIP and journals every acknowledgement. Then
the target's VMs are killed with SIGKILL (no clean shutdown, the nearest a container gets to pulling
the plug), the drill measures how long until payments are acknowledged again (the failover time) and
watches that no two database VMs ever run as primaries at once; then the VMs are started again
("power back"), the lab must become healthy on its own, and the verdict checks that every
acknowledged payment is there, none twice, the ledger balances and the event chain verifies.

A container shares the host's kernel: SIGKILL loses every process's memory but not the kernel's page
cache, so unflushed writes survive that a real power cut would lose. That part of the risk is what
the durable settings (fsync, synchronous commit to the standby) cover and what the negative control
proves the verdict can see.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import select
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from appliance import lab
from appliance.drills.api import ClientCredentials, Endpoint, StaffCredentials, staff_session
from appliance.drills.load import DrillFiles, LoadConfig, LoadGenerator, prepare_world, read_journal
from appliance.drills.report import Timeline, build_report, now_iso, write_report
from appliance.drills.verdict import Verdict, run_verdict
from appliance.topology import HostRole, Topology

OPERATOR_CLI = "/opt/oson/operator/venv/bin/oson-operator"
TARGETS: dict[str, str] = {
    "db-primary": "the database VM that is the Patroni leader",
    "db-all": "both database VMs at once (the database tier of the rack loses power)",
    "app": "the first app VM",
    "web": "the first web VM",
    "lb": "the lb VM that holds the public VIP",
}


class LabDrillError(RuntimeError):
    """The drill could not run (the lab is not up or not healthy); the message says what to do."""


@dataclass(frozen=True)
class LabAppliance:
    """The lab as a drill sees it: containers to kill and start, and the API behind the public VIP."""

    topology: Topology
    ca_file: Path

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(f"https://{self.topology.vips['public'].address}", self.ca_file, timeout=20.0)

    def container(self, host: str) -> str:
        return self.topology.container_name(host)

    def running(self, host: str) -> bool:
        return lab.container_state(self.container(host)) == "running"

    def operator_cli(self, *args: str) -> dict[str, Any]:
        """An `oson-operator` command on a running app VM, as an operator would run it over SSH."""
        for host in self.topology.hosts_with_role(HostRole.APP):
            if not self.running(host):
                continue
            proc = subprocess.run(["podman", "exec", "-e", "OSON_ENV_FILE=/etc/oson/operator.env",
                                   self.container(host), OPERATOR_CLI, *args, "--json"],
                                  capture_output=True, text=True, timeout=120, check=False)
            if proc.returncode != 0:
                raise LabDrillError(f"oson-operator {' '.join(args)} failed on {host}: {proc.stderr.strip()[-500:]}")
            return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
        raise LabDrillError("no app VM is running; bring the lab up with `osonctl lab up`")

    def patroni_cluster(self) -> list[dict[str, Any]]:
        """Patroni's members as the first database VM that answers sees them ([] when none answers)."""
        for host in self.topology.hosts_with_role(HostRole.DB):
            address = self.topology.hosts[host].addresses["db"]
            code, body = lab.https_get_json(f"https://{address}:8008/cluster", self.ca_file, timeout=2)
            if code == 200 and isinstance(body.get("members"), list):
                return list(body["members"])  # type: ignore[arg-type]
        return []

    def patroni_leader(self) -> str | None:
        return next((str(m["name"]) for m in self.patroni_cluster()
                     if m.get("role") == "leader" and m.get("state") == "running"), None)

    def vip_holder(self) -> str | None:
        for host in self.topology.hosts_with_role(HostRole.LB):
            if self.running(host) and lab._vip_holder(self.container(host), self.topology):
                return host
        return None

    def unhealthy(self) -> list[str]:
        """What is not healthy yet: lab hosts, and a Patroni cluster without a leader and a streaming standby."""
        problems = [f"{row.host} {row.health} {row.detail}".strip()
                    for row in lab.status(self.topology) if row.health != "healthy"]
        members = self.patroni_cluster()
        roles = sorted(str(m.get("role")) for m in members)
        if roles != ["leader", "sync_standby"] or any(m.get("state") not in ("running", "streaming") for m in members):
            problems.append(f"patroni: {[(m.get('name'), m.get('role'), m.get('state')) for m in members]}")
        code, _ = lab.https_get_json(lab.public_health_url(self.topology), self.ca_file, timeout=5)
        if code != 200:
            problems.append(f"public health: HTTP {code}")
        return problems

    def wait_healthy(self, timeout: float = 300.0) -> float:
        started = time.monotonic()
        problems: list[str] = []
        while time.monotonic() - started < timeout:
            problems = self.unhealthy()
            if not problems:
                return round(time.monotonic() - started, 1)
            time.sleep(2)
        raise LabDrillError(f"the lab did not become healthy within {timeout:.0f} s: {'; '.join(problems)}")

    def kill(self, hosts: list[str]) -> None:
        subprocess.run(["podman", "kill", "--signal", "KILL", *map(self.container, hosts)],
                       check=True, capture_output=True, timeout=60)

    def start(self, hosts: list[str]) -> None:
        subprocess.run(["podman", "start", *map(self.container, hosts)], check=True, capture_output=True, timeout=120)


def lab_appliance(topology: Topology | None = None) -> LabAppliance:
    topology = topology or lab.load_lab_topology()
    if not lab.LAB_CA_FILE.exists():
        raise LabDrillError("the lab's CA file is missing: bring the lab up with `osonctl lab up`")
    return LabAppliance(topology, lab.LAB_CA_FILE)


@dataclass(frozen=True)
class DrillPeople:
    operator: StaffCredentials
    auditor: StaffCredentials
    client: ClientCredentials


def make_drill_people(appliance: LabAppliance) -> DrillPeople:
    """A new operator, auditor and API client for one drill, made with oson-operator on an app VM."""
    suffix = uuid.uuid4().hex[:8]
    operator = appliance.operator_cli("staff", "create", "--login", f"drill-op-{suffix}", "--role", "operator")
    auditor = appliance.operator_cli("staff", "create", "--login", f"drill-au-{suffix}", "--role", "auditor")
    client = appliance.operator_cli("api-clients", "create", "--name", f"drill-{suffix}")
    return DrillPeople(StaffCredentials(str(operator["login"]), str(operator["temporary_password"])),
                       StaffCredentials(str(auditor["login"]), str(auditor["temporary_password"])),
                       ClientCredentials(str(client["client_id"]), str(client["client_secret"])))


def victims_of(target: str, appliance: LabAppliance) -> list[str]:
    topology = appliance.topology
    if target == "db-primary":
        leader = appliance.patroni_leader()
        if leader is None:
            raise LabDrillError("Patroni has no leader: check `osonctl lab status`")
        return [leader]
    if target == "db-all":
        return topology.hosts_with_role(HostRole.DB)
    if target in ("app", "web"):
        return topology.hosts_with_role(HostRole(target))[:1]
    if target == "lb":
        holder = appliance.vip_holder()
        if holder is None:
            raise LabDrillError("no lb VM holds the public VIP: check `osonctl lab status`")
        return [holder]
    raise LabDrillError(f"unknown drill target {target!r}; choose one of {', '.join(TARGETS)}")


@dataclass
class Watch:
    """Samples something every ``interval`` seconds in a thread: (monotonic time, value)."""

    sample: Callable[[], Any]
    interval: float
    samples: list[tuple[float, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Watch:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    value = self.sample()
                except Exception as err:  # a sample that fails is recorded, not fatal to the drill
                    value = f"error: {err}"
                self.samples.append((time.monotonic(), value))
                self._stop.wait(self.interval)

        self._thread = threading.Thread(target=loop, daemon=True, name="drill-watch")
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, Any]]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        return self.samples

    def first_change_after(self, moment: float, initial: Any) -> float | None:
        """Seconds from ``moment`` to the first sample with a value other than ``initial`` (and not None)."""
        for at, value in self.samples:
            if at >= moment and value is not None and value != initial and not str(value).startswith("error"):
                return round(at - moment, 2)
        return None


class RoleProbe:
    """A long-lived psql session on one database VM that answers pg_is_in_recovery() in milliseconds (a
    `podman exec` per sample would take a second under load and leave holes in the watch)."""

    def __init__(self, appliance: LabAppliance, host: str, respawn_after: float = 1.0) -> None:
        self.command = ["podman", "exec", "-i", appliance.container(host), "runuser", "-u", "postgres", "--",
                        "psql", "-XAtq", "-h", "/var/run/postgresql"]
        self.respawn_after = respawn_after
        self.process: subprocess.Popen[str] | None = None
        self.spawned = 0.0

    def role(self) -> str:
        """'primary' (accepts writes), 'standby', or 'down' (VM off, PostgreSQL not answering)."""
        if self.process is None or self.process.poll() is not None:
            self.close()
            if time.monotonic() - self.spawned < self.respawn_after:
                return "down"
            self.spawned = time.monotonic()
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            self.process.stdin.write("SELECT pg_is_in_recovery();\n")
            self.process.stdin.flush()
        except OSError:
            self.close()
            return "down"
        ready, _, _ = select.select([self.process.stdout], [], [], 3.0)
        answer = self.process.stdout.readline().strip() if ready else ""
        role = {"f": "primary", "t": "standby"}.get(answer, "down")
        if role == "down":
            self.close()
        return role

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


def primaries_sampler(appliance: LabAppliance) -> tuple[Callable[[], dict[str, str]], Callable[[], None]]:
    """Each database VM's PostgreSQL role, all asked at the same moment; and how to close the sessions."""
    hosts = appliance.topology.hosts_with_role(HostRole.DB)
    probes = {host: RoleProbe(appliance, host) for host in hosts}
    pool = ThreadPoolExecutor(max_workers=len(hosts), thread_name_prefix="drill-primaries")

    def sample() -> dict[str, str]:
        return dict(zip(hosts, pool.map(lambda host: probes[host].role(), hosts), strict=True))

    def close() -> None:
        pool.shutdown(wait=True)
        for probe in probes.values():
            probe.close()

    return sample, close


def write_outage_seconds(journal: list[dict[str, Any]], cut_at: dt.datetime) -> float | None:
    """The longest time without an acknowledgement from the cut on: from the cut to the first answer,
    or between two answers after it. None when nothing was acknowledged after the cut."""
    times = sorted(dt.datetime.fromisoformat(r["acknowledged_at"]) for r in journal)
    after = [t for t in times if t > cut_at]
    if not after:
        return None
    gaps = [(after[0] - cut_at).total_seconds()]
    gaps += [(b - a).total_seconds() for a, b in itertools.pairwise(after)]
    return round(max(gaps), 2)


@dataclass(frozen=True)
class DrillResult:
    name: str
    target: str
    victims: list[str]
    verdict: Verdict
    figures: dict[str, Any]
    checks: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    report: tuple[Path, Path] | None = None

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks)


def _wait_for_acknowledgements(generator: LoadGenerator, since: int, count: int, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if generator.snapshot().acknowledged >= since + count:
            return round(time.monotonic() - started, 2)
        time.sleep(0.1)
    return None


def run_power_loss(target: str, *, appliance: LabAppliance | None = None, work_dir: Path,
                   warmup_seconds: float = 5.0, dark_seconds: float = 5.0, after_seconds: float = 5.0,
                   concurrency: int = 6, payers: int = 6, write_resume_limit: float = 120.0,
                   signing_key: Any = None, report_dir: Path | None = None,
                   out: TextIO | None = None) -> DrillResult:
    """One power-loss drill of ``target`` (see TARGETS) under load; see the module docstring."""
    appliance = appliance or lab_appliance()
    name = f"power-loss-{target}"
    timeline = Timeline()
    started_at = now_iso()

    def say(line: str) -> None:
        if out is not None:
            print(f"{name}: {line}", file=out, flush=True)

    problems = appliance.unhealthy()
    if problems:
        raise LabDrillError(f"the lab is not healthy before the drill ({'; '.join(problems)}); "
                            "run `osonctl lab up` and `osonctl lab status`")
    people = make_drill_people(appliance)
    files = DrillFiles(work_dir).create()
    with appliance.endpoint.client() as http:
        world = prepare_world(http, staff_session(http, people.operator), payers=payers, label=name)
        auditor = staff_session(http, people.auditor)
    world.save(files.world)
    timeline.step("wallets and drill users prepared", payers=payers)

    victims = victims_of(target, appliance)
    leader_before = appliance.patroni_leader()
    vip_before = appliance.vip_holder()
    sample_primaries, close_probes = primaries_sampler(appliance)
    primaries = Watch(sample_primaries, 0.2).start()
    leaders = Watch(appliance.patroni_leader, 0.25).start()
    vips = Watch(appliance.vip_holder, 0.25).start() if target == "lb" else None
    generator = LoadGenerator(appliance.endpoint, people.client, world, files,
                              LoadConfig(concurrency=concurrency, request_timeout=10.0, progress_every=5.0),
                              out=out).start()
    figures: dict[str, Any] = {"target": target, "victims": victims}
    power_back = 0.0
    try:
        time.sleep(warmup_seconds)
        before = generator.snapshot().acknowledged
        timeline.step("load running", acknowledged=before, concurrency=concurrency)
        cut_wall, cut = dt.datetime.now(dt.UTC), time.monotonic()
        appliance.kill(victims)
        timeline.step(f"power cut: SIGKILL to {', '.join(victims)}")
        say(f"killed {', '.join(victims)} after {before} acknowledged payments")
        if target == "db-all":
            time.sleep(dark_seconds)  # nothing can write until the database VMs are back
            power_back = time.monotonic()
            appliance.start(victims)
            timeline.step("power back: the database VMs started")
        resumed = _wait_for_acknowledgements(generator, generator.snapshot().acknowledged, 10, write_resume_limit)
        figures["writes_resumed_within_seconds"] = round(time.monotonic() - cut, 2) if resumed is not None else None
        timeline.step("writes acknowledged again" if resumed is not None else "writes did NOT resume",
                      seconds=figures["writes_resumed_within_seconds"])
        say(f"writes resumed {figures['writes_resumed_within_seconds']} s after the cut")
        time.sleep(after_seconds)
        if target != "db-all":
            appliance.start(victims)
            timeline.step(f"power back: {', '.join(victims)} started")
        figures["lab_healthy_after_power_back_seconds"] = appliance.wait_healthy()
        timeline.step("the lab is healthy again", seconds=figures["lab_healthy_after_power_back_seconds"])
        time.sleep(after_seconds)
    finally:
        load = generator.stop()
        primary_samples = primaries.stop()
        close_probes()
        leaders.stop()
        if vips is not None:
            vips.stop()
        for host in victims:  # never leave the lab with a VM off
            if not appliance.running(host):
                appliance.start([host])
    timeline.step("load stopped", acknowledged=load.acknowledged, uncertain=load.uncertain)

    journal = read_journal(files.journal)
    figures["write_outage_seconds"] = write_outage_seconds(journal, cut_wall)
    if target == "db-primary":
        figures["new_leader_after_seconds"] = leaders.first_change_after(cut, leader_before)
    if target == "db-all":  # any member may lead again; None means "no leader yet"
        figures["leader_again_after_power_back_seconds"] = leaders.first_change_after(power_back, None)
    if target in ("db-primary", "db-all"):
        figures["leader_before"], figures["leader_after"] = leader_before, appliance.patroni_leader()
    if vips is not None:
        figures["vip_moved_after_seconds"] = vips.first_change_after(cut, vip_before)
    two_primaries = [values for _, values in primary_samples
                     if isinstance(values, dict) and sum(1 for role in values.values() if role == "primary") > 1]
    one_primary = sum(1 for _, values in primary_samples
                      if isinstance(values, dict) and list(values.values()).count("primary") == 1)
    figures["primary_samples"] = len(primary_samples)
    figures["samples_with_one_primary"] = one_primary
    figures["samples_with_two_primaries"] = len(two_primaries)
    figures["load"] = load.as_dict()

    verdict = run_verdict(appliance.endpoint, auditor, people.client, files, out=out)
    timeline.step("verdict", ok=verdict.ok, missing=verdict.missing)
    checks = [*verdict.checks(),
              # The watch must have seen the primary (>= 10 samples), or "never two" would prove nothing.
              {"name": "no two database VMs accepted writes at once", "ok": not two_primaries and one_primary >= 10,
               "detail": f"{len(primary_samples)} samples of every member's pg_is_in_recovery(): "
                         f"{one_primary} with one primary, {len(two_primaries)} with two"},
              {"name": "writes resumed", "ok": figures["write_outage_seconds"] is not None,
               "detail": f"longest time without an acknowledgement after the cut: {figures['write_outage_seconds']} s"}]
    if target == "db-primary":
        checks.append({"name": "a new leader was elected", "ok": figures["leader_after"] not in (None, leader_before)
                       or figures["new_leader_after_seconds"] is not None,
                       "detail": f"{leader_before} -> {figures['leader_after']} "
                                 f"after {figures['new_leader_after_seconds']} s"})
    say(f"verdict: {verdict.acknowledged} acknowledged, {verdict.missing} missing, {verdict.duplicates} duplicates, "
        f"write outage {figures['write_outage_seconds']} s, two primaries: {len(two_primaries)}")
    report = None
    if signing_key is not None:
        document = build_report(
            name=name, environment=appliance.topology.environment, started_at=started_at, ended_at=now_iso(),
            timeline=timeline.steps, figures=figures, verdict={**verdict.figures(), "samples": verdict.samples},
            checks=checks, problems=verdict.problems, passed=all(check["ok"] for check in checks),
            notes=f"Power loss of {TARGETS[target]} under load: SIGKILL of {', '.join(victims)}, then started "
                  "again. Every acknowledged payment must be there once, the ledger must balance, the event "
                  "chain must verify, and no two database VMs may accept writes at once.")
        report = write_report(report_dir or work_dir, document, signing_key)
        say(f"report: {report[0]} (readable: {report[1]})")
    return DrillResult(name, target, victims, verdict, figures, checks, timeline.steps, report)
