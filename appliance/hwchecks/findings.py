"""One precheck result, and how a list of them is shown (table) and handed to machines (JSON)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    host: str
    check: str
    ok: bool
    detail: str


def table(findings: list[Finding]) -> list[str]:
    """One aligned line per finding: status, host, check, detail (what was seen; for a failure, what to do)."""
    host_w = max([len(f.host) for f in findings] + [4])
    check_w = max([len(f.check) for f in findings] + [5])
    lines = [f"  {'':6} {'host':{host_w}} {'check':{check_w}} detail"]
    for f in findings:
        lines.append(f"  [{'ok' if f.ok else 'FAIL':4}] {f.host:{host_w}} {f.check:{check_w}} {f.detail}")
    return lines


def as_json(findings: list[Finding]) -> dict[str, Any]:
    failed = [f for f in findings if not f.ok]
    return {"ok": not failed, "failed": len(failed), "findings": [asdict(f) for f in findings]}
