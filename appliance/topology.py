"""The topology model: the single source of truth for hosts, groups, networks, VIPs and placement.

Every inventory (`inventory/production`, `inventory/vagrant`, `inventory/lab`) is one
`topology.yml` read through this model; the Ansible inventory plugin, the lab, the prechecks and
the Vagrantfile all derive what they need from it, so nothing is written down twice.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class TopologyError(ValueError):
    """A topology file that cannot be used; the message names the file and the bad field."""


class HostRole(StrEnum):
    LB = "lb"
    WEB = "web"
    APP = "app"
    DB = "db"
    WITNESS = "witness"
    BACKUP = "backup"


# The networks (VLANs) each kind of VM must sit on; the request path of DESIGN.md needs exactly these.
ROLE_NETWORKS: dict[HostRole, frozenset[str]] = {
    HostRole.LB: frozenset({"mgmt", "dmz", "web", "app", "db"}),
    HostRole.WEB: frozenset({"mgmt", "web", "app"}),
    HostRole.APP: frozenset({"mgmt", "app"}),
    HostRole.DB: frozenset({"mgmt", "db", "backup"}),
    HostRole.WITNESS: frozenset({"mgmt", "db"}),
    # The off-SAN backup repository host (pgBackRest repo2): its own disks, reached over the backup VLAN.
    HostRole.BACKUP: frozenset({"mgmt", "backup"}),
}

# Ansible groups: one per role, plus the etcd voters (the database VMs and the witness).
ROLE_GROUPS: dict[HostRole, tuple[str, ...]] = {
    HostRole.LB: ("lb",),
    HostRole.WEB: ("web",),
    HostRole.APP: ("app",),
    HostRole.DB: ("db", "etcd"),
    HostRole.WITNESS: ("witness", "etcd"),
    HostRole.BACKUP: ("backup",),
}
GROUPS: tuple[str, ...] = ("lb", "web", "app", "db", "witness", "etcd", "backup")
PAIRED_ROLES: tuple[HostRole, ...] = (HostRole.LB, HostRole.WEB, HostRole.APP, HostRole.DB)
REQUIRED_NETWORKS: frozenset[str] = frozenset().union(*ROLE_NETWORKS.values())

HostName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Network(_Strict):
    vlan: int = Field(ge=1, le=4094)
    cidr: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address | None = None
    description: str = ""

    @model_validator(mode="after")
    def _gateway_inside(self) -> Network:
        if self.gateway is not None and self.gateway not in self.cidr:
            raise ValueError(f"gateway {self.gateway} is outside {self.cidr}")
        return self


class Vip(_Strict):
    network: str
    address: ipaddress.IPv4Address
    description: str = ""


class Vrrp(_Strict):
    virtual_router_id: int = Field(ge=1, le=255)
    # Seconds between VRRP adverts (VRRPv3 allows fractions): failover takes about three of them.
    advert_interval: float = Field(default=1.0, ge=0.1, le=255)


class Hypervisor(_Strict):
    name: HostName
    address: ipaddress.IPv4Address | None = None
    bmc_address: ipaddress.IPv4Address | None = None
    model: str = ""
    cpus: int = Field(default=0, ge=0)
    memory_gb: int = Field(default=0, ge=0)
    # The physical rack (roles hypervisor, san, guests); empty on platforms that have no hypervisor host.
    # NICs bonded into the uplink that carries every VLAN of `networks` to the switches.
    uplinks: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9.]{0,14}$")]] = Field(default_factory=list)
    # iSCSI initiator NICs (untagged, one per SAN subnet): NIC name -> address/prefix on that subnet.
    san_nics: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9.]{0,14}$")], ipaddress.IPv4Interface] = Field(
        default_factory=dict
    )


class Host(_Strict):
    role: HostRole
    hypervisor: HostName
    cpus: int = Field(ge=1, le=256)
    memory_mb: int = Field(ge=256)
    disk_gb: int = Field(ge=4)
    addresses: dict[str, ipaddress.IPv4Address]
    # Database VMs on the rack: the PostgreSQL data and pgBackRest repo1 volumes (XFS) on the SAN; 0: none.
    data_disk_gb: int = Field(default=0, ge=0)
    backup_disk_gb: int = Field(default=0, ge=0)

    def address_on(self, network: str) -> ipaddress.IPv4Address:
        return self.addresses[network]


class SanVolumeGroup(_Strict):
    """One MSA volume mapped to ONE hypervisor only and used there as an LVM volume group.

    Each hypervisor owns its LUNs: VMs never migrate (every pair is split instead), so no LUN is
    shared and plain (non-clustered) LVM is safe.
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
    hypervisor: HostName
    # What the guests role puts there: VM system disks, PostgreSQL data volumes, pgBackRest repo1 volumes.
    use: Literal["vms", "db", "backup"]
    # The LUN's WWID as multipath reports it (`multipath -ll`); an MSA WWID starts with 3600c0ff.
    wwid: str = Field(pattern=r"^3[0-9a-f]{32}$")


