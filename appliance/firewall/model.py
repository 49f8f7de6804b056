"""The schema of firewall/policy.yml: zones, services, flows and the FortiGate pair's settings.

Only the shape is checked here; whether the names fit a topology is checked by `resolve`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from appliance.paths import PROJECT_ROOT

POLICY_FILE = PROJECT_ROOT / "firewall" / "policy.yml"
# The zones of the appliance; each but `outside` is one network (VLAN) of the topology.
ZONES: tuple[str, ...] = ("outside", "dmz", "web", "app", "db", "mgmt", "backup")

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,34}$")]


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file and the bad entry."""


class Protocol(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    TCP_UDP = "tcp_udp"
    ICMP = "icmp"
    VRRP = "vrrp"


PORTED: frozenset[Protocol] = frozenset({Protocol.TCP, Protocol.UDP, Protocol.TCP_UDP})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Zone(_Strict):
    network: str | None = None
    description: str = ""


class Service(_Strict):
    protocol: Protocol
    ports: list[Annotated[int, Field(ge=1, le=65535)]] = []
    description: str = ""

    @model_validator(mode="after")
    def _ports_fit_protocol(self) -> Service:
        if self.protocol in PORTED and not self.ports:
            raise ValueError(f"protocol {self.protocol} needs ports")
        if self.protocol not in PORTED and self.ports:
            raise ValueError(f"protocol {self.protocol} has no ports; remove them")
        if len(set(self.ports)) != len(self.ports):
            raise ValueError("a port is listed twice")
        return self


class Flow(_Strict):
    # Also the FortiGate policy id, so it must stay stable.
    id: int = Field(ge=1, le=9999)
    name: Name
    source: str = Field(alias="from")
    destination: str = Field(alias="to")
    services: list[str] = Field(min_length=1)
    purpose: str = Field(min_length=1)


class Heartbeat(_Strict):
    interface: str
    priority: int = Field(default=50, ge=0, le=512)


class HaSettings(_Strict):
    group_name: str = Field(max_length=32)
    group_id: int = Field(ge=0, le=1023)
    mode: Literal["a-p"] = "a-p"
    heartbeat: list[Heartbeat] = Field(min_length=1)
    monitor: list[str] = []
    priority_primary: int = Field(ge=0, le=255)
    priority_secondary: int = Field(ge=0, le=255)
    session_pickup: bool = True
    management_interface: str = ""

    @model_validator(mode="after")
    def _primary_wins(self) -> HaSettings:
        if self.priority_primary <= self.priority_secondary:
            raise ValueError("priority_primary must be higher than priority_secondary")
        return self


class FortigateSettings(_Strict):
    vdom: str = "root"
    ha: HaSettings
    outside_interface: str
    internal_trunk: str


class Policy(_Strict):
    version: Literal[1]
    zones: dict[str, Zone]
    services: dict[Name, Service]
    flows: list[Flow] = Field(min_length=1)
    fortigate: FortigateSettings

    def service(self, name: str) -> Service:
        return self.services[name]

    def flow(self, flow_id: int) -> Flow:
        return next(f for f in self.flows if f.id == flow_id)


def _format_validation_error(path: Path, err: ValidationError, data: dict[str, object]) -> str:
    lines = [f"{path}: invalid firewall policy:"]
    flows = data.get("flows") if isinstance(data.get("flows"), list) else []
    for e in err.errors():
        loc = list(e["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        # Name the flow by its id and name too: "flows.3" alone sends the reader counting.
        if len(loc) >= 2 and loc[0] == "flows" and isinstance(loc[1], int) and loc[1] < len(flows or []):
            entry = (flows or [])[loc[1]]
            if isinstance(entry, dict):
                where += f" (flow {entry.get('id', '?')} {entry.get('name', '?')})"
        lines.append(f"  - {where}: {e['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)


def parse_policy(data: object, source: Path | str = "<policy>") -> Policy:
    path = Path(source)
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: the policy must be a YAML mapping at the top level")
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        raise PolicyError(_format_validation_error(path, err, data)) from None


def load_policy(path: Path | str = POLICY_FILE) -> Policy:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file (the appliance's is firewall/policy.yml)") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"{path}: not valid YAML: {err}") from None
    return parse_policy(data, path)
