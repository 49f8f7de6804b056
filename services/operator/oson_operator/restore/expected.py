"""The operations a load generator saw acknowledged: a file of ids, or JSON Lines (pure, no database).

Two formats, told apart by the first line that is not blank or a ``#`` comment:

    0d6f6a0e-3b7e-4c59-9a55-6f0c1e2b9a11                 one operation id per line
    {"operation_id": "0d6f...", "acknowledged_at": "2026-06-10T07:00:01.5+00:00"}   JSON Lines

``acknowledged_at`` (ISO 8601 with a UTC offset) lets a point-in-time restore expect only what was
acknowledged at or before the recovery target; a file of plain ids cannot be limited that way.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal
from uuid import UUID


class ExpectationsError(ValueError):
    """The expectations file cannot be used; the message names the file, the line and the fix."""


def parse_instant(value: str) -> datetime:
    """An ISO 8601 time with a UTC offset (``Z`` allowed); ValueError names what is missing."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 time, e.g. 2026-06-10T12:00:00+05:00") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{value!r} has no UTC offset: add one, e.g. {value.strip()}+05:00 or {value.strip()}Z")
    return moment


@dataclass(frozen=True)
class ExpectedOperations:
    """What to look for: ``ids`` (unique, in file order) acknowledged at or before ``until``.

    ``duplicates``: ids written more than once (a client retry that got the same operation back,
    or a load-generator bug), with how often. ``later``: ids left out as acknowledged after ``until``.
    """

    source: Path
    format: Literal["ids", "jsonl"]
    ids: list[str]
    records: int
    duplicates: dict[str, int]
    until: datetime | None
    later: int
    warnings: list[str] = field(default_factory=list)


def _operation_id(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ExpectationsError(f"{where}: the operation id must be a string, got {value!r}")
    try:
        return str(UUID(value.strip()))
    except ValueError:
        raise ExpectationsError(f"{where}: {value!r} is not an operation id (a UUID)") from None


def _json_record(line: str, where: str, until: datetime | None) -> tuple[str, bool]:
    """(operation id, acknowledged after ``until``) of one JSON line."""
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise ExpectationsError(f"{where}: not JSON ({exc}); a JSON Lines file needs one object per line") from None
    if not isinstance(record, dict) or "operation_id" not in record:
        raise ExpectationsError(f"{where}: a JSON line must be an object with an \"operation_id\" field")
    operation_id = _operation_id(record["operation_id"], where)
    if until is None:
        return operation_id, False
    acknowledged = record.get("acknowledged_at")
    if not isinstance(acknowledged, str):
        raise ExpectationsError(f"{where}: no \"acknowledged_at\" time; --expect-after needs it on every line "
                                "(or drop --expect-after to expect every operation of the file)")
    try:
        moment = parse_instant(acknowledged)
    except ValueError as exc:
        raise ExpectationsError(f"{where}: acknowledged_at {exc}") from None
    return operation_id, moment > until


def load_expected_operations(path: Path, *, until: datetime | None = None) -> ExpectedOperations:
    """Read ``path``; with ``until``, keep only operations acknowledged at or before it (JSON Lines only)."""
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ExpectationsError(f"cannot read the expected operations {path}: {reason}") from None
    kind: Literal["ids", "jsonl"] | None = None
    ids: list[str] = []
    expected: set[str] = set()
    seen: Counter[str] = Counter()
    records = 0
    for number, raw in enumerate(content.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path} line {number}"
        line_kind: Literal["ids", "jsonl"] = "jsonl" if line.startswith("{") else "ids"
        if kind is None:
            kind = line_kind
        elif line_kind != kind:
            raise ExpectationsError(f"{where}: the file mixes plain ids and JSON lines; use one format")
        if kind == "jsonl":
            operation_id, is_later = _json_record(line, where, until)
        else:
            operation_id, is_later = _operation_id(line, where), False
        records += 1
        seen[operation_id] += 1
        if not is_later and operation_id not in expected:
            expected.add(operation_id)
            ids.append(operation_id)
    if kind is None:
        raise ExpectationsError(f"{path} holds no operation ids; pass the file the load generator wrote")
    warnings: list[str] = []
    if until is not None and kind == "ids":
        warnings.append(f"{path} holds plain ids without acknowledgement times: --expect-after is ignored and "
                        "every id is expected (write JSON Lines with \"acknowledged_at\" to limit them)")
        until = None
    # An id acknowledged both before and after the limit is expected (it was acknowledged in time).
    later_ids = {operation_id for operation_id in seen if operation_id not in expected}
    duplicates = {operation_id: count for operation_id, count in seen.items() if count > 1}
    return ExpectedOperations(source=path, format=kind, ids=ids, records=records, duplicates=duplicates,
                              until=until, later=len(later_ids), warnings=warnings)
