"""The §14.2 hardware minimums the prechecks hold the rack to.

§14.2 lists two HPE DL360 Gen10 servers, each with two Intel Xeon Gold 6148 (20 cores, 40 threads)
and 128 GB of DDR4, and one HPE MSA 2040 with 8 x 1.92 TB SSD. "6148-class" means a Xeon Gold or
Platinum with at least as many cores: a faster part passes, a Silver or a 16-core Gold does not.
Firmware floors are the oldest releases the appliance was qualified with; raise them to the site's
Service Pack for ProLiant baseline. The topology's hypervisors[].cpus / memory_gb (when set) can only
raise the CPU-core and memory floors, never lower them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from appliance.topology import Topology


@dataclass(frozen=True)
class HardwareMinimums:
    # Populated processor sockets per server (§14.2: "2 c." = two CPUs).
    cpu_sockets: int = 2
    # Cores per processor (Xeon Gold 6148: 20 cores / 40 threads).
    cores_per_cpu: int = 20
    # Regular expression a processor's model string must match to count as 6148-class.
    cpu_model_pattern: str = r"Xeon\(R\) (Gold|Platinum)|Xeon (Gold|Platinum)"
    # Installed memory per server, GiB (§14.2: DDR4 128).
    memory_gib: int = 128
    # What the OS may see of that memory (firmware and the kernel keep some): 95 %.
    os_memory_fraction: float = 0.95
    # Power supplies present per server (the DL360 Gen10 takes two; one alone is not redundant).
    power_supplies: int = 2
    # Oldest iLO 5 firmware accepted (major.minor).
    ilo_firmware: str = "2.72"
    # Oldest System ROM accepted for the DL360 Gen10 (family U32, major.minor).
    system_rom_family: str = "U32"
    system_rom: str = "2.68"
    # Debian release on the hypervisors (bookworm).
    debian_major: int = 12
    # MSA 2040: SSDs in the array and the smallest accepted SSD size in GB (§14.2: 8 x 1.92 TB).
    msa_ssds: int = 8
    msa_ssd_size_gb: float = 1900.0
    # Oldest MSA 2040 controller firmware bundle accepted (GL<major><letter><build>).
    msa_firmware: str = "GL220P008"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def for_topology(topology: Topology, base: HardwareMinimums | None = None) -> HardwareMinimums:
    """The minimums for this topology: the defaults, raised by what the topology says each server has."""
    m = base or HardwareMinimums()
    cores = max((hv.cpus for hv in topology.hypervisors), default=0)
    memory = max((hv.memory_gb for hv in topology.hypervisors), default=0)
    if topology.minimums.hypervisor_cpus:
        cores = max(cores, topology.minimums.hypervisor_cpus)
    if topology.minimums.hypervisor_memory_gb:
        memory = max(memory, topology.minimums.hypervisor_memory_gb)
    per_cpu = -(-cores // m.cpu_sockets) if cores else 0
    return replace(m, cores_per_cpu=max(m.cores_per_cpu, per_cpu), memory_gib=max(m.memory_gib, memory))
