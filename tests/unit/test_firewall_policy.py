"""The firewall policy: it fits every inventory, its ports are the roles' ports, and a bad policy is
refused with a message that names the bad entry."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.firewall.model import ZONES, PolicyError, parse_policy
from appliance.firewall.resolve import EndpointKind, load_resolved, resolve_policy
from appliance.firewall.show import flows_markdown
from appliance.topology import Topology, load_topology

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "firewall" / "policy.yml"
ENVIRONMENTS = ("production", "vagrant", "lab")


def _data() -> dict[str, Any]:
    return yaml.safe_load(POLICY.read_text())


def _lab() -> Topology:
    return load_topology(ROOT / "inventory" / "lab")


def _flow(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in data["flows"] if f["name"] == name)


def _refused(data: dict[str, Any]) -> str:
    with pytest.raises(PolicyError) as err:
        resolve_policy(parse_policy(data, POLICY), _lab(), POLICY)
    return str(err.value)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_policy_fits_every_inventory(env: str) -> None:
    resolved = load_resolved(load_topology(ROOT / "inventory" / env))
    assert [rf.id for rf in resolved.flows] == [f["id"] for f in _data()["flows"]]
    assert set(resolved.zone_networks) == set(ZONES)


def _role_defaults() -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(ROOT.glob("roles/*/defaults/main.yml")):
        merged |= yaml.safe_load(path.read_text()) or {}
    return merged


# Each service of the policy and the role variables that set the same port: a role whose port moves
# without the policy following would be cut off by the firewalls.
SERVICE_PORT_VARIABLES = {
    "https": ["haproxy_https_port", "haproxy_web_port", "apache_https_port"],
    "http": ["haproxy_http_port"],
    "operator-http": ["operator_port", "apache_app_port"],
    "postgresql": ["postgresql_port", "haproxy_db_port", "operator_database_port", "pgbackrest_pg_port"],
    "patroni-api": ["postgresql_patroni_restapi_port", "haproxy_patroni_port"],
    "etcd-client": ["etcd_client_port", "postgresql_etcd_client_port"],
    "etcd-peer": ["etcd_peer_port"],
    "pgbackrest-tls": ["pgbackrest_tls_port"],
    "haproxy-stats": ["haproxy_stats_port"],
}


@pytest.mark.parametrize("service", sorted(SERVICE_PORT_VARIABLES))
def test_service_ports_are_the_roles_ports(service: str) -> None:
    defaults = _role_defaults()
    ports = _data()["services"][service]["ports"]
    for variable in SERVICE_PORT_VARIABLES[service]:
        assert defaults[variable] in ports, f"{variable}={defaults[variable]} is not in service {service} {ports}"


def test_every_listening_port_of_the_roles_is_in_a_service() -> None:
    """Every *_port default of the roles is either in the policy or known to be local to its host."""
    local_only = {"pgbackrest_scratch_port"}  # the trial-restore instance listens on the backup host only
    policy_ports = {p for s in _data()["services"].values() for p in s.get("ports", [])}
    defaults = _role_defaults()
    missing = {k: v for k, v in defaults.items()
               if k.endswith("_port") and isinstance(v, int) and v not in policy_ports and k not in local_only}
    assert not missing, f"role ports without a service in firewall/policy.yml: {missing}"


def test_vip_flows_land_on_both_load_balancers() -> None:
    resolved = load_resolved(_lab())
    public = next(rf for rf in resolved.flows if rf.name == "clients-https")
    assert public.destination.kind == EndpointKind.VIP
    assert public.destination.holders == ("osonlb1", "osonlb2")


def test_lab_control_node_is_the_lab_machine_on_every_network() -> None:
    topology = _lab()
    endpoint = next(rf for rf in load_resolved(topology).flows if rf.source.ref == "control_node").source
    assert set(endpoint.exact) == {n.gateway for n in topology.networks.values()}


def test_production_control_node_excludes_the_appliance_machines() -> None:
    topology = load_topology(ROOT / "inventory" / "production")
    endpoint = next(rf for rf in load_resolved(topology).flows if rf.source.ref == "control_node").source
    assert endpoint.networks == (topology.networks["mgmt"].cidr,)
    for host in topology.hosts.values():
        assert host.addresses["mgmt"] in endpoint.exclude
    for hv in topology.hypervisors:
        assert hv.address in endpoint.exclude and hv.bmc_address in endpoint.exclude
    assert topology.networks["mgmt"].gateway in endpoint.exclude


def test_unknown_service_names_the_flow() -> None:
    data = _data()
    _flow(data, "apache-to-app")["services"] = ["operator-http", "memcached"]
    message = _refused(data)
    assert "flow 120 apache-to-app" in message and "memcached" in message


def test_unknown_group_names_the_flow_and_the_choices() -> None:
    data = _data()
    _flow(data, "haproxy-to-apache")["to"] = "apache.web"
    message = _refused(data)
    assert "flow 110 haproxy-to-apache" in message and "unknown group 'apache'" in message and "lb, web" in message


def test_group_without_an_address_on_the_network_is_refused() -> None:
    data = _data()
    _flow(data, "apache-to-app")["from"] = "web.db"
    message = _refused(data)
    assert "osonweb1, osonweb2 of group 'web' have no address on network 'db'" in message


def test_unknown_vip_is_refused() -> None:
    data = _data()
    _flow(data, "clients-https")["to"] = "vip.private"
    assert "unknown VIP 'private'" in _refused(data)


def test_vip_as_source_is_refused() -> None:
    data = _data()
    _flow(data, "haproxy-to-postgresql")["from"] = "vip.db_frontend"
    assert "flow 140 haproxy-to-postgresql" in (message := _refused(data)) and "never the source" in message


def test_duplicate_ids_and_repeated_flows_are_refused() -> None:
    data = _data()
    extra = copy.deepcopy(_flow(data, "apache-to-app"))
    extra["name"] = "apache-to-app-again"
    data["flows"].append(extra)
    message = _refused(data)
    assert "id 120 is already used by flow apache-to-app" in message
    assert "operator-http from web.app to app.app is already allowed by flow 120" in message


def test_missing_zone_and_unknown_network_are_refused() -> None:
    data = _data()
    del data["zones"]["backup"]
    data["zones"]["db"]["network"] = "database"
    message = _refused(data)
    assert "zones: must be exactly" in message and "missing: ['backup']" in message
    assert "zones.db.network: unknown network 'database'" in message
    assert "network 'backup' of the topology is in no zone" in message


def test_schema_errors_name_the_flow() -> None:
    data = _data()
    del _flow(data, "etcd")["purpose"]
    data["services"]["ssh"]["ports"] = []
    with pytest.raises(PolicyError) as err:
        parse_policy(data, POLICY)
    message = str(err.value)
    assert "flows.7.purpose (flow 160 etcd): Field required" in message
    assert "services.ssh: protocol tcp needs ports" in message


def test_bad_endpoint_syntax_says_what_endpoints_look_like() -> None:
    data = _data()
    _flow(data, "etcd")["to"] = "witness"
    assert "use outside, control_node, <group>.<network> or vip.<name>" in _refused(data)


def test_docs_show_the_flows_of_the_current_policy() -> None:
    doc = (ROOT / "docs" / "firewall.md").read_text()
    embedded = doc.split("<!-- flows:begin -->\n", 1)[1].split("<!-- flows:end -->", 1)[0]
    expected = flows_markdown(load_resolved(load_topology(ROOT / "inventory" / "production")))
    assert embedded == expected, "docs/firewall.md is stale: paste `osonctl firewall show -i inventory/production`"
