"""One piece of live evidence: what was run, what it printed (truncated), and whether it passed."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

PASS = "pass"
FAIL = "fail"
MANUAL = "manual"
NOT_APPLICABLE = "not applicable"
STATUSES = (PASS, FAIL, MANUAL, NOT_APPLICABLE)
OUTPUT_LIMIT = 4000


def truncate(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """Head and tail of a long output, saying how much was cut (reports stay readable and small)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    return f"{text[:head]}\n… [{len(text) - limit} characters cut] …\n{text[-tail:]}"


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True, default=str)


@dataclass
class Evidence:
    id: str
    title: str
    status: str
    command: str
    output: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown evidence status {self.status!r}")
        self.output = truncate(self.output)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Evidence:
        return cls(id=str(raw["id"]), title=str(raw["title"]), status=str(raw["status"]),
                   command=str(raw.get("command", "")), output=str(raw.get("output", "")),
                   detail=str(raw.get("detail", "")), data=dict(raw.get("data") or {}))


def unavailable(evidence_id: str, title: str, command: str, why: str) -> Evidence:
    """Evidence that could not be gathered: always a failure, with what to do about it."""
    return Evidence(evidence_id, title, FAIL, command, detail=f"evidence not available: {why}")
