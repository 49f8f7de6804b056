"""The FortiGate 201F HA pair's configuration, rendered from the policy.

`fortios_objects` builds the objects once, shaped as the options of the fortinet.fortios modules;
`render_fortios_vars` hands them to roles/fortigate, and `render_fortios_script` writes the same
objects as a FortiOS CLI script an engineer can review or paste. Deny is FortiOS's implicit policy 0,
logged (`fwpolicy-implicit-log`); every allowed flow is one accept policy whose id is the flow's id.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from appliance.firewall.model import Protocol, Service
from appliance.firewall.resolve import Endpoint, EndpointKind, ResolvedPolicy
from appliance.topology import Topology

SERVICE_PREFIX = "oson-"
GROUP_PREFIX = "grp-"
CONTROL_NODE_GROUP = "control-node"
VRRP_PROTOCOL = 112
ICMP_ECHO_REQUEST = 8


def interface_name(network: str, vlan: int) -> str:
    # FortiOS interface names are at most 15 characters.
    return f"vlan{vlan}-{network}"[:15]


def _address_names(topology: Topology) -> dict[ipaddress.IPv4Address, str]:
    """A readable name for every address the topology knows (used for excluded addresses)."""
    names: dict[ipaddress.IPv4Address, str] = {}
    for net_name, net in topology.networks.items():
        if net.gateway is not None:
            names[net.gateway] = f"gw.{net_name}"
    for hv in topology.hypervisors:
        if hv.address is not None:
            names[hv.address] = f"{hv.name}.hypervisor"
        if hv.bmc_address is not None:
            names[hv.bmc_address] = f"{hv.name}.bmc"
    for host_name, host in topology.hosts.items():
        for net_name, addr in host.addresses.items():
            names[addr] = f"{host_name}.{net_name}"
    for vip_name, vip in topology.vips.items():
        names[vip.address] = f"vip.{vip_name}"
    return names


def service_object(name: str, service: Service) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": SERVICE_PREFIX + name, "comment": service.description}
    ports = " ".join(str(p) for p in service.ports)
    match service.protocol:
        case Protocol.TCP:
            obj |= {"protocol": "TCP/UDP/SCTP", "tcp_portrange": ports}
        case Protocol.UDP:
            obj |= {"protocol": "TCP/UDP/SCTP", "udp_portrange": ports}
        case Protocol.TCP_UDP:
            obj |= {"protocol": "TCP/UDP/SCTP", "tcp_portrange": ports, "udp_portrange": ports}
        case Protocol.ICMP:
            obj |= {"protocol": "ICMP", "icmptype": ICMP_ECHO_REQUEST}
        case Protocol.VRRP:
            obj |= {"protocol": "IP", "protocol_number": VRRP_PROTOCOL}
    return obj


class _Objects:
    """Collects address objects and groups as endpoints are turned into FortiOS names."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.names = _address_names(topology)
        self.addresses: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}

    def address(self, addr: ipaddress.IPv4Address | ipaddress.IPv4Network, name: str | None = None) -> str:
        if isinstance(addr, ipaddress.IPv4Network):
            name = name or f"net.{addr}"
            subnet = f"{addr.network_address} {addr.netmask}"
        else:
            name = name or self.names.get(addr, f"host.{addr}")
            subnet = f"{addr} 255.255.255.255"
        self.addresses.setdefault(name, {"name": name, "type": "ipmask", "subnet": subnet})
        return name

    def endpoint(self, endpoint: Endpoint) -> str:
        match endpoint.kind:
            case EndpointKind.OUTSIDE:
                return "all"
            case EndpointKind.VIP:
                assert endpoint.vip_address is not None
                return self.address(endpoint.vip_address, f"vip.{endpoint.vip}")
            case EndpointKind.HOSTS:
                members = [self.address(addr) for _, addr in endpoint.members]
                name = GROUP_PREFIX + endpoint.ref
                self.groups.setdefault(name, {"name": name, "member": [{"name": m} for m in members],
                                              "comment": f"hosts of group {endpoint.ref}"})
                return name
            case EndpointKind.CONTROL_NODE:
                group: dict[str, Any] = {"name": CONTROL_NODE_GROUP, "comment": "management stations"}
                if endpoint.networks:
                    nets = [self.address(n, f"net.{endpoint.network}") for n in endpoint.networks]
                    group |= {"member": [{"name": n} for n in nets], "exclude": "enable",
                              "exclude_member": [{"name": self.address(a)} for a in endpoint.exclude]}
                else:
                    group["member"] = [{"name": self.address(a)} for a in endpoint.exact]
                self.groups.setdefault(CONTROL_NODE_GROUP, group)
                return CONTROL_NODE_GROUP
        raise ValueError(f"no FortiOS object for endpoint {endpoint.ref}")


