"""The failover figures of the backup benchmark, measured by the lab drills (not wired in yet).

``lab_failover_figures`` is the one hook: when the lab drills can time a failover, it returns
``{"vip_failover_seconds": ..., "database_failover_seconds": ...}`` (seconds from the fault to the
virtual IP answering on the other node, and to a new primary accepting writes). Until then it returns
None and the benchmark prints those figures as not measured.
"""

from __future__ import annotations

# Keys of the figures lab_failover_figures returns.
VIP_FAILOVER = "vip_failover_seconds"
DATABASE_FAILOVER = "database_failover_seconds"


def lab_failover_figures() -> dict[str, float] | None:
    """VIP and database failover times from the lab drills; None while the lab part is not available."""
    return None