class San(_Strict):
    model: str = "HPE MSA 2040 SAN"
    transport: Literal["iscsi", "fc"] = "iscsi"
    # iSCSI: the host ports of both controllers (A and B), on the hypervisors' san_nics subnets.
    portals: list[ipaddress.IPv4Address] = Field(default_factory=list)
    target_iqn: str = Field(default="", pattern=r"^(|iqn\.\d{4}-\d{2}\.[a-z0-9.-]+(:\S+)?)$")
    volume_groups: list[SanVolumeGroup] = Field(default_factory=list)
    # The controllers' management ports (the MSA's own API, read by `osonctl prechecks --only hardware`).
    management_addresses: list[ipaddress.IPv4Address] = Field(default_factory=list)


class BondConfig(_Strict):
    # 802.3ad needs an LACP (MLAG) port channel on the L2 switch pair; active-backup needs nothing.
    mode: Literal["802.3ad", "active-backup"] = "802.3ad"
    mtu: int = Field(default=1500, ge=1280, le=9216)


class GuestImage(_Strict):
    """The Debian 12 cloud image every VM boots from (cloud-init NoCloud)."""

    url: str = "https://cloud.debian.org/images/cloud/bookworm/latest/debian-12-genericcloud-amd64.qcow2"
    # `sha512:<hex>` or `sha512:<url of SHA512SUMS>`, as Ansible's get_url takes it.
    checksum: str = "sha512:https://cloud.debian.org/images/cloud/bookworm/latest/SHA512SUMS"


class Minimums(_Strict):
    """§14.2 minimums checked by the prechecks, per VM and per hypervisor."""

    hypervisor_cpus: int = Field(default=0, ge=0)
    hypervisor_memory_gb: int = Field(default=0, ge=0)
    free_disk_gb: int = Field(default=2, ge=0)