def fortios_objects(resolved: ResolvedPolicy) -> dict[str, Any]:
    """Every FortiGate object of the policy, keyed like the role's variables (module option names)."""
    topology = resolved.topology
    policy = resolved.policy
    fg = policy.fortigate
    objects = _Objects(topology)
    interfaces: list[dict[str, Any]] = []
    zones: list[dict[str, Any]] = []
    for zone_name in sorted(policy.zones):
        network = policy.zones[zone_name].network
        if network is None:
            zones.append({"name": zone_name, "interface": [{"interface_name": fg.outside_interface}],
                          "intrazone": "deny", "description": policy.zones[zone_name].description})
            continue
        net = topology.networks[network]
        if net.gateway is None:
            raise ValueError(f"network {network} has no gateway in topology {topology.name}: the FortiGate's "
                             "address on it is the gateway; add `gateway:` to the network")
        ifname = interface_name(network, net.vlan)
        interfaces.append({"name": ifname, "vdom": fg.vdom, "type": "vlan", "interface": fg.internal_trunk,
                           "vlanid": net.vlan, "ip": f"{net.gateway} {net.cidr.netmask}",
                           "allowaccess": ["ping"], "role": "lan",
                           "description": f"zone {zone_name}: {net.description}"[:255]})
        zones.append({"name": zone_name, "interface": [{"interface_name": ifname}], "intrazone": "deny",
                      "description": policy.zones[zone_name].description})
    used_services = sorted({name for rf in resolved.flows for name, _ in rf.services})
    services = [service_object(name, policy.services[name]) for name in used_services]
    policies = []
    for rf in sorted(resolved.flows, key=lambda f: f.id):
        policies.append({
            "policyid": rf.id,
            "name": rf.name,
            "srcintf": [{"name": rf.source.zone}],
            "dstintf": [{"name": rf.destination.zone}],
            "srcaddr": [{"name": objects.endpoint(rf.source)}],
            "dstaddr": [{"name": objects.endpoint(rf.destination)}],
            "service": [{"name": SERVICE_PREFIX + name} for name, _ in rf.services],
            "action": "accept",
            "schedule": "always",
            "logtraffic": "all",
            # Only traffic leaving for the internet is translated; inside, hosts see each other's addresses.
            "nat": "enable" if rf.destination.kind == EndpointKind.OUTSIDE else "disable",
            "status": "enable",
            "comments": f"flow {rf.id}: {rf.source.ref} -> {rf.destination.ref}: {rf.flow.purpose}"[:1023],
        })
    ha = fg.ha
    hbdev: list[str] = []
    for hb in ha.heartbeat:
        hbdev += [hb.interface, str(hb.priority)]
    return {
        "vdom": fg.vdom,
        "ha": {
            "group_name": ha.group_name,
            "group_id": ha.group_id,
            "mode": ha.mode,
            "hbdev": hbdev,
            "monitor": list(ha.monitor),
            "override": "disable",
            "session_pickup": "enable" if ha.session_pickup else "disable",
            "ha_mgmt_status": "enable" if ha.management_interface else "disable",
            "ha_mgmt_interfaces": [{"id": 1, "interface": ha.management_interface}] if ha.management_interface else [],
        },
        "ha_priority_primary": ha.priority_primary,
        "ha_priority_secondary": ha.priority_secondary,
        "log_setting": {"fwpolicy_implicit_log": "enable"},
        "interfaces": interfaces,
        "zones": zones,
        "addresses": sorted(objects.addresses.values(), key=lambda a: a["name"]),
        "addrgrps": sorted(objects.groups.values(), key=lambda g: g["name"]),
        "services": services,
        "policies": policies,
    }


def render_fortios_vars(resolved: ResolvedPolicy) -> dict[str, Any]:
    """The variables roles/fortigate reads (fortios-vars.yml), prefixed with the role's name."""
    objects = fortios_objects(resolved)
    return {"fortigate_topology": resolved.topology.name} | {f"fortigate_{k}": v for k, v in objects.items()}


# -- the CLI script --------------------------------------------------------------------------------


def _quote(value: object) -> str:
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _names(items: list[dict[str, Any]], key: str = "name") -> str:
    return " ".join(_quote(i[key]) for i in items)


def _edit_block(section: str, entries: list[tuple[object, list[str]]]) -> list[str]:
    lines = [f"config {section}"]
    for key, settings in entries:
        lines.append(f"    edit {key}")
        lines += [f"        {s}" for s in settings]
        lines.append("    next")
    lines += ["end", ""]
    return lines


