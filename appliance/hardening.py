"""Reading the hardening evidence a VM produces: the hardening check's JSON and Lynis' report.

On every appliance VM the hardening role installs two commands (see docs/hardening.md):

- ``oson-hardening-check --json`` verifies each HARD-* control on the host and prints one JSON
  document (format ``oson-hardening-check/1``); it exits 1 when a control fails.
- ``oson-lynis --report`` runs ``lynis audit system --quick`` non-interactively and prints the report
  (``/var/log/lynis-report.dat``: ``key=value`` lines, lists as ``key[]=value``).

This module turns their output into typed results; running them on the hosts is the caller's job
(e.g. ``podman exec`` in the lab, Ansible's ``command`` module on the rack).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

CHECK_COMMAND: tuple[str, ...] = ("/usr/local/sbin/oson-hardening-check", "--json")
LYNIS_COMMAND: tuple[str, ...] = ("/usr/local/sbin/oson-lynis", "--report")
CHECK_FORMAT = "oson-hardening-check/1"
# The goal for every VM.
LYNIS_INDEX_GOAL = 80

Status = Literal["pass", "fail", "waived"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "waived")


class HardeningReportError(ValueError):
    """The output is not what the hardening role's commands print."""


# -- Lynis -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LynisFinding:
    test_id: str
    text: str


@dataclass(frozen=True)
class LynisReport:
    hardening_index: int
    lynis_version: str
    tests_performed: int
    warnings: tuple[LynisFinding, ...]
    suggestions: tuple[LynisFinding, ...]
    # Tests Lynis did not run: not applicable here, or skipped by the appliance's profile.
    skipped_tests: tuple[str, ...]

    def meets_goal(self, goal: int = LYNIS_INDEX_GOAL) -> bool:
        return self.hardening_index >= goal


def _finding(value: str) -> LynisFinding:
    # "TEST-ID|text|details|solution|"
    test_id, _, rest = value.partition("|")
    return LynisFinding(test_id=test_id, text=rest.split("|", 1)[0])


def parse_lynis_report(text: str) -> LynisReport:
    """Parse /var/log/lynis-report.dat (as ``oson-lynis --report`` prints it)."""
    scalars: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        if key.endswith("[]"):
            lists.setdefault(key[:-2], []).append(value)
        else:
            scalars[key] = value
    index = scalars.get("hardening_index", "")
    if not index.isdigit():
        raise HardeningReportError(
            "no hardening_index in the Lynis report: did the audit finish? Run `oson-lynis` on the host "
            "and look at /var/log/lynis.log"
        )
    performed = scalars.get("lynis_tests_done", "0")
    return LynisReport(
        hardening_index=int(index),
        lynis_version=scalars.get("lynis_version", ""),
        tests_performed=int(performed) if performed.isdigit() else 0,
        warnings=tuple(_finding(v) for v in lists.get("warning", [])),
        suggestions=tuple(_finding(v) for v in lists.get("suggestion", [])),
        skipped_tests=tuple(t for t in scalars.get("tests_skipped", "").split("|") if t),
    )


# -- the hardening check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlResult:
    id: str
    title: str
    status: Status
    evidence: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class HardeningCheck:
    host: str
    checked_at: str
    container: bool
    controls: tuple[ControlResult, ...]
    errors: tuple[str, ...] = field(default=())

    def with_status(self, status: Status) -> tuple[ControlResult, ...]:
        return tuple(c for c in self.controls if c.status == status)

    @property
    def ok(self) -> bool:
        """Every control passes or is waived, and the waivers name real controls."""
        return not self.with_status("fail") and not self.errors

    def counts(self) -> dict[Status, int]:
        return {s: len(self.with_status(s)) for s in STATUSES}


def parse_check_json(text: str) -> HardeningCheck:
    """Parse what ``oson-hardening-check --json`` printed."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HardeningReportError(f"the hardening check did not print JSON ({exc}); run it with --json") from None
    if not isinstance(data, dict) or data.get("format") != CHECK_FORMAT:
        raise HardeningReportError(
            f"not a {CHECK_FORMAT} document; converge the hardening role so the host has the current check"
        )
    controls = []
    for item in data.get("controls", []):
        status = item.get("status")
        if status not in STATUSES:
            raise HardeningReportError(f"control {item.get('id')!r} has status {status!r}, not one of {STATUSES}")
        controls.append(
            ControlResult(
                id=str(item["id"]),
                title=str(item.get("title", "")),
                status=status,
                evidence=tuple(str(e) for e in item.get("evidence", [])),
                reason=item.get("reason"),
            )
        )
    if not controls:
        raise HardeningReportError("the hardening check reported no controls")
    return HardeningCheck(
        host=str(data.get("host", "")),
        checked_at=str(data.get("checked_at", "")),
        container=bool(data.get("container", False)),
        controls=tuple(controls),
        errors=tuple(str(e) for e in data.get("errors", [])),
    )
