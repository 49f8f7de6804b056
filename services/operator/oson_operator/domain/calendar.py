"""The operational day (00:00-23:59:59 Asia/Almaty, §12.1.2) and working days (§16.8 AML blocks)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")


def operational_day(moment: datetime) -> date:
    """The operational day a UTC (aware) moment belongs to."""
    if moment.tzinfo is None:
        raise ValueError("operational_day needs an aware datetime")
    return moment.astimezone(ALMATY).date()


def is_working_day(day: date, holidays: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(moment: datetime, days: int, holidays: Collection[date] = ()) -> datetime:
    """The end (00:00 Almaty of the next day) of the ``days``-th working day after ``moment``'s day."""
    if days < 1:
        raise ValueError("days must be at least 1")
    day = operational_day(moment)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, holidays):
            counted += 1
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ALMATY)
    return end.astimezone(moment.tzinfo)
