"""The pure parts of the lab drills: the write-outage figure and the change detector of a watch."""

from __future__ import annotations

import datetime as dt
import time

from appliance.drills.lab_drills import TARGETS, Watch, write_outage_seconds

CUT = dt.datetime(2026, 11, 21, 10, 0, 0, tzinfo=dt.UTC)


def _acks(*offsets: float) -> list[dict[str, str]]:
    return [{"acknowledged_at": (CUT + dt.timedelta(seconds=s)).isoformat()} for s in offsets]


def test_outage_is_the_longest_silence_from_the_cut_on() -> None:
    # Before the cut does not count; from the cut to the first answer is 0.5 s, then a 12 s hole.
    assert write_outage_seconds(_acks(-3, -0.1, 0.5, 12.5, 12.6, 13.0), CUT) == 12.0


def test_outage_counts_the_wait_for_the_first_answer_after_the_cut() -> None:
    assert write_outage_seconds(_acks(-1, 21.25, 21.3), CUT) == 21.25


def test_no_answer_after_the_cut_is_no_figure() -> None:
    assert write_outage_seconds(_acks(-2, -1), CUT) is None


def test_watch_reports_the_first_change_after_a_moment() -> None:
    values = iter(["a", "a", None, "error: gone", "b", "b"])
    watch = Watch(lambda: next(values, "b"), interval=0.01)
    moment = time.monotonic()
    watch.start()
    while len(watch.samples) < 6:
        time.sleep(0.01)
    watch.stop()
    changed = watch.first_change_after(moment, "a")
    assert changed is not None and changed >= 0
    assert watch.first_change_after(time.monotonic() + 10, "a") is None
    assert set(TARGETS) == {"db-primary", "db-all", "app", "web", "lb"}
