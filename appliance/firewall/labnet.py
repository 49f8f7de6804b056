"""The lab's stand-in for the FortiGate: an nftables table on the lab machine between the lab's podman
bridges.

Only the policy's flows cross from one lab network to another (the forward path), and the lab machine
itself, which is both the clients ("outside") and the control node, reaches the lab networks only with
the policy's flows from outside and from the control node (the output path). The table is the lab's
own (`inet oson_lab_fw`): it is replaced or deleted as a whole and never touches podman's tables.
Traffic that is not between lab networks (the mgmt network's way out to the package mirror, podman's
DNS on the bridge gateways) is left to podman's rules, unless the lab is closed to the outside (an
offline lab, installed from the bundle): then nothing from a lab network is forwarded anywhere else.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from appliance.firewall.nftables import flow_rules, nft_set, service_match
from appliance.firewall.resolve import EndpointKind, ResolvedFlow, ResolvedPolicy, load_resolved
from appliance.secrets import state_dir
from appliance.topology import Topology

LAB_TABLE = "oson_lab_fw"


class LabFirewallError(RuntimeError):
    pass


def _nft(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["nft", *args], input=stdin, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        raise LabFirewallError("nft is not installed on this machine: apt-get install nftables") from None


def lab_bridges(topology: Topology) -> dict[str, str]:
    """The bridge interface of every lab network, from `podman network inspect`."""
    bridges: dict[str, str] = {}
    for network in sorted(topology.networks):
        resource = topology.network_resource_name(network)
        proc = subprocess.run(["podman", "network", "inspect", resource], capture_output=True, text=True,
                              timeout=30, check=False)
        if proc.returncode != 0:
            raise LabFirewallError(f"podman network {resource} does not exist: bring the lab up first "
                                   f"(`osonctl lab up`); {proc.stderr.strip()}")
        info = json.loads(proc.stdout)[0]
        name = info.get("network_interface")
        if not name:
            raise LabFirewallError(f"podman network {resource} has no bridge interface: {info}")
        bridges[network] = str(name)
    return bridges


def _forward_rules(rf: ResolvedFlow, bridges: dict[str, str]) -> list[str]:
    """A flow between two lab networks: rules for the forward path (none when it stays on one network)."""
    src, dst = rf.source, rf.destination
    if src.kind not in (EndpointKind.HOSTS,) or dst.kind not in (EndpointKind.HOSTS, EndpointKind.VIP):
        return []
    if src.network == dst.network or src.network is None or dst.network is None:
        return []
    interfaces = f'iifname "{bridges[src.network]}" oifname "{bridges[dst.network]}"'
    return [f"{interfaces} {rule}" for rule in flow_rules(rf, f"ip daddr {nft_set(sorted(set(dst.addresses())))}")]


def _output_rules(rf: ResolvedFlow, bridges: dict[str, str]) -> list[str]:
    """A flow from the lab machine (as a client outside, or as the control node) into a lab network."""
    src, dst = rf.source, rf.destination
    if src.kind not in (EndpointKind.OUTSIDE, EndpointKind.CONTROL_NODE) or dst.network is None:
        return []
    if dst.kind not in (EndpointKind.HOSTS, EndpointKind.VIP):
        return []
    out = f'oifname "{bridges[dst.network]}" ip daddr {nft_set(sorted(set(dst.addresses())))}'
    return [f'{out} {service_match(service)} accept comment "flow {rf.id} {rf.name}: {name}"'
            for name, service in rf.services]


# The comment of the rule that closes an offline lab; tests read its counter.
CLOSED_TO_OUTSIDE = "offline lab: no way out of the lab networks"


def render_lab_enforcement(resolved: ResolvedPolicy, bridges: dict[str, str], table: str = LAB_TABLE, *,
                           closed_to_outside: bool = False) -> str:
    missing = sorted(set(resolved.topology.networks) - set(bridges))
    if missing:
        raise LabFirewallError(f"no bridge interface given for lab network(s): {', '.join(missing)}")
    lab_ifs = nft_set(f'"{b}"' for b in sorted(set(bridges.values())))
    forward = [r for rf in resolved.flows for r in _forward_rules(rf, bridges)]
    output = [r for rf in resolved.flows for r in _output_rules(rf, bridges)]
    # With bridge netfilter on (podman's default), frames between two VMs of ONE network pass this hook
    # too, in and out of the same bridge. They would not cross the FortiGate: the VMs' own firewalls
    # decide about them.
    same_network = [f'iifname "{b}" oifname "{b}" accept comment "same network: the VMs\' firewalls decide"'
                    for b in sorted(set(bridges.values()))]
    fwd_body = "\n".join(f"        {r}" for r in same_network + forward)
    # A rack without Internet access: the package mirror, and everything else outside, is out of reach.
    way_out = (f'iifname {lab_ifs} oifname != {lab_ifs} counter drop comment "{CLOSED_TO_OUTSIDE}"\n        '
               if closed_to_outside else "")
    out_body = "\n".join(f"        {r}" for r in output)
    return f"""#!/usr/sbin/nft -f
