"""Shared pytest hooks: the lab's converge figures are printed at the end of every run that made them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "artifacts" / "figures.json"


def pytest_sessionstart(session: pytest.Session) -> None:
    FIGURES.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES.exists():
        return
    figures = json.loads(FIGURES.read_text())
    terminalreporter.section("OSON appliance figures")
    for name, value in figures.items():
        terminalreporter.write_line(f"{name}: {value}")
