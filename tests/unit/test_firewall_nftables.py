"""The VMs' nftables rulesets and the lab's table: nft accepts every one of them (`nft -c -f`), each VM
lets in exactly the policy's flows to it, and the lab's table loads and goes away without touching
any other table."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from appliance.firewall.flowtest import PROBE_SCRIPT
from appliance.firewall.labnet import (
    CLOSED_TO_OUTSIDE,
    apply_lab_enforcement,
    lab_enforcement_loaded,
    remove_lab_enforcement,
    render_lab_enforcement,
)
from appliance.firewall.model import parse_policy
from appliance.firewall.nftables import HOST_TABLE, render_host_ruleset
from appliance.firewall.resolve import EndpointKind, ResolvedPolicy, load_resolved, resolve_policy
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("production", "vagrant", "lab")

pytestmark = pytest.mark.skipif(shutil.which("nft") is None or os.geteuid() != 0,
                                reason="needs nft (apt-get install nftables) and root")


def _resolved(env: str) -> ResolvedPolicy:
    return load_resolved(load_topology(ROOT / "inventory" / env))


def _nft_check(text: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.nft"
    path.write_text(text)
    proc = subprocess.run(["nft", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"{name}: {proc.stderr}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_host_ruleset_passes_nft_check(env: str, tmp_path: Path) -> None:
    resolved = _resolved(env)
    for host in resolved.topology.hosts:
        _nft_check(render_host_ruleset(resolved, host), tmp_path, host)


def _accept_comments(text: str) -> list[str]:
    return re.findall(r'accept comment "flow (\d+ [a-z0-9-]+: [a-z0-9-]+)"', text)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_host_lets_in_exactly_the_flows_that_end_on_it(env: str) -> None:
    resolved = _resolved(env)
    topology = resolved.topology
    for host in topology.hosts:
        expected = []
        for rf in resolved.flows:
            dst = rf.destination
            ends_here = (dst.kind == EndpointKind.HOSTS and host in dst.host_names) or (
                dst.kind == EndpointKind.VIP and topology.hosts[host].role == "lb")
            if ends_here:
                expected += [f"{rf.id} {rf.name}: {name}" for name, _ in rf.services]
        text = render_host_ruleset(resolved, host)
        assert sorted(_accept_comments(text)) == sorted(expected), host
        # Every accept of the input chain is a flow's (besides state, loopback and neighbour discovery).
        input_chain = text.split("chain input")[1].split("chain forward")[0]
        accepts = [line.strip() for line in input_chain.splitlines() if " accept" in line]
        assert len(accepts) == len(expected) + 3, host
        assert "policy drop;" in input_chain


def test_database_host_rules_name_the_sources_and_its_own_address() -> None:
    resolved = _resolved("lab")
    text = render_host_ruleset(resolved, "osondb1")
    assert ('ip saddr { 10.77.50.11, 10.77.50.12 } ip daddr 10.77.50.41 tcp dport 5432 accept '
            'comment "flow 140 haproxy-to-postgresql: postgresql"') in text
    topology = resolved.topology
    for vm in ("osonweb1", "osonweb2", "oson1", "oson2"):  # web and app VMs have no way in
        for address in topology.hosts[vm].addresses.values():
            assert not re.search(rf"saddr [^a-z]*\b{re.escape(str(address))}\b", text), (vm, address)
    assert f"table inet {HOST_TABLE}" in text and "flush ruleset" not in text


def test_both_load_balancers_carry_the_vip_rules() -> None:
    resolved = _resolved("lab")
    for lb in ("osonlb1", "osonlb2"):
        text = render_host_ruleset(resolved, lb)
        assert "ip daddr 10.77.20.100 tcp dport 443 accept" in text
        assert "ip saddr { 10.77.40.31, 10.77.40.32 } ip daddr 10.77.40.100 tcp dport 5432 accept" in text
        assert "ip protocol vrrp accept" in text


FAKE_BRIDGES = {net: f"oson-fwt{i}" for i, net in enumerate(("app", "backup", "db", "dmz", "mgmt", "web"))}


def test_lab_enforcement_passes_nft_check(tmp_path: Path) -> None:
    text = render_lab_enforcement(_resolved("lab"), FAKE_BRIDGES)
    _nft_check(text, tmp_path, "lab-forward")
    assert "table inet oson_lab_fw" in text and "flush" not in text
    # The lab machine may reach the public VIP (it is the clients) and not the app VMs' service port.
    assert 'oifname "oson-fwt3" ip daddr 10.77.20.100 tcp dport 443 accept' in text
    assert "dport 8000" not in text


def test_an_offline_lab_is_closed_to_the_outside(tmp_path: Path) -> None:
    """Offline, nothing from a lab network is forwarded out of the lab; online, that is podman's business."""
    closed = render_lab_enforcement(_resolved("lab"), FAKE_BRIDGES, closed_to_outside=True)
    _nft_check(closed, tmp_path, "lab-forward-closed")
    lab_ifs = "{ " + ", ".join(f'"{b}"' for b in sorted(FAKE_BRIDGES.values())) + " }"
    rule = f'iifname {lab_ifs} oifname != {lab_ifs} counter drop comment "{CLOSED_TO_OUTSIDE}"'
    forward = closed.split("chain forward")[1].split("chain output")[0]
    # Before the rule that hands traffic leaving the lab back to podman's own tables.
    assert rule in forward and forward.index(rule) < forward.index(f"oifname != {lab_ifs} return")
    assert CLOSED_TO_OUTSIDE not in render_lab_enforcement(_resolved("lab"), FAKE_BRIDGES)


