"""The flow test's plan (one probe per allowed TCP source group, destination and port; a sample of denied
flows the policy really denies, each aimed at a port proven to listen) and its judgement of real
connects made by the same probe script the VMs run."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.firewall.flowtest import (
    CONTROL_NODE,
    PROBE_SCRIPT,
    Probe,
    allowed,
    judge,
    plan_probes,
    run_probes,
)
from appliance.firewall.model import Protocol
from appliance.firewall.resolve import ResolvedPolicy, load_resolved
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_DENIED = {"web-to-db-postgresql", "outside-to-app", "app-to-ssh-of-db", "web-to-etcd", "lb-to-backup"}


@pytest.fixture(scope="module")
def resolved() -> ResolvedPolicy:
    return load_resolved(load_topology(ROOT / "inventory" / "lab"))


def test_every_allowed_tcp_flow_has_exactly_one_probe_per_destination_and_port(resolved: ResolvedPolicy) -> None:
    probes, _ = plan_probes(resolved)
    allow = [p for p in probes if p.expect == "allow"]
    keys = [(p.source, p.address, p.port) for p in allow]
    assert len(keys) == len(set(keys))
    expected = set()
    for rf in resolved.flows:
        for _, service in rf.services:
            if service.protocol not in (Protocol.TCP, Protocol.TCP_UDP):
                continue
            for address in (str(a) for a in rf.destination.addresses()) if rf.destination.kind != "outside" else ():
                expected |= {(rf.source.ref, address, port) for port in service.ports}
    assert set(keys) == expected
    topology = resolved.topology
    for p in allow:
        assert p.flow in allowed(resolved, p.source_host, p.address, p.port)
        assert p.source_host != p.destination_host  # a host's own traffic stays on loopback
        if p.source_host != CONTROL_NODE:
            assert p.source_address in {str(a) for a in topology.hosts[p.source_host].addresses.values()}


def test_denied_sample_is_denied_by_the_policy_and_aims_at_listening_ports(resolved: ResolvedPolicy) -> None:
    probes, _ = plan_probes(resolved)
    allow_ids = {p.id: p for p in probes if p.expect == "allow"}
    deny = [p for p in probes if p.expect == "deny"]
    assert {p.id.removeprefix("deny-") for p in deny} >= REQUIRED_DENIED
    for p in deny:
        assert allowed(resolved, p.source_host, p.address, p.port) == [], p.id
        assert p.proof in allow_ids, f"{p.id}: no allowed probe proves {p.address}:{p.port} listens"
        proof = allow_ids[p.proof]
        assert (proof.address, proof.port) == (p.address, p.port)


def test_what_is_not_probed_is_reported(resolved: ResolvedPolicy) -> None:
    _, skipped = plan_probes(resolved)
    flows = {s["flow"] for s in skipped}
    assert {"180 vrrp", "191 management-ping", "200 time", "201 name-resolution", "202 package-mirror"} <= flows


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def _probe(expect: str, port: int) -> Probe:
    return Probe(id=f"{expect}-{port}", expect=expect, source="test", source_host="local", source_address="127.0.0.1",
                 destination="test", destination_host=None, address="127.0.0.1", port=port)


def _local_runner(source_host: str, payload: list[dict[str, object]]) -> list[tuple[str, str]]:
    proc = subprocess.run(["python3", "-c", PROBE_SCRIPT], input=json.dumps(payload), capture_output=True,
                          text=True, timeout=30, check=True)
    return [(o, d) for o, d in json.loads(proc.stdout)]


def test_real_connects_are_judged(resolved: ResolvedPolicy, listener: int) -> None:
    closed = _closed_port()
    probes = [_probe("allow", listener), _probe("allow", closed), _probe("deny", closed), _probe("deny", listener)]
    report = run_probes(resolved, probes, _local_runner, timeout=2)
    outcomes = {r.probe.id: (r.outcome, r.ok) for r in report.results}
    assert outcomes[f"allow-{listener}"] == ("connected", True)
    assert outcomes[f"allow-{closed}"] == ("refused", False)
    # Refused means the SYN reached the host's TCP stack: no firewall stopped it.
    assert outcomes[f"deny-{closed}"] == ("refused", False)
    assert outcomes[f"deny-{listener}"] == ("connected", False)
    assert not report.ok
    data = report.as_json()
    assert data["summary"] == {"allow_ok": 1, "allow_failed": 1, "deny_failed": 2}


def test_a_dropped_connect_is_a_pass_for_a_denied_flow_only() -> None:
    assert judge(_probe("deny", 1), "timeout", "").ok
    assert judge(_probe("deny", 1), "unreachable", "EPERM").ok  # the lab machine's own table drops locally
    assert not judge(_probe("allow", 1), "timeout", "").ok


def test_a_runner_that_fails_fails_its_probes(resolved: ResolvedPolicy) -> None:
    def broken(source_host: str, payload: list[dict[str, object]]) -> list[tuple[str, str]]:
        raise RuntimeError("podman exec failed: no such container")

    report = run_probes(resolved, [_probe("deny", 1)], broken)
    assert [(r.outcome, r.ok) for r in report.results] == [("error", False)]
    assert "no such container" in report.results[0].detail
