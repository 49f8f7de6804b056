#!/usr/bin/env python3
"""Build the appliance's pgBackRest package on the control node (run by the pgbackrest role).

    build_package.py --dest .build/debs [--mirror URL]

The appliance installs Debian 12's pgBackRest 2.45 with changes of its own (``package/*.patch`` beside
this script: query results are waited for on the connection's socket, not polled every 100 ms; a backup
looks for its WAL in the archive sooner and checks it while waiting for the copy start's second).
The build takes Debian's source package of that exact version from a Debian mirror, checks it against
the checksums pinned below, adds the patches to its quilt series and a changelog entry for the
version ``VERSION``, and runs ``dpkg-buildpackage``. Only the ``pgbackrest`` binary package is kept.

The last line of stdout is JSON: ``changed`` (whether this run built the package), ``deb`` (its
path), ``package``, ``version`` and ``digest`` (of everything that went into the build). A build
with the same inputs is not repeated: its package under ``--dest`` is reused, so a redeploy needs
neither the mirror nor a compiler. Progress goes to stderr.

The build dependencies (a C compiler, the -dev packages Debian's source names) are installed with
``apt-get build-dep`` when missing, which needs root; otherwise the error names the command to run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

PACKAGE = "pgbackrest"
UPSTREAM_VERSION = "2.45"
DEBIAN_VERSION = "2.45-1"
# Debian's version plus the appliance's suffix: sorts above Debian's package, so apt keeps ours.
VERSION = "2.45-1+oson2"
# The source package of Debian 12 (bookworm), from its .dsc (Checksums-Sha256).
SOURCE_FILES = {
    "pgbackrest_2.45-1.dsc": "c205fe9716243aca71085f7e709c7a4bb0e41fdf3e4d97364ce5457c7877380a",
    "pgbackrest_2.45.orig.tar.gz": "1f0a51de94df06dcaec3f44a00e4b819d562f9dc7d3705361d01736973241c93",
    "pgbackrest_2.45-1.debian.tar.xz": "471119c20117c93207deaaa4272284b87c6a56fef9253df63a05efe966364f7e",
}
POOL = "pool/main/p/pgbackrest"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PATCH_DIR = Path(__file__).resolve().parent / "package"
CHANGELOG_ENTRY = """pgbackrest ({version}) bookworm; urgency=medium

  * OSON appliance build of Debian's {debian}:
{changes}

 -- OSON Appliance <appliance@oson.invalid>  Sun, 22 Nov 2026 00:00:00 +0000

"""


class BuildError(RuntimeError):
    """The package could not be built; the message says what to do."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def patches() -> list[Path]:
    found = sorted(PATCH_DIR.glob("*.patch"))
    if not found:
        raise BuildError(f"no patches in {PATCH_DIR}: the role's files are incomplete")
    return found


def build_digest() -> str:
    """Digest of every input: the pinned source, the patches, the version and this recipe."""
    digest = hashlib.sha256(f"{VERSION}\n".encode())
    for name, checksum in sorted(SOURCE_FILES.items()):
        digest.update(f"{name} {checksum}\n".encode())
    for patch in patches():
        digest.update(patch.name.encode() + b"\n" + patch.read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def deb_name() -> str:
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()
    return f"{PACKAGE}_{VERSION}_{arch}.deb"


def fetch_source(mirror: str, dest: Path) -> None:
    for name, checksum in SOURCE_FILES.items():
        url = f"{mirror.rstrip('/')}/{POOL}/{name}"
        say(f"  fetching {url}")
        try:
            with urllib.request.urlopen(url, timeout=120) as response, (dest / name).open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError) as error:
            raise BuildError(f"cannot fetch {url}: {error}. The build needs Debian's source package once; give "
                             "a reachable mirror with --mirror (or OSON_DEBIAN_MIRROR).") from None
        if sha256(dest / name) != checksum:
            raise BuildError(f"{url} does not match its pinned checksum: the mirror serves something else than "
                             f"Debian's {DEBIAN_VERSION}. Use another mirror.")


def run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
        raise BuildError(f"{what} failed ({' '.join(argv)}):\n{tail}")