def render_fortios_script(resolved: ResolvedPolicy) -> str:
    o = fortios_objects(resolved)
    ha = o["ha"]
    hb = ha["hbdev"]
    lines = [
        f"# FortiGate 201F HA pair of {resolved.topology.name}: rendered from firewall/policy.yml by",
        "# `osonctl firewall render`; review, then paste on the primary unit (the secondary syncs from it).",
        "# Every allowed flow of the policy is one accept policy whose id is the flow's id; everything else",
        "# meets FortiOS's implicit deny, which is logged.",
        f"# vdom: {o['vdom']}",
        "",
        "config system ha",
        f"    set group-name {_quote(ha['group_name'])}",
        f"    set group-id {ha['group_id']}",
        f"    set mode {ha['mode']}",
        "    set hbdev " + " ".join(f"{_quote(hb[i])} {hb[i + 1]}" for i in range(0, len(hb), 2)),
        f"    set session-pickup {ha['session_pickup']}",
        f"    set override {ha['override']}",
        f"    set priority {o['ha_priority_primary']}",
        "    # on the secondary unit: set priority " + str(o["ha_priority_secondary"]),
        "    # set password <the HA password from the vault: vault_fortigate_ha_password>",
    ]
    if ha["monitor"]:
        lines.append("    set monitor " + " ".join(_quote(m) for m in ha["monitor"]))
    if ha["ha_mgmt_status"] == "enable":
        lines += ["    set ha-mgmt-status enable", "    config ha-mgmt-interfaces"]
        for m in ha["ha_mgmt_interfaces"]:
            lines += [f"        edit {m['id']}", f"            set interface {_quote(m['interface'])}", "        next"]
        lines.append("    end")
    lines += ["end", "", "config log setting", "    set fwpolicy-implicit-log enable", "end", ""]
    lines += _edit_block("system interface", [
        (_quote(i["name"]), [f"set vdom {_quote(i['vdom'])}", f"set type {i['type']}",
                             f"set interface {_quote(i['interface'])}", f"set vlanid {i['vlanid']}",
                             f"set ip {i['ip']}", "set allowaccess " + " ".join(i["allowaccess"]),
                             f"set role {i['role']}", f"set description {_quote(i['description'])}"])
        for i in o["interfaces"]
    ])
    lines += _edit_block("system zone", [
        (_quote(z["name"]), [f"set interface {_names(z['interface'], 'interface_name')}",
                             f"set intrazone {z['intrazone']}", f"set description {_quote(z['description'])}"])
        for z in o["zones"]
    ])
    lines += _edit_block("firewall address", [
        (_quote(a["name"]), [f"set type {a['type']}", f"set subnet {a['subnet']}"]) for a in o["addresses"]
    ])
    grp_entries = []
    for g in o["addrgrps"]:
        settings = [f"set member {_names(g['member'])}"]
        if g.get("exclude") == "enable":
            settings += ["set exclude enable", f"set exclude-member {_names(g['exclude_member'])}"]
        settings.append(f"set comment {_quote(g['comment'])}")
        grp_entries.append((_quote(g["name"]), settings))
    lines += _edit_block("firewall addrgrp", grp_entries)
    svc_entries = []
    for s in o["services"]:
        settings = [f"set protocol {s['protocol']}"]
        for key, cli in (("tcp_portrange", "tcp-portrange"), ("udp_portrange", "udp-portrange"),
                         ("icmptype", "icmptype"), ("protocol_number", "protocol-number")):
            if key in s:
                settings.append(f"set {cli} {s[key]}")
        settings.append(f"set comment {_quote(s['comment'])}")
        svc_entries.append((_quote(s["name"]), settings))
    lines += _edit_block("firewall service custom", svc_entries)
    lines += _edit_block("firewall policy", [
        (p["policyid"], [f"set name {_quote(p['name'])}", f"set srcintf {_names(p['srcintf'])}",
                         f"set dstintf {_names(p['dstintf'])}", f"set srcaddr {_names(p['srcaddr'])}",
                         f"set dstaddr {_names(p['dstaddr'])}", f"set action {p['action']}",
                         f"set schedule {_quote(p['schedule'])}", f"set service {_names(p['service'])}",
                         f"set logtraffic {p['logtraffic']}", f"set nat {p['nat']}",
                         f"set status {p['status']}", f"set comments {_quote(p['comments'])}"])
        for p in o["policies"]
    ])
    return "\n".join(lines).rstrip("\n") + "\n"
