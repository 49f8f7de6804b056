"""A WHERE clause built from optional filters, for the registers' list queries.

A filter whose value is None (or an empty string) is left out, so a list endpoint passes its query
parameters as they come::

    where = Where().equal("status", status).equal("c.participant_id", participant, uuid=True)
    where.time_range("detected_at", start, end)
    conn.execute(text(f"SELECT ... WHERE {where.sql} ORDER BY ..."), where.params)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "TRUE"

    def _bind(self, column: str, suffix: str, value: Any) -> str:
        name = column.replace(".", "_") + suffix
        self.params[name] = value
        return f":{name}"

    def equal(self, column: str, value: Any, *, uuid: bool = False) -> Where:
        if value is None or value == "":
            return self
        placeholder = self._bind(column, "", value)
        self.clauses.append(f"{column} = CAST({placeholder} AS uuid)" if uuid else f"{column} = {placeholder}")
        return self

    def time_range(self, column: str, start: Any, end: Any) -> Where:
        """``start <= column < end``, either bound optional."""
        if start is not None:
            self.clauses.append(f"{column} >= {self._bind(column, '_from', start)}")
        if end is not None:
            self.clauses.append(f"{column} < {self._bind(column, '_to', end)}")
        return self

    def condition(self, clause: str, value: Any, **params: Any) -> Where:
        """A clause of its own (its parameters named in it), added only when ``value`` is given."""
        if value is None or value == "":
            return self
        self.clauses.append(clause)
        self.params.update(params)
        return self

    def page(self, limit: int, offset: int) -> dict[str, Any]:
        """The parameters with ``:limit`` and ``:offset`` for the query's LIMIT/OFFSET."""
        return {**self.params, "limit": limit, "offset": offset}
