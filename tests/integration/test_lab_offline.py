"""The lab deployed with package sources switched off: every VM installed from the offline bundle only.

The session's lab comes up with `osonctl lab up --offline --bundle <the session's bundle>` (lab_support):
the inventory says `oson_package_source: bundle`, and the lab's forward filter drops everything leaving
the lab networks, as a rack without Internet access. These tests prove it: apt on every VM knows only the
bundle's repository, every package installed on every VM is the base image's or the bundle's (same
version), and no VM can open a connection to the Debian mirror that this machine itself reaches.
"""

from __future__ import annotations

import re
import socket
import subprocess
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from lab_support import Lab, apt_repository, record_figure

from appliance import lab
from appliance.firewall.labnet import CLOSED_TO_OUTSIDE, LAB_TABLE
from appliance.paths import PROJECT_ROOT
from appliance.topology import HostRole

pytestmark = [pytest.mark.lab, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def offline_bundle(running_lab: Lab) -> Path:
    bundle = lab.offline_bundle()
    assert bundle is not None, ("the lab is not offline: bring it up with `osonctl lab up --offline` "
                                "(the lab tests do so themselves unless OSON_REUSE_LAB is set)")
    assert bundle.is_file(), f"{bundle}: the lab's bundle is gone"
    return bundle


def _exec(lab_: Lab, host: str, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", "exec", lab_.container(host), *cmd], capture_output=True, text=True,
                          timeout=timeout, check=False)


def _bundle_packages(bundle: Path) -> set[tuple[str, str]]:
    """(package, version) of every .deb in the bundle's repository, read from its Packages index."""
    with apt_repository(bundle) as repo:
        index = repo.extractfile("Packages")
        assert index is not None
        text = index.read().decode()
    return {(m["Package"], m["Version"]) for m in (
        dict(re.findall(r"^(Package|Version): (\S+)$", stanza, re.MULTILINE)) for stanza in text.split("\n\n"))
        if "Package" in m}


def _installed(lines: str) -> set[tuple[str, str]]:
    return {(name, version) for name, version in (line.split(" ", 1) for line in lines.splitlines() if line)}


def test_apt_on_every_vm_knows_only_the_bundle(running_lab: Lab, offline_bundle: Path) -> None:
    for host in sorted(running_lab.topology.hosts):
        proc = _exec(running_lab, host, "apt-get", "indextargets", "--format", "$(URI)")
        assert proc.returncode == 0, proc.stderr
        uris = set(proc.stdout.split())
        assert uris, f"{host}: apt has no index at all"
        assert all(uri.startswith("file:/var/lib/oson/bundle/apt-") for uri in uris), (host, sorted(uris))


def test_every_installed_package_came_from_the_image_or_the_bundle(running_lab: Lab, offline_bundle: Path) -> None:
    image = subprocess.run(["podman", "run", "--rm", "--network", "none", lab.image_name(), "dpkg-query", "-W",
                            "-f", "${Package} ${Version}\\n"], capture_output=True, text=True, timeout=120, check=False)
    assert image.returncode == 0, image.stderr
    allowed = _installed(image.stdout) | _bundle_packages(offline_bundle)
    installed_from_bundle = 0
    for host in sorted(running_lab.topology.hosts):
        proc = _exec(running_lab, host, "dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Package} ${Version}\\n")
        assert proc.returncode == 0, proc.stderr
        # Only what is installed ("ii"): packages the hardening role purged leave no files to check.
        installed = _installed("\n".join(line[3:] for line in proc.stdout.splitlines() if line.startswith("ii ")))
        assert installed - allowed == set(), f"{host}: packages from neither the image nor the bundle"
        installed_from_bundle = max(installed_from_bundle, len(installed - _installed(image.stdout)))
    # The roles did install: the busiest VM holds over a hundred packages the image does not have.
    assert installed_from_bundle > 50
    record_figure("offline lab: most packages one VM installed from the bundle", installed_from_bundle)


def test_database_and_backup_vms_run_the_appliances_own_pgbackrest(running_lab: Lab, offline_bundle: Path) -> None:
    defaults = yaml.safe_load((PROJECT_ROOT / "roles/pgbackrest/defaults/main.yml").read_text(encoding="utf-8"))
    version = defaults["pgbackrest_package_version"]
    assert {v for p, v in _bundle_packages(offline_bundle) if p == "pgbackrest"} == {version}, (
        "the bundle must carry the appliance's pgbackrest build in place of Debian's")
    hosts = running_lab.topology.hosts_with_role(HostRole.DB) + running_lab.topology.hosts_with_role(HostRole.BACKUP)
    for host in hosts:
        proc = _exec(running_lab, host, "dpkg-query", "-W", "-f", "${Version}", "pgbackrest")
        assert (proc.returncode, proc.stdout) == (0, version), (host, proc.stdout, proc.stderr)


def _mirror_address() -> tuple[str, int]:
    url = urllib.parse.urlsplit(lab.debian_mirror())
    port = url.port or (443 if url.scheme == "https" else 80)
    return socket.getaddrinfo(url.hostname or "", port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0], port


def _dropped_packets() -> int:
    listing = subprocess.run(["nft", "list", "table", "inet", LAB_TABLE], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    match = re.search(rf'counter packets (\d+) bytes \d+ drop comment "{re.escape(CLOSED_TO_OUTSIDE)}"', listing)
    assert match, f"the lab's forward filter has no rule closing it to the outside:\n{listing}"
    return int(match.group(1))


def test_no_vm_reaches_the_debian_mirror(running_lab: Lab, offline_bundle: Path) -> None:
    address, port = _mirror_address()
    # The control: this machine reaches the mirror, so a VM that cannot is cut off by the lab, not the world.
    with socket.create_connection((address, port), timeout=10):
        pass
    dropped_before = _dropped_packets()
    probe = ("import socket,sys\n"
             "try:\n"
             f"    socket.create_connection(({address!r}, {port}), timeout=4)\n"
             "except OSError as err:\n"
             "    print('unreachable:', err); sys.exit(0)\n"
             "print('reached'); sys.exit(1)\n")
    hosts = sorted(running_lab.topology.hosts)
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        results = dict(zip(hosts, pool.map(lambda h: _exec(running_lab, h, "python3", "-c", probe), hosts),
                           strict=True))
    reached = {h: p.stdout + p.stderr for h, p in results.items() if p.returncode != 0}
    assert reached == {}, f"these VMs reached {address}:{port}: {reached}"
    # The lab's own rule dropped the attempts (not, say, a VM without a route): one SYN or more per VM.
    assert _dropped_packets() - dropped_before >= len(hosts)
