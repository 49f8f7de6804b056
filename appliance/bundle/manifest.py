"""The bundle's manifest: the sha256 and size of every file, checked before anything is used."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_file(archive: Path) -> Path:
    """The `<archive>.sha256` written next to the archive (`sha256sum -c` reads it)."""
    return archive.with_name(archive.name + ".sha256")


def write_checksum(archive: Path) -> str:
    digest = sha256(archive)
    checksum_file(archive).write_text(f"{digest}  {archive.name}\n", encoding="utf-8")
    return digest


def checksum_problem(archive: Path) -> str | None:
    """Why `archive` cannot be trusted (missing, no checksum file, or not matching it); None when it matches."""
    checksum = checksum_file(archive)
    if not archive.is_file() or not checksum.is_file():
        return f"{archive}: no bundle (or no {checksum.name} next to it)"
    if sha256(archive) != checksum.read_text(encoding="utf-8").split()[0]:
        return f"{archive} does not match {checksum.name}: damaged or changed"
    return None


def build_manifest(root: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Every regular file under `root` except the manifest itself, by POSIX path relative to it."""
    files = {p.relative_to(root).as_posix(): {"sha256": sha256(p), "size": p.stat().st_size}
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != MANIFEST}
    return {"format": 1, **meta, "files": files}


def write_manifest(root: Path, meta: dict[str, Any]) -> dict[str, Any]:
    manifest = build_manifest(root, meta)
    (root / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return manifest


def verify(root: Path) -> list[str]:
    """What does not match the manifest (missing, changed or unlisted files); empty when all is well."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        return [f"{MANIFEST}: cannot read it ({err})"]
    problems: list[str] = []
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    for name, entry in sorted(listed.items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.stat().st_size != entry["size"] or sha256(path) != entry["sha256"]:
            problems.append(f"{name}: sha256 differs from the manifest")
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if path.is_file() and path.name != MANIFEST and name not in listed:
            problems.append(f"{name}: not in the manifest")
    return problems
