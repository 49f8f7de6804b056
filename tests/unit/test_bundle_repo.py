"""The bundle's apt repository index: real packages built with dpkg-deb, read back by the real apt."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.bundle.repo import RepoError, write_index


def _deb(where: Path, name: str, version: str, depends: str = "") -> Path:
    tree = where / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "usr/share/doc" / name).mkdir(parents=True)
    (tree / "usr/share/doc" / name / "README").write_text(f"{name} {version}\n")
    control = [f"Package: {name}", f"Version: {version}", "Architecture: all", "Maintainer: OSON <ops@oson.local>",
               "Section: misc", "Priority: optional"]
    if depends:
        control.append(f"Depends: {depends}")
    control.append(f"Description: test package {name}\n a second line of the description")
    (tree / "DEBIAN/control").write_text("\n".join(control) + "\n")
    out = where / "repo" / f"{name}_{version}_all.deb"
    out.parent.mkdir(exist_ok=True)
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(tree), str(out)], check=True,
                   capture_output=True)
    return out


def _apt(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """apt against only this repository, with its state in `tmp` (the machine's apt is not touched)."""
    state = tmp / "apt-state"
    (state / "lists/partial").mkdir(parents=True, exist_ok=True)
    (state / "cache/archives/partial").mkdir(parents=True, exist_ok=True)
    (tmp / "sources.list").write_text(f"deb [trusted=yes] file:{tmp / 'repo'} ./\n")
    options = [f"-oDir::Etc::SourceList={tmp / 'sources.list'}", "-oDir::Etc::SourceParts=/nonexistent",
               f"-oDir::State::Lists={state / 'lists'}", f"-oDir::Cache={state / 'cache'}",
               "-oDebug::NoLocking=1"]
    return subprocess.run([args[0], *options, *args[1:]], capture_output=True, text=True, cwd=tmp, check=False)


def test_apt_reads_the_index_and_fetches_by_checksum(tmp_path: Path) -> None:
    _deb(tmp_path, "oson-test-a", "1.0-1", depends="oson-test-b (>= 2)")
    _deb(tmp_path, "oson-test-b", "2.1-1")
    assert write_index(tmp_path / "repo") == ["oson-test-a", "oson-test-b"]
    release = (tmp_path / "repo/Release").read_text()
    assert "SHA256:" in release and " Packages.gz" in release
    update = _apt(tmp_path, "apt-get", "update")
    assert update.returncode == 0 and "Err" not in update.stdout, update.stdout + update.stderr
    show = _apt(tmp_path, "apt-cache", "show", "oson-test-a")
    assert "Depends: oson-test-b (>= 2)" in show.stdout and "a second line of the description" in show.stdout
    fetched = _apt(tmp_path, "apt-get", "download", "oson-test-b")
    assert fetched.returncode == 0 and (tmp_path / "oson-test-b_2.1-1_all.deb").exists(), fetched.stderr


def test_a_package_changed_after_indexing_is_refused_by_apt(tmp_path: Path) -> None:
    deb = _deb(tmp_path, "oson-test-a", "1.0-1")
    write_index(tmp_path / "repo")
    assert _apt(tmp_path, "apt-get", "update").returncode == 0
    deb.write_bytes(deb.read_bytes() + b"tampered")
    fetched = _apt(tmp_path, "apt-get", "download", "oson-test-a")
    assert fetched.returncode != 0 and ("Hash Sum mismatch" in fetched.stderr or "Size mismatch" in fetched.stderr)


def test_same_packages_same_index(tmp_path: Path) -> None:
    _deb(tmp_path, "oson-test-a", "1.0-1")
    write_index(tmp_path / "repo")
    first = (tmp_path / "repo/Packages.gz").read_bytes()
    write_index(tmp_path / "repo")
    assert (tmp_path / "repo/Packages.gz").read_bytes() == first


def test_an_empty_or_broken_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    with pytest.raises(RepoError, match=r"no \.deb"):
        write_index(tmp_path / "repo")
    (tmp_path / "repo/broken_1_all.deb").write_bytes(b"not a package")
    with pytest.raises(RepoError, match=r"broken_1_all\.deb is not a readable Debian package"):
        write_index(tmp_path / "repo")
