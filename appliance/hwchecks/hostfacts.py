"""Judge a hypervisor's operating system from its Ansible facts (setup module output)."""

from __future__ import annotations

import re
from typing import Any

from appliance.hwchecks.findings import Finding
from appliance.hwchecks.minimums import HardwareMinimums


def _cpu_model(facts: dict[str, Any]) -> str:
    """ansible_processor is [index, vendor, model, index, vendor, model, ...]; the first model."""
    items = [str(x) for x in facts.get("ansible_processor", [])]
    models = [x for x in items if "CPU" in x or "Xeon" in x]
    return models[0] if models else "?"


def evaluate_host_facts(host: str, facts: dict[str, Any], m: HardwareMinimums) -> list[Finding]:
    out: list[Finding] = []
    distro = f"{facts.get('ansible_distribution', '?')} {facts.get('ansible_distribution_version', '?')}"
    ok = (facts.get("ansible_distribution") == "Debian"
          and str(facts.get("ansible_distribution_major_version")) == str(m.debian_major))
    out.append(Finding(host, "os", ok, f"{distro} ({facts.get('ansible_kernel', '?')})" + (
        "" if ok else f"; the hypervisors run Debian {m.debian_major}: reinstall from the Debian {m.debian_major} "
        "netinst image")))
    arch = str(facts.get("ansible_architecture", "?"))
    out.append(Finding(host, "architecture", arch == "x86_64",
                       arch + ("" if arch == "x86_64" else ": install the amd64 Debian image")))
    virt_role = str(facts.get("ansible_virtualization_role", "NA"))
    out.append(Finding(host, "bare metal", virt_role != "guest",
                       f"virtualization role {virt_role}" + (
                           "" if virt_role != "guest" else
                           f": this is a {facts.get('ansible_virtualization_type', '?')} guest, the address in "
                           "hypervisors[].address must be the server's own OS")))
    sockets = int(facts.get("ansible_processor_count") or 0)
    cores = int(facts.get("ansible_processor_cores") or 0)
    model = _cpu_model(facts)
    ok = sockets >= m.cpu_sockets and cores >= m.cores_per_cpu and bool(re.search(m.cpu_model_pattern, model))
    out.append(Finding(host, "os cpus", ok,
                       f"{sockets} x {model}, {cores} cores each, {facts.get('ansible_processor_vcpus', '?')} threads"
                       + ("" if ok else f"; need {m.cpu_sockets} x Xeon Gold 6148-class with {m.cores_per_cpu} cores: "
                          "fit the processors, and check in the System Utilities (BIOS) that no cores are disabled")))
    mem_mb = int(facts.get("ansible_memtotal_mb") or 0)
    need_mb = m.memory_gib * 1024 * m.os_memory_fraction
    out.append(Finding(host, "os memory", mem_mb >= need_mb,
                       f"{mem_mb / 1024:.1f} GiB seen by the OS" + (
                           "" if mem_mb >= need_mb else
                           f"; need {m.memory_gib} GiB installed (at least {need_mb / 1024:.0f} GiB visible): add "
                           "DIMMs, or check the iLO for DIMMs mapped out after errors")))
    return out
