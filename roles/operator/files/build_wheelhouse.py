#!/usr/bin/env python3
"""Build the oson-operator wheelhouse on the control node (run by the operator role).

    build_wheelhouse.py --source services/operator --dest .build/operator-wheelhouse

Builds the project wheel and the wheels of its dependencies, pinned by ``constraints.txt``, with
``pip wheel`` into a scratch directory, then brings ``--dest`` to exactly that set of wheels. The
last line of stdout is JSON: ``changed`` (whether any wheel in ``--dest`` was added, replaced or
removed), ``archive`` (``wheelhouse.tar``: the same wheels as one reproducible tar, which is what
the role copies), ``project_wheel``, ``wheels`` (name -> sha256), ``digest`` (of the whole set) and
``platform`` (``cp311-x86_64``: the targets must match it).

When the sources, the constraints and the interpreter are those of the last build and the wheels
in ``--dest`` are intact, pip is not run at all: a redeploy without changes needs no index.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

MANIFEST = ".manifest.json"
ARCHIVE = "wheelhouse.tar"
SOURCE_FILES = ("pyproject.toml", "README.md", "constraints.txt")
PACKAGE_DIR = "oson_operator"
PROJECT_PREFIX = "oson_operator-"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def platform_tag() -> str:
    return f"cp{sys.version_info[0]}{sys.version_info[1]}-{platform.machine()}"


def source_digest(source: Path) -> str:
    """Digest of everything that goes into the build: sources, constraints, interpreter."""
    digest = hashlib.sha256(platform_tag().encode())
    files = [source / name for name in SOURCE_FILES if (source / name).exists()]
    files += sorted(
        p for p in (source / PACKAGE_DIR).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(sha256(path).encode() + b"\0")
    return digest.hexdigest()


def set_digest(wheels: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{n}\0{h}\n" for n, h in sorted(wheels.items())).encode()).hexdigest()


def current_wheels(dest: Path) -> dict[str, str]:
    return {p.name: sha256(p) for p in sorted(dest.glob("*.whl"))} if dest.is_dir() else {}


def load_manifest(dest: Path) -> dict[str, object]:
    try:
        data = json.loads((dest / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_archive(dest: Path, wheels: dict[str, str]) -> None:
    """One reproducible tar of the wheel set (sorted, zero mtimes and owners): copied as one file."""
    scratch = dest / f".{ARCHIVE}.tmp"
    with tarfile.open(scratch, "w", format=tarfile.USTAR_FORMAT) as archive:
        for name in sorted(wheels):
            info = tarfile.TarInfo(name)
            info.size = (dest / name).stat().st_size
            info.mode = 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            with (dest / name).open("rb") as handle:
                archive.addfile(info, handle)
    os.replace(scratch, dest / ARCHIVE)


def pip_wheel(source: Path, out: Path) -> None:
    command = [
        sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
        # Dependencies come as published binary wheels only: nothing is compiled on the control node.
        "--only-binary", ":all:",
        "--constraint", str(source / "constraints.txt"),
        "--wheel-dir", str(out),
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"pip wheel failed ({result.returncode}): {' '.join(command)}\n{result.stdout}\n{result.stderr}\n"
            "Next: check that this control node reaches the package index (or its mirror) and that "
            "constraints.txt pins versions that exist for this Python."
        )


def build(source: Path, dest: Path, force: bool) -> dict[str, object]:
    if not (source / "pyproject.toml").exists():
        raise SystemExit(f"{source} has no pyproject.toml: pass the services/operator directory as --source")
    digest = source_digest(source)
    existing = current_wheels(dest)
    manifest = load_manifest(dest)
    archive_ok = (dest / ARCHIVE).is_file() and manifest.get("archive_sha256") == (
        sha256(dest / ARCHIVE) if (dest / ARCHIVE).is_file() else None
    )
    if (not force and archive_ok and manifest.get("source_digest") == digest
            and manifest.get("wheels") == existing):
        wheels = existing
        changed = False
    else:
        dest.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".wheelhouse-", dir=dest.parent))
        try:
            pip_wheel(source, scratch)
            built = {p.name: sha256(p) for p in sorted(scratch.glob("*.whl"))}
            changed = built != existing
            for name in existing.keys() - built.keys():
                (dest / name).unlink()
            for name, checksum in built.items():
                if existing.get(name) != checksum:
                    os.replace(scratch / name, dest / name)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        wheels = current_wheels(dest)
        if changed or not archive_ok:
            write_archive(dest, wheels)
        (dest / MANIFEST).write_text(
            json.dumps({"source_digest": digest, "wheels": wheels, "archive_sha256": sha256(dest / ARCHIVE)},
                       indent=1, sort_keys=True) + "\n"
        )
    projects = [name for name in wheels if name.startswith(PROJECT_PREFIX)]
    if len(projects) != 1:
        raise SystemExit(f"expected exactly one {PROJECT_PREFIX}*.whl in {dest}, found {projects}")
    return {
        "changed": changed,
        "dest": str(dest),
        "archive": str(dest / ARCHIVE),
        "platform": platform_tag(),
        "project_wheel": projects[0],
        "wheels": wheels,
        "digest": set_digest(wheels),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the services/operator directory")
    parser.add_argument("--dest", type=Path, required=True, help="wheelhouse directory to maintain")
    parser.add_argument("--force", action="store_true", help="run pip even if nothing seems to have changed")
    args = parser.parse_args()
    result = build(args.source.resolve(), args.dest.resolve(), args.force)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
