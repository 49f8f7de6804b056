"""The FortiGate's configuration against the policy, without a FortiGate: the rendered variables, the
role's tasks that apply them (checked against the fortinet.fortios modules' own documented options)
and the CLI script each hold exactly one accept policy per allowed flow and nothing else."""

from __future__ import annotations

import ipaddress
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.firewall.fortios import SERVICE_PREFIX, render_fortios_script, render_fortios_vars
from appliance.firewall.resolve import EndpointKind, ResolvedPolicy, load_resolved
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / ".venv/lib/python3.11/site-packages/ansible_collections/fortinet/fortios/plugins/modules"
TASKS = ROOT / "roles/fortigate/tasks/main.yml"


@cache
def _resolved(env: str = "production") -> ResolvedPolicy:
    return load_resolved(load_topology(ROOT / "inventory" / env))


@cache
def _module_doc(module: str) -> dict[str, Any]:
    source = (MODULES / f"{module}.py").read_text()
    match = re.search(r'DOCUMENTATION = r?("""|\'\'\')(.*?)\1', source, re.S)
    assert match, module
    return dict(yaml.load(match.group(2), Loader=yaml.CSafeLoader))


def _check_options(value: Any, spec: dict[str, Any], where: str) -> None:
    """Every key is a documented option, with a value of the documented type and choices."""
    if spec.get("type") == "list" and spec.get("suboptions"):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            _check_options(item, {"type": "dict", "suboptions": spec["suboptions"]}, f"{where}[{i}]")
        return
    if spec.get("suboptions"):
        assert isinstance(value, dict), where
        for key, sub in value.items():
            assert key in spec["suboptions"], f"{where}: {key} is not an option of the module"
            _check_options(sub, spec["suboptions"][key], f"{where}.{key}")
        return
    kind = spec.get("type", "str")
    expected = {"str": str, "int": int, "list": list, "dict": dict}[kind]
    assert isinstance(value, expected), f"{where}: {value!r} is not {kind}"
    if "choices" in spec:
        values = value if isinstance(value, list) else [value]
        assert all(v in spec["choices"] for v in values), f"{where}: {value!r} not in {spec['choices']}"


def _tasks() -> list[dict[str, Any]]:
    return list(yaml.safe_load(TASKS.read_text()))


def _fortios_tasks() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    found = []
    for task in _tasks():
        module = next((k for k in task if k.startswith("fortinet.fortios.")), None)
        if module:
            found.append((module.removeprefix("fortinet.fortios."), task[module], task))
    return found


def _var_of(expression: str) -> str:
    match = re.fullmatch(r"\{\{\s*(\w+)\s*\}\}", expression.strip())
    assert match, expression
    return match.group(1)


def test_role_tasks_use_real_modules_with_their_options() -> None:
    tasks = _fortios_tasks()
    assert tasks
    for module, args, _ in tasks:
        assert (MODULES / f"{module}.py").is_file(), f"{module} is not in the fortinet.fortios collection"
        options = _module_doc(module)["options"]
        for key in args:
            assert key in options, f"{module}: {key} is not an option"
        assert args["access_token"] == "{{ fortigate_access_token }}"
        assert args["vdom"] == "{{ fortigate_vdom }}"


@pytest.mark.parametrize("env", ["production", "lab"])
def test_rendered_vars_fit_the_modules_the_role_feeds_them_to(env: str) -> None:
    rendered = render_fortios_vars(_resolved(env))
    fed = 0
    for module, args, task in _fortios_tasks():
        top = module.removeprefix("fortios_")
        if top not in args or module == "fortios_system_ha":
            continue
        spec = _module_doc(module)["options"][top]
        items = rendered[_var_of(task["loop"])] if "loop" in task else [rendered[_var_of(args[top])]]
        assert "loop" not in task or args[top] == "{{ item }}"
        for i, item in enumerate(items):
            _check_options(item, spec, f"{module}[{i}]")
        fed += len(items)
    assert fed > len(_resolved(env).flows)
    ha_spec = _module_doc("fortios_system_ha")["options"]["system_ha"]
    ha = rendered["fortigate_ha"] | {"priority": rendered["fortigate_ha_priority_primary"], "password": "x"}
    _check_options(ha, ha_spec, "fortios_system_ha")


def test_only_the_policy_task_makes_policies_and_it_loops_the_rendered_ones() -> None:
    policy_tasks = [(args, task) for module, args, task in _fortios_tasks() if module == "fortios_firewall_policy"]
    assert len(policy_tasks) == 1
    args, task = policy_tasks[0]
    assert task["loop"] == "{{ fortigate_policies }}" and args["state"] == "present"
    assert "action" not in args  # no move/delete tricks


