"""The appliance's pgBackRest package (roles/pgbackrest/files/build_package.py): version, cache, this machine."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "roles" / "pgbackrest" / "files" / "build_package.py"
DEFAULTS = ROOT / "roles" / "pgbackrest" / "defaults" / "main.yml"


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_package", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_role_installs_the_version_the_script_builds(builder: ModuleType) -> None:
    defaults = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    assert defaults["pgbackrest_package_version"] == builder.VERSION
    assert builder.VERSION.startswith(builder.DEBIAN_VERSION + "+")
    # Sorts above Debian's package, so apt never swaps ours back for it.
    compare = subprocess.run(["dpkg", "--compare-versions", builder.VERSION, "gt", builder.DEBIAN_VERSION], check=False)
    assert compare.returncode == 0


def test_every_patch_says_what_it_does_and_touches_the_source_tree(builder: ModuleType) -> None:
    for patch in builder.patches():
        text = patch.read_text(encoding="utf-8")
        assert text.startswith("Description: "), f"{patch.name}: DEP-3 header first"
        assert "\nForwarded: " in text
        targets = [line.split()[1] for line in text.splitlines() if line.startswith("+++ ")]
        assert targets and all(t.startswith("b/src/") for t in targets), targets


def test_a_package_built_from_the_same_inputs_is_reused_without_the_mirror(builder: ModuleType,
                                                                           tmp_path: Path) -> None:
    target = tmp_path / f"pgbackrest-{builder.build_digest()[:16]}" / builder.deb_name()
    target.parent.mkdir()
    target.write_bytes(b"built before")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--dest", str(tmp_path), "--mirror", "http://127.0.0.1:9/"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report == {"changed": False, "deb": str(target), "digest": builder.build_digest(),
                      "package": "pgbackrest", "version": builder.VERSION}


def test_a_changed_patch_means_a_new_build_and_an_unreachable_mirror_says_so(builder: ModuleType, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = builder.build_digest()
    patches = tmp_path / "patches"
    shutil.copytree(builder.PATCH_DIR, patches)
    first = sorted(patches.glob("*.patch"))[0]
    first.write_text(first.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    monkeypatch.setattr(builder, "PATCH_DIR", patches)
    assert builder.build_digest() != before
    with pytest.raises(builder.BuildError, match=r"cannot fetch http://127\.0\.0\.1:9/pool/main/p/pgbackrest/.*--mirror"):
        builder.build(tmp_path / "debs", "http://127.0.0.1:9")


def test_this_machine_runs_the_appliances_pgbackrest(builder: ModuleType) -> None:
    """scripts/host-setup.sh installs it: the backup benchmark and the local drills use this machine's."""
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Version}", "pgbackrest"],
                          capture_output=True, text=True, check=False)
    # "ii ": installed; a removed package keeps its version in dpkg's database ("rc ").
    assert (proc.returncode, proc.stdout) == (0, f"ii {builder.VERSION}"), (
        f"pgbackrest here is {proc.stdout or 'not installed'}; run scripts/host-setup.sh (make setup)")
