"""Judge a DL360 Gen10 from what `community.general.redfish_info` read from its iLO.

The prechecks playbook asks each management controller four times (Systems, Chassis, Update,
Manager categories); `ServerInventory.from_results` takes those four module results as they
appear in the JSON report, and `evaluate_server` turns them into findings with what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from appliance.hwchecks.findings import Finding
from appliance.hwchecks.minimums import HardwareMinimums

HEALTHY = "OK"


def _first_system(entries: Any) -> Any:
    """redfish_info's per-system aggregation: [[{"system_uri": ...}, data], ...]; the first system's data."""
    if isinstance(entries, list) and entries and isinstance(entries[0], list | tuple) and len(entries[0]) == 2:
        return entries[0][1]
    return entries


def _health(item: dict[str, Any]) -> str:
    status = item.get("Status") or {}
    return str(status.get("HealthRollup") or status.get("Health") or "unknown")


def version_tuple(text: str) -> tuple[int, ...] | None:
    """(2, 78) from "iLO 5 v2.78", "2.78 Apr 28 2023" or "U32 v2.72 (02/01/2023)"."""
    m = re.search(r"(?<![\d/])(\d+)\.(\d+)(?![\d/])", text)
    return (int(m[1]), int(m[2])) if m else None


@dataclass
class ServerInventory:
    """What the prechecks need of one server; `problems` are the module's own failures (no answer, 401...)."""

    system: dict[str, Any] = field(default_factory=dict)
    cpus: list[dict[str, Any]] = field(default_factory=list)
    dimms: list[dict[str, Any]] = field(default_factory=list)
    drives: list[dict[str, Any]] = field(default_factory=list)
    psus: list[dict[str, Any]] = field(default_factory=list)
    fans: list[dict[str, Any]] = field(default_factory=list)
    firmware: list[dict[str, Any]] = field(default_factory=list)
    manager: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_results(cls, results: dict[str, dict[str, Any]]) -> ServerInventory:
        """`results`: category (systems, chassis, update, manager) -> that redfish_info call's result."""
        inv = cls()
        for category, result in results.items():
            if result.get("failed") or result.get("unreachable") or "redfish_facts" not in result:
                inv.problems.append(f"{category}: {str(result.get('msg', 'no answer'))[:300]}")
                continue
            facts = result["redfish_facts"]
            for key, value in facts.items():
                if isinstance(value, dict) and value.get("ret") is False:
                    inv.problems.append(f"{category}/{key}: {str(value.get('msg', 'failed'))[:300]}")
            if category == "systems":
                inv.system = dict(_first_system(facts.get("system", {}).get("entries", {})) or {})
                inv.cpus = list(_first_system(facts.get("cpu", {}).get("entries", [])) or [])
                inv.dimms = list(_first_system(facts.get("memory", {}).get("entries", [])) or [])
                for controller in _first_system(facts.get("disk", {}).get("entries", [])) or []:
                    inv.drives += list(controller.get("Drives", []))
            elif category == "chassis":
                inv.psus = list(facts.get("psu", {}).get("entries", []) or [])
                inv.fans = list(facts.get("fan", {}).get("entries", []) or [])
            elif category == "update":
                inv.firmware = list(facts.get("firmware", {}).get("entries", []) or [])
            elif category == "manager":
                inv.manager = dict(_first_system(facts.get("manager", {}).get("entries", {})) or {})
        return inv

    def firmware_version(self, name: str) -> str | None:
        for item in self.firmware:
            if item.get("Name") == name:
                return str(item.get("Version", ""))
        return None


def _cpu_findings(host: str, inv: ServerInventory, m: HardwareMinimums) -> list[Finding]:
    present = [c for c in inv.cpus if (c.get("Status") or {}).get("State", "Enabled") != "Absent"]
    out: list[Finding] = []
    models = sorted({str(c.get("Model", "?")).strip() for c in present})
    ok_sockets = len(present) >= m.cpu_sockets
    out.append(Finding(host, "cpu sockets", ok_sockets,
                       f"{len(present)} processor(s) {', '.join(models) or '-'}" + (
                           "" if ok_sockets else
                           f"; §14.2 needs {m.cpu_sockets}: install the missing processor(s) with their heatsink "
                           "and populate their DIMM slots")))
    weak = [c for c in present if int(c.get("TotalCores") or 0) < m.cores_per_cpu
            or not re.search(m.cpu_model_pattern, str(c.get("Model", "")))]
    if not present:
        detail = "no processor reported: check the iLO's view of the system"
    elif weak:
        detail = "; ".join(f"{c.get('Id', '?')}: {c.get('Model', '?')} with {c.get('TotalCores', '?')} cores"
                           for c in weak)
        detail += (f" is below Xeon Gold 6148-class (Gold/Platinum, {m.cores_per_cpu} cores): fit the processors "
                   "§14.2 lists")
    else:
        detail = f"Xeon Gold 6148-class, {', '.join(str(c.get('TotalCores')) for c in present)} cores"
    out.append(Finding(host, "cpu class", bool(present) and not weak, detail))
    sick = [c for c in present if _health(c) != HEALTHY]
    out.append(Finding(host, "cpu health", not sick,
                       "all processors report OK" if not sick else
                       "; ".join(f"{c.get('Id', '?')} reports {_health(c)}" for c in sick)
                       + ": read the iLO Integrated Management Log and have the processor serviced"))
    return out