class Topology(_Strict):
    # `plugin` lets the same file be read by Ansible as an inventory source.
    plugin: Literal["oson_topology"] | None = None
    name: HostName
    environment: Literal["production", "vagrant", "lab"]
    domain: str = Field(pattern=r"^[a-z0-9.-]+$")
    timezone: str = "Asia/Almaty"
    # `container`: the one-machine lab, each VM a podman container; `vm`: real or Vagrant VMs.
    platform: Literal["vm", "container"] = "vm"
    ssh_user: str = "ansible"
    hypervisors: list[Hypervisor] = Field(min_length=2, max_length=2)
    networks: dict[str, Network]
    vips: dict[Literal["public", "db_frontend"], Vip]
    vrrp: Vrrp
    hosts: dict[HostName, Host]
    minimums: Minimums = Minimums()
    # The physical rack: the hypervisors' uplink bond, the SAN and the guests' image (roles
    # hypervisor, san, guests; playbooks/rack.yml). Absent where no hypervisor is installed (the lab).
    bond: BondConfig = BondConfig()
    san: San | None = None
    guest_image: GuestImage = GuestImage()

    @field_validator("networks")
    @classmethod
    def _networks_complete(cls, networks: dict[str, Network]) -> dict[str, Network]:
        missing = sorted(REQUIRED_NETWORKS - networks.keys())
        if missing:
            raise ValueError(f"missing networks: {', '.join(missing)}")
        vlans = Counter(n.vlan for n in networks.values())
        dup = sorted(v for v, c in vlans.items() if c > 1)
        if dup:
            raise ValueError(f"VLAN ids used twice: {dup}")
        nets = list(networks.items())
        for i, (name_a, a) in enumerate(nets):
            for name_b, b in nets[i + 1 :]:
                if a.cidr.overlaps(b.cidr):
                    raise ValueError(f"networks {name_a} ({a.cidr}) and {name_b} ({b.cidr}) overlap")
        return networks

    @model_validator(mode="after")
    def _consistent(self) -> Topology:
        problems: list[str] = []
        hv_names = {hv.name for hv in self.hypervisors}
        if len(hv_names) != len(self.hypervisors):
            problems.append("hypervisors: names must be unique")
        for vip_name, vip in self.vips.items():
            if vip.network not in self.networks:
                problems.append(f"vips.{vip_name}.network: unknown network {vip.network!r}")
            elif vip.address not in self.networks[vip.network].cidr:
                problems.append(f"vips.{vip_name}.address: {vip.address} is outside {self.networks[vip.network].cidr}")
        for required in ("public", "db_frontend"):
            if required not in self.vips:
                problems.append(f"vips.{required}: missing")
        seen: dict[ipaddress.IPv4Address, str] = {vip.address: f"vips.{n}" for n, vip in self.vips.items()}
        for host_name, host in self.hosts.items():
            where = f"hosts.{host_name}"
            if host.hypervisor not in hv_names:
                problems.append(f"{where}.hypervisor: unknown hypervisor {host.hypervisor!r}")
            needed = ROLE_NETWORKS[host.role]
            missing = sorted(needed - host.addresses.keys())
            if missing:
                problems.append(f"{where}.addresses: role {host.role} needs an address on {', '.join(missing)}")
            for net_name, addr in host.addresses.items():
                if net_name not in self.networks:
                    problems.append(f"{where}.addresses.{net_name}: unknown network")
                    continue
                net = self.networks[net_name]
                if addr not in net.cidr or addr in (net.cidr.network_address, net.cidr.broadcast_address):
                    problems.append(f"{where}.addresses.{net_name}: {addr} is not a host address of {net.cidr}")
                if addr == net.gateway:
                    problems.append(f"{where}.addresses.{net_name}: {addr} is the network's gateway")
                if addr in seen:
                    problems.append(f"{where}.addresses.{net_name}: {addr} is already used by {seen[addr]}")
                seen[addr] = f"{where}.addresses.{net_name}"
        for role in PAIRED_ROLES:
            members = self.hosts_with_role(role)
            if len(members) != 2:
                problems.append(f"hosts: exactly two {role} VMs are required, found {len(members)}")
            elif len({self.hosts[m].hypervisor for m in members}) != 2:
                problems.append(
                    f"hosts: the {role} pair ({', '.join(members)}) must be split across the two hypervisors"
                )
        backup_hosts = self.hosts_with_role(HostRole.BACKUP)
        if len(backup_hosts) != 1:
            problems.append(
                f"hosts: exactly one backup VM (the off-SAN pgBackRest repository) is required, "
                f"found {len(backup_hosts)}"
            )
        if self.san is not None:
            for i, vg in enumerate(self.san.volume_groups):
                if vg.hypervisor not in hv_names:
                    problems.append(f"san.volume_groups.{i}.hypervisor: unknown hypervisor {vg.hypervisor!r}")
            for field, values in (
                ("name", [vg.name for vg in self.san.volume_groups]),
                ("wwid", [vg.wwid for vg in self.san.volume_groups]),
            ):
                dup_values = sorted(v for v, c in Counter(values).items() if c > 1)
                if dup_values:
                    problems.append(f"san.volume_groups: {field} used twice: {', '.join(dup_values)}")
        voters = len(self.group_members("etcd"))
        if voters < 3 or voters % 2 == 0:
            problems.append(f"hosts: etcd needs an odd number (>= 3) of voters (db + witness), found {voters}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- derived views ---------------------------------------------------------------------------

    def hosts_with_role(self, role: HostRole) -> list[str]:
        return sorted(name for name, host in self.hosts.items() if host.role == role)

    def group_members(self, group: str) -> list[str]:
        return sorted(name for name, host in self.hosts.items() if group in ROLE_GROUPS[host.role])

    def groups(self) -> dict[str, list[str]]:
        return {group: self.group_members(group) for group in GROUPS}

    def connect_address(self, host_name: str) -> str:
        """Ansible reaches every VM over SSH on its management address, in the lab too."""
        return str(self.hosts[host_name].addresses["mgmt"])

    def container_name(self, host_name: str) -> str:
        return f"{self.name}-{host_name}"

    def network_resource_name(self, network: str) -> str:
        return f"{self.name}-{network}"

    def host_vars(self, host_name: str) -> dict[str, object]:
        host = self.hosts[host_name]
        return {
            "ansible_host": self.connect_address(host_name),
            "oson_role": str(host.role),
            "oson_hypervisor": host.hypervisor,
            "oson_cpus": host.cpus,
            "oson_memory_mb": host.memory_mb,
            "oson_disk_gb": host.disk_gb,
            "oson_addresses": {net: str(addr) for net, addr in sorted(host.addresses.items())},
            "oson_fqdn": f"{host_name}.{self.domain}",
        }

    def hypervisor(self, name: str) -> Hypervisor:
        for hv in self.hypervisors:
            if hv.name == name:
                return hv
        raise KeyError(name)

    def hypervisor_vars(self, name: str) -> dict[str, object]:
        """Host variables of a physical hypervisor (the `hypervisors` group of rack inventories)."""
        hv = self.hypervisor(name)
        return {
            "ansible_host": str(hv.address) if hv.address else name,
            "oson_hypervisor_uplinks": list(hv.uplinks),
            "oson_hypervisor_san_nics": {nic: str(addr) for nic, addr in sorted(hv.san_nics.items())},
            "oson_hypervisor_bmc_address": str(hv.bmc_address) if hv.bmc_address else "",
            "oson_hypervisor_cpus": hv.cpus,
            "oson_hypervisor_memory_gb": hv.memory_gb,
        }

    def common_vars(self) -> dict[str, object]:
        return {
            "oson_topology_name": self.name,
            "oson_environment": self.environment,
            "oson_domain": self.domain,
            "oson_public_hostname": f"pay.{self.domain}",
            "oson_timezone": self.timezone,
            "oson_networks": {
                name: {
                    "vlan": net.vlan,
                    "cidr": str(net.cidr),
                    "prefix": net.cidr.prefixlen,
                    "gateway": str(net.gateway) if net.gateway else "",
                }
                for name, net in sorted(self.networks.items())
            },
            "oson_vips": {
                name: {
                    "network": vip.network,
                    "address": str(vip.address),
                    "prefix": self.networks[vip.network].cidr.prefixlen,
                }
                for name, vip in sorted(self.vips.items())
            },
            "oson_vrrp_router_id": self.vrrp.virtual_router_id,
            "oson_vrrp_advert_interval": self.vrrp.advert_interval,
        }


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: invalid topology:"]
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"  - {loc}: {msg}")
    return "\n".join(lines)


def parse_topology(data: object, source: Path | str = "<topology>") -> Topology:
    path = Path(source)
    if not isinstance(data, dict):
        raise TopologyError(f"{path}: the topology must be a YAML mapping at the top level")
    try:
        return Topology.model_validate(data)
    except ValidationError as err:
        raise TopologyError(_format_validation_error(path, err)) from None


def load_topology(path: Path | str) -> Topology:
    """Load a topology from a YAML file or from an inventory directory holding `topology.yml`."""
    path = Path(path)
    if path.is_dir():
        path = path / "topology.yml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TopologyError(
            f"{path}: no such topology file (pass an inventory directory or its topology.yml)"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TopologyError(f"{path}: not valid YAML: {err}") from None
    return parse_topology(data, path)