# The lab {resolved.topology.name}'s enforcement between its networks (the FortiGate's part), rendered
# from firewall/policy.yml. Bridges: {", ".join(f"{n}={b}" for n, b in sorted(bridges.items()))}.
# Only this table is replaced; podman's own tables are left alone.

table inet {table}
delete table inet {table}

table inet {table} {{
    # Between two lab networks: only the policy's flows.
    chain forward {{
        type filter hook forward priority filter; policy accept;
        iifname != {lab_ifs} return
        {way_out}oifname != {lab_ifs} return
        ct state established,related accept
{fwd_body}
        limit rate 10/second burst 20 packets log prefix "oson-lab-fw drop: " level info
        counter drop
    }}

    # From this machine (the clients outside, and the control node) into the lab networks.
    chain output {{
        type filter hook output priority filter; policy accept;
        oifname != {lab_ifs} return
        meta nfproto != ipv4 return
        ct state established,related accept
{out_body}
        limit rate 10/second burst 20 packets log prefix "oson-lab-fw drop: " level info
        counter drop
    }}
}}
"""


def lab_enforcement_file(topology: Topology) -> Path:
    return state_dir(topology) / "firewall" / "lab-forward.nft"


def apply_lab_enforcement(topology: Topology, *, table: str = LAB_TABLE, policy_file: Path | None = None,
                          bridges: dict[str, str] | None = None, closed_to_outside: bool = False) -> Path:
    """Render the lab's table for the running lab networks and load it (replacing an older one).

    Returns the file that was loaded (also kept in the state directory as a record)."""
    if topology.platform != "container":
        raise LabFirewallError(f"topology {topology.name} is not the lab (platform: container); the FortiGate "
                               "enforces the policy between the networks of a rack")
    resolved = load_resolved(topology, policy_file)
    text = render_lab_enforcement(resolved, bridges or lab_bridges(topology), table,
                                  closed_to_outside=closed_to_outside)
    path = lab_enforcement_file(topology) if table == LAB_TABLE else state_dir(topology) / "firewall" / f"{table}.nft"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    proc = _nft(["-f", str(path)])
    if proc.returncode != 0:
        raise LabFirewallError(f"nft -f {path} failed: {proc.stderr.strip()}")
    return path


def lab_enforcement_loaded(table: str = LAB_TABLE) -> bool:
    return _nft(["list", "table", "inet", table]).returncode == 0


def remove_lab_enforcement(topology: Topology, *, table: str = LAB_TABLE) -> bool:
    """Delete the lab's table; True when there was one. Other tables are left alone."""
    del topology  # the table name is enough; the topology keeps the signature symmetrical with apply
    if not lab_enforcement_loaded(table):
        return False
    proc = _nft(["delete", "table", "inet", table])
    if proc.returncode != 0:
        raise LabFirewallError(f"nft delete table inet {table} failed: {proc.stderr.strip()}")
    return True