def _memory_findings(host: str, inv: ServerInventory, m: HardwareMinimums) -> list[Finding]:
    total_gib = sum(int(d.get("CapacityMiB") or 0) for d in inv.dimms) / 1024
    summary = (inv.system.get("MemorySummary") or {}).get("TotalSystemMemoryGiB")
    ok = total_gib >= m.memory_gib
    out = [Finding(host, "memory", ok,
                   f"{total_gib:.0f} GiB in {len(inv.dimms)} DIMMs (iLO summary {summary} GiB)" + (
                       "" if ok else f"; §14.2 needs {m.memory_gib} GiB: add DIMMs, the same on both processors, "
                       "in the slots the DL360 Gen10 population guide gives"))]
    sick = [d for d in inv.dimms if _health(d) != HEALTHY]
    out.append(Finding(host, "memory health", not sick,
                       "all DIMMs report OK" if not sick else
                       "; ".join(f"{d.get('Id', '?')} reports {_health(d)}" for d in sick) + ": reseat or replace it"))
    return out


def _health_findings(host: str, inv: ServerInventory, m: HardwareMinimums) -> list[Finding]:
    out: list[Finding] = []
    system_health = _health(inv.system)
    out.append(Finding(host, "system health", system_health == HEALTHY,
                       f"the iLO reports {system_health}" + ("" if system_health == HEALTHY else
                                                             ": open the iLO's health summary and IML, fix every "
                                                             "degraded component listed there")))
    bad_psus = [p for p in inv.psus if _health(p) != HEALTHY]
    enough = len(inv.psus) >= m.power_supplies
    detail = f"{len(inv.psus)} power supplies" + (" all OK" if not bad_psus else "")
    if bad_psus:
        detail += "; " + "; ".join(f"{p.get('Name', '?')} reports {_health(p)}" for p in bad_psus)
        detail += ": check its power feed and cord, then reseat or replace the power supply"
    if not enough:
        detail += f"; need {m.power_supplies} for redundancy: fit the second power supply"
    out.append(Finding(host, "power supplies", enough and not bad_psus, detail))
    bad_fans = [f for f in inv.fans if _health(f) != HEALTHY]
    out.append(Finding(host, "fans", bool(inv.fans) and not bad_fans,
                       f"{len(inv.fans)} fans all OK" if inv.fans and not bad_fans else
                       ("no fans reported: check the iLO's Fans page" if not inv.fans else
                        "; ".join(f"{f.get('Name', '?')} reports {_health(f)}" for f in bad_fans)
                        + ": replace the fan module")))
    bad_drives = [d for d in inv.drives if _health(d) != HEALTHY or d.get("FailurePredicted")]
    out.append(Finding(host, "local disks", not bad_drives,
                       f"{len(inv.drives)} boot disks all OK" if not bad_drives else
                       "; ".join(f"{d.get('Name', '?')} ({d.get('SerialNumber', '?')}) reports {_health(d)}"
                                 + (", failure predicted" if d.get("FailurePredicted") else "") for d in bad_drives)
                       + ": replace the disk and let the array controller rebuild"))
    return out


def _firmware_findings(host: str, inv: ServerInventory, m: HardwareMinimums) -> list[Finding]:
    out: list[Finding] = []
    ilo_text = inv.firmware_version("iLO 5") or str(inv.manager.get("FirmwareVersion") or "")
    ilo = version_tuple(ilo_text)
    need = version_tuple(m.ilo_firmware)
    ok = ilo is not None and need is not None and ilo >= need
    out.append(Finding(host, "iLO firmware", ok,
                       f"iLO 5 {ilo_text or 'not reported'}" + ("" if ok else
                                                               f"; need iLO 5 {m.ilo_firmware} or later: update the "
                                                               "iLO firmware (Service Pack for ProLiant or the iLO's "
                                                               "Firmware & OS Software page)")))
    rom_text = inv.firmware_version("System ROM") or str(inv.system.get("BiosVersion") or "")
    rom = version_tuple(rom_text)
    need_rom = version_tuple(m.system_rom)
    ok = (rom is not None and need_rom is not None and rom >= need_rom
          and rom_text.startswith(m.system_rom_family))
    out.append(Finding(host, "System ROM", ok,
                       f"{rom_text or 'not reported'}" + ("" if ok else
                                                          f"; need {m.system_rom_family} v{m.system_rom} or later: "
                                                          "update the System ROM (Service Pack for ProLiant), then "
                                                          "reboot the server")))
    return out


def evaluate_server(host: str, inv: ServerInventory, minimums: HardwareMinimums) -> list[Finding]:
    """Findings for one server: reachability, model, CPUs, memory, health, firmware."""
    if inv.problems and not inv.system:
        return [Finding(host, "redfish", False,
                        f"the management controller did not answer: {inv.problems[0]}. Check the BMC address in the "
                        "topology (hypervisors[].bmc_address), that the control node reaches it on HTTPS, and the BMC "
                        "credentials in the vault (vault_bmc_username, vault_bmc_password)")]
    findings: list[Finding] = []
    model = str(inv.system.get("Model", "?"))
    findings.append(Finding(host, "model", "DL360 Gen10" in model,
                            f"{inv.system.get('Manufacturer', '?')} {model}, "
                            f"serial {inv.system.get('SerialNumber', '?')}"
                            + ("" if "DL360 Gen10" in model else ": §14.2 names the HPE ProLiant DL360 Gen10; check "
                               "that the BMC address points at the right server")))
    for problem in inv.problems:
        findings.append(Finding(host, "redfish", False, f"part of the inventory could not be read: {problem}"))
    findings += _cpu_findings(host, inv, minimums)
    findings += _memory_findings(host, inv, minimums)
    findings += _health_findings(host, inv, minimums)
    findings += _firmware_findings(host, inv, minimums)
    return findings
