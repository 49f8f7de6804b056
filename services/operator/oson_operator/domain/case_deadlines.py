"""Deadlines and retention of the back-office cases, computed from the injected clock's "now".

- incident response plan: 24 h after detection (§13.7); report to the National Bank: 48 h (§13.10);
- suspicious-transaction report: end of the first working day after the day of detection (§16.2.5);
- written answer to a claim: one calendar month after receipt, to the end of that day (§18.6);
- documents and incidents are kept at least five years (§7.5, §13.6).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from typing import Literal

from oson_operator.domain.calendar import ALMATY, add_working_days, operational_day

RETENTION_YEARS = 5
RESPONSE_PLAN_HOURS = 24
NBK_REPORT_HOURS = 48
# Warn this long before a deadline (the console shows "due soon").
WARN_BEFORE = timedelta(hours=6)

DeadlineState = Literal["pending", "due_soon", "overdue", "done", "done_late"]


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February -> 28 February
        return moment.replace(year=moment.year + years, day=28)


def retain_until(moment: datetime) -> datetime:
    return add_years(moment, RETENTION_YEARS)


def response_plan_due(detected_at: datetime) -> datetime:
    return detected_at + timedelta(hours=RESPONSE_PLAN_HOURS)


def nbk_report_due(detected_at: datetime) -> datetime:
    return detected_at + timedelta(hours=NBK_REPORT_HOURS)


def str_due(detected_at: datetime, holidays: Collection[date] = ()) -> datetime:
    return add_working_days(detected_at, 1, holidays)


def add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def dispute_due(received_at: datetime) -> datetime:
    """The end (00:00 Almaty of the next day) of the same day of the next month (31 Jan -> end of 28/29 Feb)."""
    last_day = add_month(operational_day(received_at))
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ALMATY)
    return end.astimezone(received_at.tzinfo)


def deadline_state(due: datetime, done_at: datetime | None, now: datetime,
                   warn_before: timedelta = WARN_BEFORE) -> DeadlineState:
    if done_at is not None:
        return "done" if done_at < due else "done_late"  # the same instant as "overdue" below
    if now >= due:
        return "overdue"
    return "due_soon" if due - now <= warn_before else "pending"


def deadline_view(due: datetime, done_at: datetime | None, now: datetime) -> dict[str, object]:
    state = deadline_state(due, done_at, now)
    view: dict[str, object] = {"due_at": due.isoformat(), "done_at": done_at.isoformat() if done_at else None,
                               "state": state}
    if state == "overdue":
        view["overdue_seconds"] = int((now - due).total_seconds())
    return view
