"""The failover figures of the backup benchmark, measured by the lab drills.

``lab_failover_figures`` runs two power-loss drills in the one-machine lab (bringing the lab up first
when it is not healthy): the lb VM holding the public VIP, and the database primary, each SIGKILLed
under load. It returns the seconds from the kill to the VIP answering on the other lb VM, the seconds
from the kill to payments being acknowledged again (the database failover, as a client sees it), and
how many acknowledged payments the two drills lost (the verdict's count; the goal is 0).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

# Keys of the figures lab_failover_figures returns.
VIP_FAILOVER = "vip_failover_seconds"
DATABASE_FAILOVER = "database_failover_seconds"
ACKNOWLEDGED_LOST = "acknowledged_lost"
ROOT = Path(__file__).resolve().parents[1]


def _lab_ready() -> None:
    from appliance.drills import lab_drills

    try:
        problems = lab_drills.lab_appliance().unhealthy()
    except lab_drills.LabDrillError as err:
        problems = [str(err)]
    if problems:
        print(f"bench: the lab is not up and healthy ({'; '.join(problems)[:300]}); bringing it up", flush=True)
        subprocess.run([sys.executable, "-m", "appliance.cli", "lab", "up"], cwd=ROOT, check=True)


def lab_failover_figures() -> dict[str, float] | None:
    """VIP and database failover times and acknowledged payments lost, from two lab drills."""
    from appliance.drills import lab_drills

    _lab_ready()
    figures: dict[str, float] = {}
    lost = 0
    for target in ("lb", "db-primary"):
        with tempfile.TemporaryDirectory(prefix=f"oson-bench-{target}-") as work:
            result = lab_drills.run_power_loss(target, work_dir=Path(work), out=sys.stderr)
        if not result.ok:
            failed = [check["name"] for check in result.checks if not check["ok"]]
            print(f"bench: the {target} drill FAILED ({', '.join(failed)}); its figures are still shown", flush=True)
        lost += result.verdict.missing
        if target == "lb":
            figures[VIP_FAILOVER] = result.figures.get("vip_moved_after_seconds")
        else:
            figures[DATABASE_FAILOVER] = result.figures.get("write_outage_seconds")
    figures[ACKNOWLEDGED_LOST] = lost
    return {key: value for key, value in figures.items() if value is not None}
