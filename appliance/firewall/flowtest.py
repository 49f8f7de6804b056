"""The flow test: real TCP connects that show the policy is what the firewalls enforce.

`plan_probes` turns the policy into probes: one per allowed TCP (source group, destination, port),
and a sample of flows the policy denies. `run_probes` makes each connect from inside the source VM
(or from the control node for `outside` and `control_node`) and judges it:

- an allowed probe must connect;
- a denied probe must time out. The firewalls drop (never reject), so a blocked SYN gets no answer.
  "Connection refused" means the SYN reached the target's TCP stack, i.e. no firewall stopped it,
  and is a failure. Denied probes aim at ports that listen (each names the allowed probe to the same
  address and port, whose success proves the listener), so a timeout is the firewall's doing.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from appliance.firewall.model import Protocol
from appliance.firewall.resolve import Endpoint, EndpointKind, ResolvedPolicy
from appliance.topology import Topology

CONTROL_NODE = "control-node"
CONNECT_TIMEOUT = 3.0


@dataclass(frozen=True)
class Probe:
    id: str
    expect: str  # "allow" or "deny"
    source: str  # the policy endpoint (or group) the probe stands for
    source_host: str  # a VM, or CONTROL_NODE
    source_address: str | None  # bound before connecting (None: the route decides)
    destination: str
    destination_host: str | None
    address: str
    port: int
    flow: int | None = None  # the allowed flow (allow probes)
    reason: str = ""
    proof: str | None = None  # deny probes: the allow probe to the same address and port


@dataclass
class ProbeResult:
    probe: Probe
    outcome: str  # connected | refused | timeout | unreachable | error
    ok: bool
    detail: str = ""


@dataclass
class FlowTestReport:
    topology: str
    started: str
    results: list[ProbeResult] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def as_json(self) -> dict[str, Any]:
        counts: dict[str, int] = defaultdict(int)
        for r in self.results:
            counts[f"{r.probe.expect}_{'ok' if r.ok else 'failed'}"] += 1
        return {
            "topology": self.topology,
            "started": self.started,
            "ok": self.ok,
            "summary": dict(counts),
            "probes": [asdict(r.probe) | {"outcome": r.outcome, "ok": r.ok, "detail": r.detail}
                       for r in self.results],
            "skipped": self.skipped,
        }


# -- planning ----------------------------------------------------------------------------------------


def _targets(endpoint: Endpoint) -> list[tuple[str | None, str]]:
    """(host, address) pairs a probe to this endpoint aims at; a VIP once, whoever holds it."""
    if endpoint.kind == EndpointKind.HOSTS:
        return [(h, str(a)) for h, a in endpoint.members]
    if endpoint.kind == EndpointKind.VIP and endpoint.vip_address is not None:
        return [(None, str(endpoint.vip_address))]
    return []


def _source_for(endpoint: Endpoint, target_host: str | None) -> tuple[str, str | None] | None:
    """The VM (and the address it binds) a probe from `endpoint` starts on; never the target itself,
    whose own traffic stays on loopback and proves nothing."""
    if endpoint.kind in (EndpointKind.OUTSIDE, EndpointKind.CONTROL_NODE):
        return CONTROL_NODE, None
    for host, addr in endpoint.members:
        if host != target_host:
            return host, str(addr)
    return None


def allowed(resolved: ResolvedPolicy, source_host: str, destination_address: str, port: int) -> list[int]:
    """The flows that allow a TCP connect from `source_host` (a VM, or CONTROL_NODE) to an address:port."""
    ids = []
    for rf in resolved.flows:
        src = rf.source
        if source_host == CONTROL_NODE:
            if src.kind not in (EndpointKind.OUTSIDE, EndpointKind.CONTROL_NODE):
                continue
        elif src.kind == EndpointKind.HOSTS:
            if source_host not in src.host_names:
                continue
        elif src.kind != EndpointKind.OUTSIDE:
            continue
        if destination_address not in {a for _, a in _targets(rf.destination)}:
            continue
        for _, service in rf.services:
            if service.protocol in (Protocol.TCP, Protocol.TCP_UDP) and port in service.ports:
                ids.append(rf.id)
    return ids


def plan_allowed(resolved: ResolvedPolicy) -> tuple[list[Probe], list[dict[str, str]]]:
    probes: list[Probe] = []
    skipped: list[dict[str, str]] = []
    seen: set[tuple[str, str, int]] = set()
    for rf in resolved.flows:
        tcp = [(n, s) for n, s in rf.services if s.protocol in (Protocol.TCP, Protocol.TCP_UDP)]
        for name, service in rf.services:
            if (name, service) not in tcp:
                skipped.append({"flow": f"{rf.id} {rf.name}", "service": name,
                                "reason": f"{service.protocol} is not probed by a TCP connect"})
        if not tcp:
            continue
        targets = _targets(rf.destination)
        if not targets:
            skipped.append({"flow": f"{rf.id} {rf.name}", "service": ",".join(n for n, _ in tcp),
                            "reason": "the destination is outside the appliance; tests stay inside it"})
            continue
        for target_host, address in targets:
            source = _source_for(rf.source, target_host)
            if source is None:
                skipped.append({"flow": f"{rf.id} {rf.name}", "service": ",".join(n for n, _ in tcp),
                                "reason": f"no other member of {rf.source.ref} than {target_host} to probe from"})
                continue
            for name, service in tcp:
                for port in service.ports:
                    key = (rf.source.ref, address, port)
                    if key in seen:
                        continue
                    seen.add(key)
                    probes.append(Probe(
                        id=f"allow-{rf.id}-{target_host or rf.destination.ref}-{port}",
                        expect="allow", source=rf.source.ref, source_host=source[0], source_address=source[1],
                        destination=rf.destination.ref, destination_host=target_host, address=address,
                        port=port, flow=rf.id, reason=f"{name}: {rf.flow.purpose}"))
    return probes, skipped


@dataclass(frozen=True)
class DeniedSample:
    """A flow the policy must deny: from a group (or outside) to a group's address on a network."""

    name: str
    source: str  # a group, or "outside"
    destination_group: str
    destination_network: str
    port: int
    reason: str


