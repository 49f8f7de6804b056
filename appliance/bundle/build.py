"""Build the offline install bundle: one tar with the Debian packages the roles install (a local apt
repository, dependencies resolved for Debian 12) and the operator service's wheels, plus a manifest.

Layout of the archive (everything under `oson-bundle/`):

    manifest.json     sha256 and size of every file below, and of every member of the two tars
    apt.tar           a flat apt repository: *.deb, Packages, Packages.gz, Release (with the appliance's
                      own build of pgbackrest in place of Debian's)
    wheelhouse.tar    the oson-operator wheel and its pinned dependencies (what the operator role installs)
    wheelhouse.json   the wheel set's report: wheel -> sha256, digest, Python platform, project wheel
    packages.json     the packages each role asked for, and every package in the repository
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.bundle.manifest import sha256, write_checksum, write_manifest
from appliance.bundle.packages import collect_packages, playbook_roles
from appliance.bundle.repo import write_index
from appliance.paths import PLAYBOOKS, PROJECT_ROOT

ROLES = PROJECT_ROOT / "roles"
OPERATOR_SOURCE = PROJECT_ROOT / "services" / "operator"
WHEELHOUSE_SCRIPT = ROLES / "operator" / "files" / "build_wheelhouse.py"
WHEELHOUSE_CACHE = PROJECT_ROOT / ".build" / "operator-wheelhouse"
# Debian packages the appliance builds itself (Debian's source plus a patch of its roles), and the
# cache they are built into (the roles' own default, so a deploy and a bundle share one build).
OWN_PACKAGE_BUILDERS = (ROLES / "pgbackrest" / "files" / "build_package.py",)
OWN_PACKAGE_CACHE = PROJECT_ROOT / ".build" / "debs"
TOP = "oson-bundle"


class BundleError(RuntimeError):
    """The bundle could not be built; the message says what to do."""


@dataclass(frozen=True)
class BundleResult:
    archive: Path
    sha256: str
    size: int
    packages_requested: list[str]
    packages_in_repo: list[str]
    wheels: list[str]
    seconds: float


Say = Callable[[str], None]


def _say(message: str) -> None:
    print(message, flush=True)


def requested_packages(playbooks: list[str]) -> dict[str, list[str]]:
    """Role -> packages, for the roles the playbooks apply (site.yml: the appliance VMs)."""
    roles: list[str] = []
    for name in playbooks:
        path = PLAYBOOKS / name
        if not path.is_file():
            raise BundleError(f"no playbook {path}: name one of playbooks/*.yml")
        roles += [r for r in playbook_roles(path, ROLES) if r not in roles]
    return {name: sorted(r.packages) for name, r in collect_packages(ROLES, roles).items() if r.packages}


def build_wheels(dest: Path, say: Say) -> dict[str, Any]:
    """The operator role's own wheelhouse build (cached in .build/), copied into the bundle."""
    say("  building the oson-operator wheels (pip wheel with the service's constraints)...")
    proc = subprocess.run([sys.executable, str(WHEELHOUSE_SCRIPT), "--source", str(OPERATOR_SOURCE),
                           "--dest", str(WHEELHOUSE_CACHE)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise BundleError(f"building the operator wheels failed: {(proc.stderr or proc.stdout).strip()[-1500:]}")
    report = dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    shutil.copyfile(report["archive"], dest / "wheelhouse.tar")
    public = {k: report[k] for k in ("platform", "project_wheel", "wheels", "digest")}
    (dest / "wheelhouse.json").write_text(json.dumps(public, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    say(f"  {len(report['wheels'])} wheels for {report['platform']} ({report['project_wheel']})")
    return public


def add_own_packages(repo: Path, say: Say) -> None:
    """Build (or reuse) the appliance's own packages and put them into `repo` in place of Debian's."""
    for script in OWN_PACKAGE_BUILDERS:
        proc = subprocess.run([sys.executable, str(script), "--dest", str(OWN_PACKAGE_CACHE)], stdout=subprocess.PIPE,
                              text=True, check=False)
        if proc.returncode != 0:
            raise BundleError(f"building the appliance's own package with {script.relative_to(PROJECT_ROOT)} failed "
                              "(its error is above)")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        deb = Path(report["deb"])
        for stock in repo.glob(f"{report['package']}_*.deb"):
            stock.unlink()
        shutil.copyfile(deb, repo / deb.name)
        say(f"  the appliance's own {report['package']} {report['version']} replaces Debian's")


def download_debs(image: str, packages: list[str], dest: Path, say: Say) -> None:
    """apt-get --download-only in a throwaway container of the VMs' base image (Debian 12)."""
    dest.mkdir(parents=True, exist_ok=True)
    script = (
        "set -eu; export DEBIAN_FRONTEND=noninteractive; mkdir -p /out/partial; "
        "apt-get update -q; "
        "apt-get install -y -q --download-only -o Dir::Cache::archives=/out " + " ".join(packages) + "; "
        "rm -rf /out/partial /out/lock"
    )
    cmd = ["podman", "run", "--rm", "--network", "host", "-v", f"{dest}:/out", image, "/bin/sh", "-c", script]
    say(f"  resolving {len(packages)} packages in a throwaway {image} container and downloading them...")
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=30)
    fetched, last, downloading = 0, 0.0, False
    say("    reading the Debian package index...")
    for line in proc.stdout:
        tail.append(line.rstrip())
        if line.startswith("Get:") and downloading:
            fetched += 1
            if time.monotonic() - last > 5:
                last = time.monotonic()
                fields = line.split()
                say(f"    [{time.monotonic() - started:5.0f}s] {fetched} packages fetched, now "
                    f"{fields[4] if len(fields) > 4 else '...'}")
        elif line.startswith("Need to get"):
            # apt-get install's own summary: from here on, each Get: is a package.
            downloading = True
            say(f"    [{time.monotonic() - started:5.0f}s] {line.strip()}")
    if proc.wait() != 0:
        raise BundleError("apt-get could not resolve or download the packages:\n  " + "\n  ".join(tail)
                          + f"\nCheck that the image {image} exists (`podman images`; the lab builds it) and that "
                          "its Debian mirror is reachable from this machine.")
    say(f"    {len(list(dest.glob('*.deb')))} packages downloaded in {time.monotonic() - started:.0f}s")


def reproducible_tar(source: Path, archive: Path, arcname_prefix: str = "") -> dict[str, dict[str, Any]]:
    """A tar of `source`'s files, sorted, zero mtimes and owners: the same files give the same bytes."""
    contents: dict[str, dict[str, Any]] = {}
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            name = path.relative_to(source).as_posix()
            info = tarfile.TarInfo(arcname_prefix + name)
            info.size = path.stat().st_size
            info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, 0, "root", "root"
            with path.open("rb") as handle:
                tar.addfile(info, handle)
            contents[name] = {"sha256": sha256(path), "size": info.size}
    return contents


def tar_contents(archive: Path) -> dict[str, dict[str, Any]]:
    contents: dict[str, dict[str, Any]] = {}
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            if handle is None:
                continue
            digest = hashlib.sha256()
            for chunk in iter(lambda h=handle: h.read(1 << 20), b""):  # type: ignore[misc]
                digest.update(chunk)
            contents[member.name] = {"sha256": digest.hexdigest(), "size": member.size}
    return contents


def build(topology_name: str, output: Path, *, image: str, playbooks: list[str], say: Say = _say,
          debs_from: Path | None = None) -> BundleResult:
    """Build the bundle into `output`. `debs_from`: a directory of .deb files to use instead of downloading."""
    started = time.monotonic()
    by_role = requested_packages(playbooks)
    packages = all_packages_from(by_role)
    say(f"==> bundle for {topology_name}: {len(packages)} packages from {len(by_role)} roles "
        f"({', '.join(sorted(by_role))}) and the operator wheels")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".oson-bundle-", dir=output.parent) as work_name:
        work = Path(work_name)
        root, repo = work / TOP, work / "apt"
        root.mkdir()
        wheels = build_wheels(root, say)
        if debs_from is None:
            download_debs(image, packages, repo, say)
        else:
            repo.mkdir()
            for deb in sorted(debs_from.glob("*.deb")):
                shutil.copyfile(deb, repo / deb.name)
        add_own_packages(repo, say)
        say("  indexing the apt repository (Packages, Release)...")
        in_repo = write_index(repo)
        apt_contents = reproducible_tar(repo, root / "apt.tar")
        (root / "packages.json").write_text(json.dumps({"roles": by_role, "requested": packages,
                                                         "repository": in_repo}, indent=1) + "\n",
                                            encoding="utf-8")
        write_manifest(root, {
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "topology": topology_name, "debian": "bookworm", "image": image,
            "wheel_platform": wheels["platform"], "wheel_digest": wheels["digest"],
            "contents": {"apt.tar": apt_contents, "wheelhouse.tar": tar_contents(root / "wheelhouse.tar")},
        })
        say(f"  writing {output}...")
        partial = output.with_name(output.name + ".partial")
        reproducible_tar(root, partial, f"{TOP}/")
        partial.replace(output)
    digest = write_checksum(output)
    return BundleResult(output, digest, output.stat().st_size, packages, in_repo, sorted(wheels["wheels"]),
                        time.monotonic() - started)


def all_packages_from(by_role: dict[str, list[str]]) -> list[str]:
    return sorted({p for names in by_role.values() for p in names})
