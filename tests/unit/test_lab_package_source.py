"""Where the lab's VMs take packages from: the inventory file `osonctl lab up --offline` writes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from appliance import lab

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    """A copy of the lab inventory's group_vars layout (the real one is left alone)."""
    inv = tmp_path / "inventory"
    (inv / "group_vars" / "all").mkdir(parents=True)
    shutil.copyfile(ROOT / "inventory" / "lab" / "topology.yml", inv / "topology.yml")
    return inv


def _bundle(where: Path, content: bytes = b"a bundle") -> Path:
    archive = where / "oson-bundle-osonlab.tar"
    archive.write_bytes(content)
    archive.with_name(archive.name + ".sha256").write_text(
        f"{hashlib.sha256(content).hexdigest()}  {archive.name}\n", encoding="utf-8")
    return archive


def test_the_mirror_is_the_default(inventory: Path) -> None:
    assert lab.offline_bundle(inventory) is None


def test_offline_then_online(inventory: Path, tmp_path: Path) -> None:
    archive = _bundle(tmp_path)
    lab.use_offline_bundle(inventory, archive)
    written = yaml.safe_load(lab.package_source_file(inventory).read_text())
    # The two variables an operator sets for a rack (docs/offline-install.md), nothing lab-specific.
    assert written == {"oson_package_source": "bundle", "oson_bundle_file": str(archive.resolve())}
    assert lab.offline_bundle(inventory) == archive.resolve()
    lab.use_mirror(inventory)
    assert lab.offline_bundle(inventory) is None and not lab.package_source_file(inventory).exists()
    lab.use_mirror(inventory)  # already online: nothing to do, no error


def test_a_missing_bundle_is_refused_with_the_command_that_builds_one(inventory: Path, tmp_path: Path) -> None:
    with pytest.raises(lab.LabError, match="osonctl bundle -i"):
        lab.use_offline_bundle(inventory, tmp_path / "nothing.tar")
    assert lab.offline_bundle(inventory) is None


def test_a_bundle_that_does_not_match_its_checksum_is_refused(inventory: Path, tmp_path: Path) -> None:
    archive = _bundle(tmp_path)
    archive.write_bytes(b"a bundle, changed in transit")
    with pytest.raises(lab.LabError, match="does not match"):
        lab.use_offline_bundle(inventory, archive)
    assert lab.offline_bundle(inventory) is None


def test_the_lab_inventory_file_is_never_committed() -> None:
    ignored = ROOT / ".gitignore"
    relative = lab.package_source_file(ROOT / "inventory" / "lab").relative_to(ROOT).as_posix()
    assert relative in ignored.read_text(encoding="utf-8").splitlines()