DENIED_SAMPLES: tuple[DeniedSample, ...] = (
    DeniedSample("web-to-db-postgresql", "web", "db", "db", 5432, "a web VM must not reach the database"),
    DeniedSample("outside-to-app", "outside", "app", "app", 8000, "clients reach the app only through the VIP"),
    DeniedSample("app-to-ssh-of-db", "app", "db", "mgmt", 22, "an app VM must not log in to other VMs"),
    DeniedSample("web-to-etcd", "web", "witness", "db", 2379, "only the database VMs and the witness use etcd"),
    DeniedSample("lb-to-backup", "lb", "backup", "backup", 8432, "the load balancers have no business with backups"),
    DeniedSample("app-to-db-direct", "app", "db", "db", 5432, "the app reaches the database only through the VIP"),
    DeniedSample("lb-to-app", "lb", "app", "app", 8000, "HAProxy talks to Apache, not to the app"),
    DeniedSample("web-to-ssh-of-lb", "web", "lb", "mgmt", 22, "a web VM must not log in to other VMs"),
)


def plan_denied(resolved: ResolvedPolicy, allowed_probes: Iterable[Probe],
                samples: Iterable[DeniedSample] = DENIED_SAMPLES) -> list[Probe]:
    topology = resolved.topology
    proofs = {(p.address, p.port): p.id for p in allowed_probes}
    probes = []
    for sample in samples:
        if sample.source == "outside":
            source_host, source_address = CONTROL_NODE, None
        else:
            members = topology.group_members(sample.source)
            if not members:
                continue
            source_host, source_address = members[0], None
        targets = [h for h in topology.group_members(sample.destination_group) if h != source_host]
        if not targets or sample.destination_network not in topology.hosts[targets[0]].addresses:
            continue
        address = str(topology.hosts[targets[0]].addresses[sample.destination_network])
        flows = allowed(resolved, source_host, address, sample.port)
        if flows:
            raise ValueError(f"denied sample {sample.name}: the policy allows it (flow {flows}); "
                             "fix the sample or the policy")
        probes.append(Probe(
            id=f"deny-{sample.name}", expect="deny", source=sample.source, source_host=source_host,
            source_address=source_address, destination=f"{sample.destination_group}.{sample.destination_network}",
            destination_host=targets[0], address=address, port=sample.port, reason=sample.reason,
            proof=proofs.get((address, sample.port))))
    return probes


def plan_probes(resolved: ResolvedPolicy) -> tuple[list[Probe], list[dict[str, str]]]:
    allow, skipped = plan_allowed(resolved)
    return allow + plan_denied(resolved, allow), skipped


# -- running -----------------------------------------------------------------------------------------

# Runs inside a VM (or on the control node) with the VM's own python3: connects to every probe at once
# and prints one JSON line of outcomes. errno names keep refused and unreachable apart from timeouts.
PROBE_SCRIPT = r"""
import json, socket, sys, errno
from concurrent.futures import ThreadPoolExecutor
probes = json.loads(sys.stdin.read())
def one(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(p["timeout"])
    try:
        if p.get("bind"):
            s.bind((p["bind"], 0))
        s.connect((p["address"], p["port"]))
        return "connected", ""
    except socket.timeout:
        return "timeout", "no answer within %ss" % p["timeout"]
    except ConnectionRefusedError:
        return "refused", "connection refused (the SYN reached the host)"
    except OSError as e:
        blocked = (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM)
        kind = "unreachable" if e.errno in blocked else "error"
        return kind, "%s: %s" % (errno.errorcode.get(e.errno, e.errno), e.strerror)
    finally:
        s.close()
with ThreadPoolExecutor(max_workers=16) as pool:
    print(json.dumps(list(pool.map(one, probes))))
"""