def _objects(rendered: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    addresses = {a["name"]: a["subnet"] for a in rendered["fortigate_addresses"]}
    groups = {g["name"]: [m["name"] for m in g["member"]] for g in rendered["fortigate_addrgrps"]}
    return addresses, groups


def _ips(name: str, addresses: dict[str, str], groups: dict[str, list[str]]) -> set[str]:
    if name in groups:
        return set().union(*(_ips(m, addresses, groups) for m in groups[name]))
    ip, mask = addresses[name].split()
    return {str(ipaddress.IPv4Network(f"{ip}/{mask}"))}


@pytest.mark.parametrize("env", ["production", "lab"])
def test_one_accept_policy_per_flow_and_nothing_else(env: str) -> None:
    resolved = _resolved(env)
    rendered = render_fortios_vars(resolved)
    policies = {p["policyid"]: p for p in rendered["fortigate_policies"]}
    assert len(policies) == len(rendered["fortigate_policies"])
    assert sorted(policies) == sorted(rf.id for rf in resolved.flows)
    addresses, groups = _objects(rendered)
    zones = {z["name"] for z in rendered["fortigate_zones"]}
    services = {s["name"] for s in rendered["fortigate_services"]}
    for rf in resolved.flows:
        p = policies[rf.id]
        assert p["action"] == "accept" and p["logtraffic"] == "all" and p["status"] == "enable"
        assert [s["name"] for s in p["service"]] == [SERVICE_PREFIX + n for n, _ in rf.services]
        assert {s["name"] for s in p["service"]} <= services
        assert [i["name"] for i in p["srcintf"]] == [rf.source.zone] and rf.source.zone in zones
        assert [i["name"] for i in p["dstintf"]] == [rf.destination.zone] and rf.destination.zone in zones
        for side, endpoint in (("srcaddr", rf.source), ("dstaddr", rf.destination)):
            (name,) = [a["name"] for a in p[side]]
            if endpoint.kind == EndpointKind.OUTSIDE:
                assert name == "all"
            elif endpoint.kind == EndpointKind.CONTROL_NODE and endpoint.networks:
                group = next(g for g in rendered["fortigate_addrgrps"] if g["name"] == name)
                assert group["exclude"] == "enable"
                excluded = set().union(*(_ips(m["name"], addresses, groups) for m in group["exclude_member"]))
                assert excluded == {f"{a}/32" for a in endpoint.exclude}
            else:
                assert _ips(name, addresses, groups) == {f"{a}/32" for a in endpoint.addresses()}
    assert rendered["fortigate_log_setting"] == {"fwpolicy_implicit_log": "enable"}


def test_services_carry_the_policy_ports() -> None:
    resolved = _resolved()
    rendered = {s["name"]: s for s in render_fortios_vars(resolved)["fortigate_services"]}
    assert rendered["oson-postgresql"]["tcp_portrange"] == "5432" and "udp_portrange" not in rendered["oson-postgresql"]
    assert rendered["oson-dns"]["tcp_portrange"] == rendered["oson-dns"]["udp_portrange"] == "53"
    assert rendered["oson-vrrp"]["protocol"] == "IP" and rendered["oson-vrrp"]["protocol_number"] == 112


def _script_blocks(script: str, section: str) -> dict[str, list[str]]:
    body = script.split(f"config {section}\n", 1)[1].split("\nend\n", 1)[0]
    blocks: dict[str, list[str]] = {}
    for chunk in re.split(r"^    edit ", body, flags=re.M)[1:]:
        key, _, rest = chunk.partition("\n")
        blocks[key.strip('"')] = [line.strip() for line in rest.splitlines() if line.strip().startswith("set ")]
    return blocks


def _setting(lines: list[str], key: str) -> list[str]:
    """The values of `set KEY ...`, quoted or not."""
    line = next(x for x in lines if x.startswith(f"set {key} "))
    return [quoted or bare for quoted, bare in re.findall(r'"([^"]*)"|(\S+)', line.removeprefix(f"set {key} "))]


def test_cli_script_has_one_accept_policy_per_flow_and_defines_what_it_uses() -> None:
    resolved = _resolved()
    script = render_fortios_script(resolved)
    policies = _script_blocks(script, "firewall policy")
    assert sorted(int(k) for k in policies) == sorted(rf.id for rf in resolved.flows)
    assert script.count("set action accept") == len(resolved.flows)
    assert "set action deny" not in script  # the deny is FortiOS's implicit policy 0, logged:
    assert "set fwpolicy-implicit-log enable" in script
    addresses = set(_script_blocks(script, "firewall address"))
    groups = _script_blocks(script, "firewall addrgrp")
    services = set(_script_blocks(script, "firewall service custom"))
    zones = set(_script_blocks(script, "system zone"))
    for group in groups.values():
        assert set(_setting(group, "member")) <= addresses
    for rf in resolved.flows:
        lines = policies[str(rf.id)]
        assert _setting(lines, "service") == [SERVICE_PREFIX + n for n, _ in rf.services]
        assert set(_setting(lines, "service")) <= services
        assert _setting(lines, "srcintf") == [rf.source.zone] and rf.source.zone in zones
        assert _setting(lines, "dstintf") == [rf.destination.zone]
        for side in ("srcaddr", "dstaddr"):
            (name,) = _setting(lines, side)
            assert name == "all" or name in addresses or name in groups
        assert "set logtraffic all" in lines


def test_cli_script_sets_up_ha_active_passive() -> None:
    script = render_fortios_script(_resolved())
    ha = script.split("config system ha\n", 1)[1].split("\nend\n", 1)[0]
    assert "set mode a-p" in ha and 'set hbdev "ha1" 50 "ha2" 50' in ha and "set priority 200" in ha
    assert "set password" not in ha.replace("# set password", "")  # secrets stay in the vault


def test_fortigate_playbook_passes_syntax_check() -> None:
    proc = subprocess.run([str(ROOT / ".venv/bin/ansible-playbook"), "--syntax-check", "playbooks/fortigate.yml"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    play = yaml.safe_load((ROOT / "playbooks/fortigate.yml").read_text())[0]
    assert play["vars"]["ansible_network_os"] == "fortinet.fortios.fortios"
    assert play["vars"]["ansible_connection"].endswith("httpapi")
