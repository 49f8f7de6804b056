"""The one lab every lab test of this directory shares (session scope: built once, removed at the end).

Starts the lab itself (`osonctl lab down` then `osonctl lab up --offline`: the offline bundle is built
once per session and the lab's VMs install only from it, with no way out of the lab networks) and
removes it at the end (set OSON_KEEP_LAB=1 to keep it and its bundle for inspection, OSON_REUSE_LAB=1
to run against a lab that is up).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance import bundle, lab
from appliance.bundle.build import BundleResult
from appliance.bundle.manifest import checksum_file
from appliance.drills.lab_drills import LabAppliance
from appliance.paths import LAB_STATE
from appliance.topology import Topology

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
FIGURES = ARTIFACTS / "figures.json"


def record_figure(name: str, value: object) -> None:
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    figures = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    figures[name] = value
    FIGURES.write_text(json.dumps(figures, indent=2))


def osonctl(*args: str, log: str) -> subprocess.CompletedProcess[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=1800
    )
    (ARTIFACTS / log).write_text(proc.stdout + proc.stderr)
    return proc


@dataclass
class Lab:
    topology: Topology
    ca_file: Path

    def health(self, timeout: float = 3) -> tuple[int, dict[str, object]]:
        return lab.https_get_json(lab.public_health_url(self.topology), self.ca_file, timeout=timeout)

    def container(self, host: str) -> str:
        return self.topology.container_name(host)

    @property
    def appliance(self) -> LabAppliance:
        """The same lab as the drills see it."""
        return LabAppliance(self.topology, self.ca_file)

    def vip_holder(self) -> str | None:
        return self.appliance.vip_holder()


@contextmanager
def apt_repository(archive: Path) -> Iterator[tarfile.TarFile]:
    """The apt repository inside a bundle (its `apt.tar`), read without unpacking the bundle."""
    with tarfile.open(archive) as outer:
        apt_tar = outer.extractfile("oson-bundle/apt.tar")
        assert apt_tar is not None, f"{archive} holds no oson-bundle/apt.tar"
        with tarfile.open(fileobj=apt_tar) as inner:
            yield inner


@pytest.fixture(scope="session")
def lab_bundle() -> Iterator[BundleResult]:
    """The offline bundle for the lab inventory, built once (a few minutes: the packages are downloaded)."""
    result = bundle.build_for(lab.load_lab_topology(), image=lab.ensure_image())
    archive = result.archive
    record_figure("offline bundle build seconds", round(result.seconds))
    record_figure("offline bundle MB", round(result.size / 1e6))
    yield result
    if not os.environ.get("OSON_KEEP_LAB"):
        # A few hundred MB: not kept between runs.
        for path in (archive, checksum_file(archive)):
            path.unlink(missing_ok=True)
        shutil.rmtree(archive.with_name(archive.name + ".d"), ignore_errors=True)


@pytest.fixture(scope="session")
def running_lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    topology = lab.load_lab_topology()
    if os.environ.get("OSON_REUSE_LAB"):
        # For developers iterating on these tests: use the lab that is up, keep it afterwards.
        yield Lab(topology, lab.LAB_CA_FILE)
        return
    osonctl("lab", "down", log="lab-down-before.log")
    offline: BundleResult = request.getfixturevalue("lab_bundle")
    started = time.monotonic()
    proc = osonctl("lab", "up", "--offline", "--bundle", str(offline.archive), log="lab-up-fresh.log")
    fresh_seconds = time.monotonic() - started
    assert proc.returncode == 0, f"lab up failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    record = json.loads((LAB_STATE / "last-fresh.json").read_text())
    record_figure("fresh lab (image, containers, converge) seconds", round(fresh_seconds))
    record_figure("fresh converge seconds (offline, from the bundle)", record["converge_seconds"])
    yield Lab(topology, lab.LAB_CA_FILE)
    if not os.environ.get("OSON_KEEP_LAB"):
        osonctl("lab", "down", log="lab-down-after.log")