Runner = Callable[[str, list[dict[str, Any]]], list[tuple[str, str]]]


def judge(probe: Probe, outcome: str, detail: str) -> ProbeResult:
    if probe.expect == "allow":
        return ProbeResult(probe, outcome, outcome == "connected", detail)
    # Dropped (timeout) or rejected by a firewall (unreachable); refused or connected got through.
    ok = outcome in ("timeout", "unreachable")
    if outcome == "refused":
        detail += "; not blocked by a firewall: the target's TCP stack answered"
    return ProbeResult(probe, outcome, ok, detail)


def _run_script(command: list[str], payload: list[dict[str, Any]], timeout: float) -> list[tuple[str, str]]:
    proc = subprocess.run(command, input=json.dumps(payload), capture_output=True, text=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[:4])} ...` failed ({proc.returncode}): {proc.stderr.strip()[-300:]}")
    return [(str(o), str(d)) for o, d in json.loads(proc.stdout.strip().splitlines()[-1])]


def lab_runner(topology: Topology) -> Runner:
    """Probes from inside the lab's containers (podman exec), and from this machine for the control node."""
    def run(source_host: str, payload: list[dict[str, Any]]) -> list[tuple[str, str]]:
        budget = 30 + CONNECT_TIMEOUT * 2
        if source_host == CONTROL_NODE:
            return _run_script(["python3", "-c", PROBE_SCRIPT], payload, budget)
        container = topology.container_name(source_host)
        return _run_script(["podman", "exec", "-i", container, "python3", "-c", PROBE_SCRIPT], payload, budget)
    return run


def ssh_runner(topology: Topology) -> Runner:
    """Probes from the VMs over SSH (the deploy user, on the management address), for racks and Vagrant."""
    def run(source_host: str, payload: list[dict[str, Any]]) -> list[tuple[str, str]]:
        budget = 30 + CONNECT_TIMEOUT * 2
        if source_host == CONTROL_NODE:
            return _run_script(["python3", "-c", PROBE_SCRIPT], payload, budget)
        target = f"{topology.ssh_user}@{topology.connect_address(source_host)}"
        # The payload goes on stdin, so the script travels in the command line, base64 to survive the shell.
        encoded = base64.b64encode(PROBE_SCRIPT.encode()).decode()
        command = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", target, "python3", "-c",
                   f"\"import base64; exec(base64.b64decode('{encoded}'))\""]
        return _run_script(command, payload, budget)
    return run


def run_probes(resolved: ResolvedPolicy, probes: list[Probe], runner: Runner,
               skipped: list[dict[str, str]] | None = None, timeout: float = CONNECT_TIMEOUT) -> FlowTestReport:
    report = FlowTestReport(resolved.topology.name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                            skipped=list(skipped or []))
    by_source: dict[str, list[Probe]] = defaultdict(list)
    for probe in probes:
        by_source[probe.source_host].append(probe)
    for source_host, batch in sorted(by_source.items()):
        payload = [{"address": p.address, "port": p.port, "bind": p.source_address, "timeout": timeout}
                   for p in batch]
        try:
            outcomes = runner(source_host, payload)
        except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError, ValueError) as err:
            outcomes = [("error", f"could not run the probes on {source_host}: {err}")] * len(batch)
        for probe, (outcome, detail) in zip(batch, outcomes, strict=True):
            result = judge(probe, outcome, detail)
            if outcome == "error":
                result = replace(result, ok=False)
            report.results.append(result)
    order = {p.id: i for i, p in enumerate(probes)}
    report.results.sort(key=lambda r: order[r.probe.id])
    return report


def format_report(report: FlowTestReport) -> str:
    lines = [f"{'probe':<44} {'from':<14} {'to':<22} {'expect':<6} {'outcome':<11} result"]
    for r in report.results:
        p = r.probe
        lines.append(f"{p.id:<44} {p.source_host:<14} {p.address + ':' + str(p.port):<22} {p.expect:<6} "
                     f"{r.outcome:<11} {'ok' if r.ok else 'FAIL ' + r.detail}")
    failed = sum(1 for r in report.results if not r.ok)
    lines.append(f"{len(report.results)} probes, {failed} failed; {len(report.skipped)} services not probed "
                 "(not TCP, or outside the appliance)")
    return "\n".join(lines)
