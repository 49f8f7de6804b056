"""The wheel is reproducible: the operator role relies on it to report "no change" on redeploys."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def build(out: Path) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-q", "-w", str(out), str(PROJECT)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("oson_operator-*.whl")
    return wheel


def test_same_sources_give_a_byte_identical_wheel(tmp_path: Path) -> None:
    first = build(tmp_path / "a")
    second = build(tmp_path / "b")
    assert hashlib.sha256(first.read_bytes()).hexdigest() == hashlib.sha256(second.read_bytes()).hexdigest()


def test_wheel_ships_the_migrations_and_no_bytecode(tmp_path: Path) -> None:
    names = zipfile.ZipFile(build(tmp_path)).namelist()
    assert "oson_operator/migrations/env.py" in names
    assert "oson_operator/migrations/script.py.mako" in names
    assert "oson_operator/migrations/versions/0001_initial.py" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
