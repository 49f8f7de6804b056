"""Where the project's files are, wherever `osonctl` is started from."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("OSON_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
PLAYBOOKS = PROJECT_ROOT / "playbooks"
INVENTORIES = PROJECT_ROOT / "inventory"
LAB_INVENTORY = INVENTORIES / "lab"
LAB_STATE = PROJECT_ROOT / ".lab"
