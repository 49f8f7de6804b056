"""A period of operational days (Asia/Almaty dates, both ends included), as journals and reports take it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from oson_operator.domain.errors import DomainError, FieldProblem

MAX_REPORT_DAYS = 366


@dataclass(frozen=True)
class Period:
    day_from: date | None  # None: from the first entry
    day_to: date | None  # None: to the last entry

    @property
    def whole(self) -> bool:
        return self.day_from is None and self.day_to is None

    def label(self, whole_text: str) -> str:
        if self.whole:
            return whole_text
        if self.day_from == self.day_to:
            return str(self.day_from)
        return f"{self.day_from or '…'} - {self.day_to or '…'}"

    def parameters(self) -> dict[str, str | None]:
        return {"from": self.day_from.isoformat() if self.day_from else None,
                "to": self.day_to.isoformat() if self.day_to else None}


def _invalid(field: str, reason: str) -> DomainError:
    return DomainError("REQUEST_INVALID", status=422,
                       problems=(FieldProblem(field, "PERIOD_INVALID", {"reason": reason}),))


def period_of(day: date | None, day_from: date | None, day_to: date | None, *, required: bool = False,
              max_days: int | None = None) -> Period:
    """``day`` alone, or ``from``/``to`` (either may be open unless ``required``); checks the order and length."""
    if day is not None:
        if day_from is not None or day_to is not None:
            raise _invalid("day", "give either day, or from and to")
        return Period(day, day)
    if required and (day_from is None or day_to is None):
        raise _invalid("from" if day_from is None else "to", "a report needs day, or both from and to")
    if day_from is not None and day_to is not None:
        if day_from > day_to:
            raise _invalid("from", "from must not be after to")
        if max_days is not None and (day_to - day_from).days + 1 > max_days:
            raise _invalid("to", f"at most {max_days} days")
    return Period(day_from, day_to)
