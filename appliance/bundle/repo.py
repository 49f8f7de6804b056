"""A flat Debian repository from a directory of .deb files: Packages, Packages.gz and Release.

What dpkg-scanpackages and apt-ftparchive write, from each package's control file (read with
dpkg-deb) and its checksums, so the bundle can be indexed on any Debian control node. Clients use
`deb [trusted=yes] file:<dir> ./`: apt still checks every index against Release and every package
against Packages (trusted=yes only skips the signature, there is none; the bundle's manifest is what
vouches for the files).
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import subprocess
from pathlib import Path

# Fields dpkg-scanpackages copies from the control file, in its order; the rest follow sorted.
FIELD_ORDER = ("Package", "Source", "Version", "Installed-Size", "Maintainer", "Architecture", "Replaces",
               "Provides", "Depends", "Pre-Depends", "Recommends", "Suggests", "Conflicts", "Breaks", "Enhances")
SKIPPED_FIELDS = ("Description", "Filename", "Size", "MD5sum", "SHA1", "SHA256")


class RepoError(RuntimeError):
    pass


def file_hashes(path: Path) -> dict[str, str]:
    digests = {"MD5sum": hashlib.md5(usedforsecurity=False), "SHA1": hashlib.sha1(usedforsecurity=False),
               "SHA256": hashlib.sha256()}
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            for d in digests.values():
                d.update(chunk)
    return {k: d.hexdigest() for k, d in digests.items()}


def control_fields(deb: Path) -> tuple[list[tuple[str, str]], str]:
    """(field, value) pairs of a .deb's control file, and its Description (kept last, as apt expects)."""
    proc = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RepoError(f"{deb.name} is not a readable Debian package: {proc.stderr.strip()}")
    fields: list[tuple[str, str]] = []
    for line in proc.stdout.splitlines():
        if line[:1] in (" ", "\t") and fields:
            name, value = fields[-1]
            fields[-1] = (name, value + "\n" + line)
        elif ":" in line:
            name, value = line.split(":", 1)
            fields.append((name, value.strip()))
    description = next((v for k, v in fields if k == "Description"), "")
    return [(k, v) for k, v in fields if k not in SKIPPED_FIELDS], description


def stanza(deb: Path, relative_to: Path) -> str:
    fields, description = control_fields(deb)
    ordered = sorted(fields, key=lambda kv: (FIELD_ORDER.index(kv[0]) if kv[0] in FIELD_ORDER else len(FIELD_ORDER),
                                            kv[0]))
    lines = [f"{k}: {v}" for k, v in ordered]
    lines.append(f"Filename: ./{deb.relative_to(relative_to).as_posix()}")
    lines.append(f"Size: {deb.stat().st_size}")
    lines += [f"{k}: {v}" for k, v in file_hashes(deb).items()]
    if description:
        lines.append(f"Description: {description}")
    return "\n".join(lines) + "\n"


def write_index(repo: Path, origin: str = "OSON appliance bundle", suite: str = "bookworm") -> list[str]:
    """Index every .deb in `repo`; returns the package names, sorted."""
    debs = sorted(repo.glob("*.deb"))
    if not debs:
        raise RepoError(f"{repo} holds no .deb files")
    stanzas = [stanza(d, repo) for d in debs]
    packages = "\n".join(stanzas).encode()
    (repo / "Packages").write_bytes(packages)
    # mtime 0: the same packages give the same Packages.gz, byte for byte.
    (repo / "Packages.gz").write_bytes(gzip.compress(packages, compresslevel=9, mtime=0))
    architectures = sorted({line.split(": ", 1)[1] for s in stanzas for line in s.splitlines()
                            if line.startswith("Architecture: ")} - {"all"}) or ["amd64"]
    release = [f"Origin: {origin}", f"Label: {origin}", f"Suite: {suite}", f"Codename: {suite}",
               f"Date: {email.utils.formatdate(usegmt=True)}", f"Architectures: {' '.join(architectures)} all",
               "Description: packages the appliance's roles install, for hosts without Internet access"]
    for field, algo in (("MD5Sum", "MD5sum"), ("SHA1", "SHA1"), ("SHA256", "SHA256")):
        release.append(f"{field}:")
        for name in ("Packages", "Packages.gz"):
            path = repo / name
            release.append(f" {file_hashes(path)[algo]} {path.stat().st_size:>16} {name}")
    (repo / "Release").write_text("\n".join(release) + "\n", encoding="utf-8")
    return sorted(s.split("\n", 1)[0].removeprefix("Package: ") for s in stanzas)