def test_lab_enforcement_lets_cross_network_flows_through() -> None:
    """A flow between two lab networks gets a forward rule for exactly its bridges."""
    data = yaml.safe_load((ROOT / "firewall" / "policy.yml").read_text())
    data["flows"].append({"id": 900, "name": "backup-to-patroni", "from": "backup.mgmt", "to": "db.db",
                          "services": ["patroni-api"], "purpose": "a test flow across networks"})
    resolved = resolve_policy(parse_policy(data), load_topology(ROOT / "inventory" / "lab"))
    text = render_lab_enforcement(resolved, FAKE_BRIDGES)
    assert ('iifname "oson-fwt4" oifname "oson-fwt2" ip saddr 10.77.10.51 ip daddr { 10.77.50.41, 10.77.50.42 } '
            'tcp dport 8008 accept') in text


def _tables() -> list[str]:
    out = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=True).stdout
    return sorted(out.splitlines())


def test_apply_and_remove_a_throwaway_lab_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bridge names that exist nowhere: the table loads for real but matches no packet of this machine."""
    monkeypatch.setenv("OSON_STATE_DIR", str(tmp_path))
    table = f"oson_fwtest_{os.getpid()}"
    topology = load_topology(ROOT / "inventory" / "lab")
    before = _tables()
    try:
        path = apply_lab_enforcement(topology, table=table, bridges=FAKE_BRIDGES)
        assert path.is_file() and path.is_relative_to(tmp_path)
        listed = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True,
                                check=True).stdout
        assert "hook forward" in listed and "hook output" in listed and "10.77.20.100" in listed
        apply_lab_enforcement(topology, table=table, bridges=FAKE_BRIDGES)  # again: replaced, not doubled
        again = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True,
                               check=True).stdout
        assert again.count("chain forward") == 1 and again.count("10.77.20.100 tcp dport 443") == 1
        assert _tables() == sorted([*before, f"table inet {table}"])
    finally:
        assert remove_lab_enforcement(topology, table=table) is True
    assert not lab_enforcement_loaded(table)
    assert remove_lab_enforcement(topology, table=table) is False
    assert _tables() == before


# -- real packets through a rendered ruleset, in throwaway network namespaces -----------------------

LISTENER = r"""
import socket, sys, time
socks = []
for port in map(int, sys.argv[1:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16); socks.append(s)
print("ready", flush=True)
time.sleep(120)
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("ip") is None, reason="needs iproute2")
def test_a_rendered_ruleset_passes_allowed_and_drops_denied_packets(tmp_path: Path) -> None:
    """osondb1's production ruleset loaded in a namespace holding its addresses; a second namespace
    holds a load balancer's, a web VM's and a management station's addresses and connects."""
    resolved = _resolved("production")
    server, client = f"oson-fwt-s{os.getpid()}", f"oson-fwt-c{os.getpid()}"
    ruleset = tmp_path / "osondb1.nft"
    ruleset.write_text(render_host_ruleset(resolved, "osondb1"))
    listener = None
    try:
        _ip("netns", "add", server)
        _ip("netns", "add", client)
        _ip("link", "add", "fwt-s", "netns", server, "type", "veth", "peer", "name", "fwt-c", "netns", client)
        for ns, dev, addresses in ((server, "fwt-s", ["10.50.0.41/24", "10.10.0.41/24"]),
                                   (client, "fwt-c", ["10.50.0.11/24", "10.10.0.21/24", "10.10.0.200/24"])):
            for address in addresses:
                _ip("-n", ns, "addr", "add", address, "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        subprocess.run(["ip", "netns", "exec", server, "nft", "-f", str(ruleset)], check=True)
        listener = subprocess.Popen(["ip", "netns", "exec", server, "python3", "-c", LISTENER, "5432", "22", "2379"],
                                    stdout=subprocess.PIPE, text=True)
        assert listener.stdout is not None and listener.stdout.readline().strip() == "ready"
        probes = [  # (bind, address, port, expected outcome)
            ("10.50.0.11", "10.50.0.41", 5432, "connected"),  # flow 140: HAProxy to PostgreSQL
            ("10.10.0.200", "10.10.0.41", 22, "connected"),  # flow 190: a management station's SSH
            ("10.50.0.11", "10.50.0.41", 8008, "refused"),  # flow 140 lets it in; nothing listens there
            ("10.10.0.21", "10.50.0.41", 5432, "timeout"),  # a web VM to the database: dropped
            ("10.10.0.21", "10.10.0.41", 22, "timeout"),  # a web VM to another VM's SSH: dropped
            ("10.50.0.11", "10.50.0.41", 2379, "timeout"),  # a load balancer to etcd: dropped
        ]
        payload = [{"bind": b, "address": a, "port": p, "timeout": 1.0} for b, a, p, _ in probes]
        proc = subprocess.run(["ip", "netns", "exec", client, "python3", "-c", PROBE_SCRIPT],
                              input=json.dumps(payload), capture_output=True, text=True, timeout=30, check=True)
        outcomes = [o for o, _ in json.loads(proc.stdout)]
        assert outcomes == [expected for *_, expected in probes]
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        for ns in (server, client):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
    assert server not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
