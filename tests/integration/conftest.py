"""The lab tests of this directory share one lab and one offline bundle: the session fixtures `running_lab`
and `lab_bundle` of lab_support."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest runs with --import-mode=importlib: the lab tests import their shared helpers from here, and the
# browser helpers of the service's console tests (browser_support: no database, no service).
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[2] / "services" / "operator" / "tests"))

from lab_support import lab_bundle, running_lab  # noqa: F401 (the fixtures)
