"""testssl.sh against a real Apache configured from the apache role's templates, judged by appliance.audit.tls.

A throwaway Apache (Debian's apache2 on this machine, loopback, high ports) runs the role's
ports.conf, oson-hardening.conf and oson-site.conf rendered with the role's defaults. The scan of it
must pass; the same templates rendered with TLSv1.1 and CBC suites allowed must fail the scan with
those two problems named, so that a template that let them through would fail this test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.audit import tls

ROLE = Path(__file__).resolve().parents[2] / "roles" / "apache"
SNI = "pay.oson.test"
# (template, where the role installs it, the link that enables it)
FILES = (
    ("ports.conf.j2", "ports.conf", None),
    ("oson-hardening.conf.j2", "conf-available/oson-hardening.conf", "conf-enabled/oson-hardening.conf"),
    ("oson-site.conf.j2", "sites-available/oson.conf", "sites-enabled/oson.conf"),
)
# What a careless change would allow: TLSv1.1 (OpenSSL 3 needs security level 0 for it) and CBC suites.
WEAK = {
    "apache_tls_protocols": ["TLSv1.1", "TLSv1.2", "TLSv1.3"],
    "apache_tls12_ciphers": "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:"
                            "ECDHE-RSA-AES128-SHA:@SECLEVEL=0",
}

pytestmark = pytest.mark.timeout(240)


def _need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run `apt-get install -y apache2 testssl.sh`")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pki(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for SNI (ECDSA P-256, like the pki role's)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "throwaway test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
          .not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SNI)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.crt", directory / "host.crt", directory / "host.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


def _trusted(value: Any) -> Any:
    """The role's own defaults may hold templates (Ansible templates only what it is told to trust)."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return value


def _variables(work: Path, pki: tuple[Path, Path, Path], overrides: dict[str, Any]) -> dict[str, Any]:
    """The role's defaults, with this machine's loopback standing in for the web and app addresses."""
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text(encoding="utf-8"))
    variables: dict[str, Any] = {key: _trusted(value) for key, value in defaults.items()}
    docroot = Path(tempfile.mkdtemp(prefix="oson-docroot-", dir=work))
    docroot.chmod(0o755)
    variables.update({
        "ansible_managed": "rendered by the TLS scan test",
        "inventory_hostname": "web1",
        "oson_addresses": {"web": "127.0.0.1"},
        "oson_public_hostname": SNI,
        "apache_https_port": _free_port(),
        "apache_http_port": _free_port(),
        "apache_tls_ca_file": str(pki[0]),
        "apache_tls_cert_file": str(pki[1]),
        "apache_tls_key_file": str(pki[2]),
        "apache_document_root": str(docroot),
        "apache_health_dir": str(docroot),
        # The balancer points at a closed loopback port: no traffic leaves this machine.
        "groups": {"app": ["app1"]},
        "hostvars": {"app1": {"oson_addresses": {"app": "127.0.0.1"}}},
        "apache_app_port": _free_port(),
        **overrides,
    })
    return variables


def _render_tree(work: Path, variables: dict[str, Any]) -> Path:
    """A copy of Debian's /etc/apache2 set up as the role does, with the role's templates installed."""
    tree = work / "apache2"
    shutil.copytree("/etc/apache2", tree, symlinks=True)
    (tree / ".state").mkdir()
    env = dict(os.environ, APACHE_CONFDIR=str(tree), APACHE_STATE_DIRECTORY=str(tree / ".state"))
    for command in (["a2enmod", "-q", *variables["apache_modules_enabled"]],
                    ["a2dismod", "-q", "-f", *variables["apache_modules_disabled"]]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    for conf in variables["apache_confs_disabled"]:
        (tree / "conf-enabled" / f"{conf}.conf").unlink(missing_ok=True)
    for site in variables["apache_sites_disabled"]:
        (tree / "sites-enabled" / f"{site}.conf").unlink(missing_ok=True)
    templar = Templar(loader=DataLoader(), variables=variables)
    for template, dest, link in FILES:
        text = (ROLE / "templates" / template).read_text(encoding="utf-8")
        (tree / dest).write_text(str(templar.template(trust_as_template(text))), encoding="utf-8")
        if link is not None:
            (tree / link).unlink(missing_ok=True)
            (tree / link).symlink_to(Path("..") / dest)
    return tree


def _start_apache(tree: Path, work: Path, port: int) -> subprocess.Popen[bytes]:
    run = work / "run"
    logs = work / "log"
    for d in (run, logs):
        d.mkdir(exist_ok=True)
    env = dict(os.environ, APACHE_CONFDIR=str(tree), APACHE_RUN_USER="www-data", APACHE_RUN_GROUP="www-data",
               APACHE_PID_FILE=str(run / "apache2.pid"), APACHE_RUN_DIR=str(run), APACHE_LOCK_DIR=str(run),
               APACHE_LOG_DIR=str(logs), LANG="C")
    check = subprocess.run(["apache2", "-d", str(tree), "-t"], env=env, capture_output=True, text=True,
                           timeout=60, check=False)
    assert check.returncode == 0, f"apache2 -t rejected the rendered templates:\n{check.stderr}"
    proc = subprocess.Popen(["apache2", "-d", str(tree), "-DFOREGROUND"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"apache2 exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    _stop(proc)
    raise AssertionError("apache2 did not listen within 20 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _scan(tmp_path: Path, overrides: dict[str, Any]) -> Iterator[tls.TlsScan]:
    _need("apache2", "a2enmod", "testssl")
    pki = _pki(tmp_path)
    variables = _variables(tmp_path, pki, overrides)
    tree = _render_tree(tmp_path, variables)
    port = int(variables["apache_https_port"])
    proc = _start_apache(tree, tmp_path, port)
    try:
        yield tls.run_testssl("127.0.0.1", port, ca_file=pki[0], sni=SNI, timeout=180)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def policy_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tls.TlsScan]:
    yield from _scan(tmp_path_factory.mktemp("tls-policy"), {})


@pytest.fixture(scope="module")
def weak_scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tls.TlsScan]:
    yield from _scan(tmp_path_factory.mktemp("tls-weak"), WEAK)


def test_the_role_templates_pass_the_tls_policy(policy_scan: tls.TlsScan) -> None:
    assert policy_scan.problems == [], policy_scan.problems
    assert policy_scan.ok
    summary = policy_scan.summary
    for proto in tls.PROTOCOLS_REFUSED:
        assert "not offered" in summary[proto]
    assert "offered" in summary["TLS1_2"] and "not" not in summary["TLS1_2"]
    assert "offered" in summary.get("TLS1_3", "") and "not" not in summary["TLS1_3"]
    assert tls.hsts_seconds(summary["HSTS"]) == 63072000


def test_tls11_and_cbc_in_the_templates_fail_the_scan(weak_scan: tls.TlsScan) -> None:
    assert not weak_scan.ok
    text = "\n".join(weak_scan.problems)
    assert "TLS1_1 is offered" in text, weak_scan.problems
    assert "obsoleted CBC ciphers are offered" in text, weak_scan.problems
    assert "ECDHE-ECDSA-AES128-SHA: AES is not an AEAD cipher" in text, weak_scan.problems
    # Only what was weakened is reported: HSTS and the other checks still hold.
    assert "Strict-Transport-Security" not in text
    assert "did not report" not in text
