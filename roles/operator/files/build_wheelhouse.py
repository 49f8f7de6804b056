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

With ``--bundle FILE`` (an offline bundle of ``osonctl bundle``) the wheel set is taken from the
bundle instead, after checking it against the bundle's manifest; pip is never run.
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
    with tarfile.open(scratch, "w", format=tarfile.PAX_FORMAT) as archive:
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


BUNDLE_TOP = "oson-bundle/"


def _bundle_member(bundle: tarfile.TarFile, name: str) -> bytes:
    try:
        handle = bundle.extractfile(BUNDLE_TOP + name)
    except KeyError:
        handle = None
    if handle is None:
        raise SystemExit(f"the bundle has no {name}: rebuild it with `osonctl bundle`")
    return handle.read()


def from_bundle(bundle_file: Path, dest: Path) -> dict[str, object]:
    """The wheel set of an offline bundle, checked against its manifest, brought into ``dest``."""
    if not bundle_file.is_file():
        raise SystemExit(f"{bundle_file}: no such bundle (oson_bundle_file); build one with `osonctl bundle`")
    with tarfile.open(bundle_file) as bundle:
        manifest = json.loads(_bundle_member(bundle, "manifest.json"))
        report = json.loads(_bundle_member(bundle, "wheelhouse.json"))
        expected = manifest["files"]["wheelhouse.tar"]["sha256"]
        existing = current_wheels(dest)
        known = load_manifest(dest)
        changed = not (known.get("source_digest") == f"bundle:{expected}" and known.get("wheels") == existing
                       and (dest / ARCHIVE).is_file() and sha256(dest / ARCHIVE) == known.get("archive_sha256"))
        if changed:
            data = _bundle_member(bundle, "wheelhouse.tar")
            if hashlib.sha256(data).hexdigest() != expected:
                raise SystemExit(f"{bundle_file}: wheelhouse.tar does not match the bundle's manifest (damaged "
                                 "or altered): copy the bundle again")
            dest.mkdir(parents=True, exist_ok=True)
            for name in existing:
                (dest / name).unlink()
            (dest / ARCHIVE).write_bytes(data)
            with tarfile.open(dest / ARCHIVE) as wheels:
                for member in wheels.getmembers():
                    handle = wheels.extractfile(member)
                    if handle is None or "/" in member.name or not member.name.endswith(".whl"):
                        raise SystemExit(f"{bundle_file}: unexpected member {member.name!r} in wheelhouse.tar")
                    (dest / member.name).write_bytes(handle.read())
            (dest / MANIFEST).write_text(json.dumps(
                {"source_digest": f"bundle:{expected}", "wheels": current_wheels(dest),
                 "archive_sha256": sha256(dest / ARCHIVE)}, indent=1, sort_keys=True) + "\n")
    wheels = current_wheels(dest)
    if wheels != report["wheels"]:
        raise SystemExit(f"{bundle_file}: the unpacked wheels differ from the bundle's wheelhouse.json")
    return {
        "changed": changed,
        "dest": str(dest),
        "archive": str(dest / ARCHIVE),
        "platform": report["platform"],
        "project_wheel": report["project_wheel"],
        "wheels": wheels,
        "digest": set_digest(wheels),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the services/operator directory")
    parser.add_argument("--dest", type=Path, required=True, help="wheelhouse directory to maintain")
    parser.add_argument("--force", action="store_true", help="run pip even if nothing seems to have changed")
    parser.add_argument("--bundle", default="", help="take the wheels from this offline bundle instead of pip "
                        "(empty: build with pip)")
    args = parser.parse_args()
    if args.bundle:
        result = from_bundle(Path(args.bundle).resolve(), args.dest.resolve())
    else:
        result = build(args.source.resolve(), args.dest.resolve(), args.force)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
