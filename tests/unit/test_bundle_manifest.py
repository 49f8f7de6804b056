"""The bundle's manifest: sha256 of every file; a changed, missing or added file is named."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from appliance.bundle.build import reproducible_tar, tar_contents
from appliance.bundle.manifest import MANIFEST, sha256, verify, write_manifest


def _tree(root: Path) -> None:
    (root / "wheels").mkdir(parents=True)
    (root / "apt.tar").write_bytes(b"apt" * 1000)
    (root / "wheels/a-1.0-py3-none-any.whl").write_bytes(b"wheel")


def test_a_fresh_manifest_verifies(tmp_path: Path) -> None:
    _tree(tmp_path)
    manifest = write_manifest(tmp_path, {"topology": "osonlab"})
    assert set(manifest["files"]) == {"apt.tar", "wheels/a-1.0-py3-none-any.whl"}
    assert manifest["files"]["apt.tar"] == {"sha256": sha256(tmp_path / "apt.tar"), "size": 3000}
    assert json.loads((tmp_path / MANIFEST).read_text())["topology"] == "osonlab"
    assert verify(tmp_path) == []


def test_changed_missing_and_unlisted_files_are_named(tmp_path: Path) -> None:
    _tree(tmp_path)
    write_manifest(tmp_path, {})
    (tmp_path / "apt.tar").write_bytes(b"apt" * 999 + b"xyz")  # same size, other content
    (tmp_path / "wheels/a-1.0-py3-none-any.whl").unlink()
    (tmp_path / "extra.deb").write_bytes(b"?")
    assert verify(tmp_path) == ["apt.tar: sha256 differs from the manifest",
                                "wheels/a-1.0-py3-none-any.whl: missing", "extra.deb: not in the manifest"]


def test_no_manifest(tmp_path: Path) -> None:
    assert verify(tmp_path)[0].startswith("manifest.json: cannot read it")


def test_reproducible_tar_and_its_contents(tmp_path: Path) -> None:
    _tree(tmp_path / "src")
    # Longer than the 100 characters of a plain ustar name: real wheel names are.
    long_name = ("charset_normalizer-3.5.2-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64."
                 "manylinux_2_28_x86_64.whl")
    (tmp_path / "src/wheels" / long_name).write_bytes(b"long")
    listed = reproducible_tar(tmp_path / "src", tmp_path / "one.tar", "top/")
    reproducible_tar(tmp_path / "src", tmp_path / "two.tar", "top/")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    assert {f"top/{k}": v for k, v in listed.items()} == tar_contents(tmp_path / "one.tar")
    with tarfile.open(tmp_path / "one.tar") as tar:
        assert f"top/wheels/{long_name}" in tar.getnames()
        assert {m.mtime for m in tar.getmembers()} == {0}
