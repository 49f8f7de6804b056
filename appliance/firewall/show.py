"""The zones and flows of the policy as tables for people (docs/firewall.md, `osonctl firewall show`)."""

from __future__ import annotations

from appliance.firewall.model import PORTED
from appliance.firewall.resolve import Endpoint, EndpointKind, ResolvedPolicy


def _service_text(resolved: ResolvedPolicy, name: str) -> str:
    service = resolved.policy.services[name]
    if service.protocol in PORTED:
        return f"{name} ({service.protocol.value.replace('_', '+')} {','.join(map(str, service.ports))})"
    return f"{name} ({service.protocol.value})"


def _endpoint_text(endpoint: Endpoint) -> str:
    if endpoint.kind == EndpointKind.HOSTS:
        return f"{endpoint.ref}: {', '.join(h for h, _ in endpoint.members)}"
    if endpoint.kind == EndpointKind.VIP:
        return f"{endpoint.ref} ({endpoint.vip_address}, on {' or '.join(endpoint.holders)})"
    return endpoint.ref


def flows_markdown(resolved: ResolvedPolicy) -> str:
    topology = resolved.topology
    policy = resolved.policy
    lines = [f"Zones of {topology.name}:", "",
             "| zone | network | VLAN | addresses | purpose |", "|---|---|---|---|---|"]
    for name, zone in policy.zones.items():
        if zone.network is None:
            lines.append(f"| {name} | - | - | any | {zone.description} |")
        else:
            net = topology.networks[zone.network]
            lines.append(f"| {name} | {zone.network} | {net.vlan} | {net.cidr} | {zone.description} |")
    lines += ["", f"Allowed flows of {topology.name} (everything else is denied):", "",
              "| id | flow | from (zone) | to (zone) | services | purpose |", "|---|---|---|---|---|---|"]
    for rf in sorted(resolved.flows, key=lambda f: f.id):
        services = ", ".join(_service_text(resolved, n) for n, _ in rf.services)
        lines.append(f"| {rf.id} | {rf.name} | {_endpoint_text(rf.source)} ({rf.source.zone}) | "
                     f"{_endpoint_text(rf.destination)} ({rf.destination.zone}) | {services} | {rf.flow.purpose} |")
    return "\n".join(lines) + "\n"