def prepare_tree(work: Path) -> Path:
    """Unpack the source, add the patches to its series and the appliance's changelog entry."""
    run(["dpkg-source", "--no-check", "-x", f"{PACKAGE}_{DEBIAN_VERSION}.dsc", "src"], work, "unpacking the source")
    tree = work / "src"
    series = tree / "debian" / "patches" / "series"
    series.parent.mkdir(parents=True, exist_ok=True)
    names = series.read_text(encoding="utf-8").splitlines() if series.exists() else []
    changes = []
    for patch in patches():
        shutil.copyfile(patch, series.parent / patch.name)
        names.append(patch.name)
        summary = next((line.split(":", 1)[1].strip() for line in patch.read_text(encoding="utf-8").splitlines()
                        if line.startswith("Description:")), patch.name)
        changes.append(f"    - {summary} ({patch.name})")
    series.write_text("\n".join(names) + "\n", encoding="utf-8")
    changelog = tree / "debian" / "changelog"
    changelog.write_text(CHANGELOG_ENTRY.format(version=VERSION, debian=DEBIAN_VERSION, changes="\n".join(changes))
                         + changelog.read_text(encoding="utf-8"), encoding="utf-8")
    # Apply now: a patch that no longer fits fails here, named, not halfway through the build.
    run(["dpkg-source", "--before-build", "."], tree, "applying the appliance's patches")
    return tree


def ensure_build_dependencies(tree: Path) -> None:
    check = subprocess.run(["dpkg-checkbuilddeps"], cwd=tree, capture_output=True, text=True, check=False)
    if check.returncode == 0:
        return
    missing = check.stderr.strip().partition("Unmet build dependencies:")[2].strip() or check.stderr.strip()
    if os.geteuid() != 0:
        raise BuildError(f"the build needs these Debian packages: {missing}. Install them as root "
                         f"(apt-get install {missing}) and run again.")
    say(f"  installing the build dependencies: {missing}")
    run(["apt-get", "build-dep", "-y", "-q", "--no-install-recommends", "."], tree,
        "installing the build dependencies", env={"DEBIAN_FRONTEND": "noninteractive"})


def build(dest: Path, mirror: str) -> dict[str, object]:
    for tool in ("dpkg-source", "dpkg-buildpackage", "dpkg-checkbuilddeps"):
        if shutil.which(tool) is None:
            raise BuildError(f"{tool} not found: apt-get install dpkg-dev (scripts/host-setup.sh installs it)")
    digest = build_digest()
    target_dir = dest / f"{PACKAGE}-{digest[:16]}"
    target = target_dir / deb_name()
    report: dict[str, object] = {"package": PACKAGE, "version": VERSION, "digest": digest, "deb": str(target)}
    if target.is_file():
        return {**report, "changed": False}
    say(f"==> building {PACKAGE} {VERSION} (Debian's {DEBIAN_VERSION} and {len(patches())} appliance patch(es))")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{PACKAGE}-build-", dir=dest) as work_name:
        work = Path(work_name)
        fetch_source(mirror, work)
        tree = prepare_tree(work)
        ensure_build_dependencies(tree)
        say("  compiling (dpkg-buildpackage, about a minute)...")
        jobs = max(1, len(os.sched_getaffinity(0)))
        run(["dpkg-buildpackage", "-B", "-us", "-uc"], tree, "the package build",
            env={"DEB_BUILD_OPTIONS": f"nocheck noddebs parallel={jobs}"})
        built = work / deb_name()
        if not built.is_file():
            raise BuildError(f"dpkg-buildpackage made no {built.name}; see its output above")
        partial = target_dir.with_name(target_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        shutil.copyfile(built, partial / built.name)
        shutil.rmtree(target_dir, ignore_errors=True)
        partial.rename(target_dir)
    for old in dest.glob(f"{PACKAGE}-*"):
        if old.is_dir() and old != target_dir:
            shutil.rmtree(old, ignore_errors=True)
    say(f"  built {target}")
    return {**report, "changed": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, required=True, help="directory for the built package (a cache)")
    parser.add_argument("--mirror", default=os.environ.get("OSON_DEBIAN_MIRROR") or DEFAULT_MIRROR,
                        help=f"Debian mirror to fetch the source package from (default {DEFAULT_MIRROR})")
    args = parser.parse_args(argv)
    try:
        report = build(args.dest.resolve(), args.mirror)
    except BuildError as error:
        print(f"building {PACKAGE} {VERSION} failed: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
