"""Certificates: what `osonctl certs list` reads from openssl, and the CA rotation with its overlap.

The overlap is checked with OpenSSL itself: during a CA rotation the VMs' bundle (the new CA, then
the previous one, as the pki role writes it) verifies host certificates of both generations, and once
the previous CA is retired a certificate it issued no longer verifies.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance import certs, secrets
from appliance.topology import Topology, load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def topology() -> Topology:
    return load_topology(ROOT / "inventory" / "lab" / "topology.yml")


@pytest.fixture()
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, topology: Topology) -> Path:
    monkeypatch.setenv("OSON_VAULT_PASSWORD_FILE", str(tmp_path / "vault-pass"))
    inventory = tmp_path / "inventory"
    secrets.ensure_secrets(inventory, topology)
    return inventory


def _host_cert(ca_cert_pem: str, ca_key_pem: str, name: str) -> bytes:
    """A host certificate signed the way the pki role signs (ECDSA P-256, serverAuth, AKI of the CA)."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name), x509.DNSName("pay.oson.lab")]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


def _verifies(bundle: str, cert: bytes, tmp_path: Path) -> bool:
    (tmp_path / "bundle.crt").write_text(bundle, encoding="ascii")
    (tmp_path / "host.crt").write_bytes(cert)
    done = subprocess.run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", str(tmp_path / "bundle.crt"),
                           str(tmp_path / "host.crt")], capture_output=True, text=True, timeout=30, check=False)
    return done.returncode == 0


def test_openssl_output_is_read_into_the_listing_fields(tmp_path: Path, inventory: Path,
                                                         topology: Topology) -> None:
    assert shutil.which("openssl"), "install openssl"
    vault = secrets.load_secrets(inventory, topology)
    (tmp_path / "host.crt").write_bytes(_host_cert(vault["vault_pki_ca_cert_pem"], vault["vault_pki_ca_key_pem"],
                                                   "oson1"))
    text = subprocess.run(["openssl", "x509", "-noout", "-subject", "-issuer", "-serial", "-startdate", "-enddate",
                           "-fingerprint", "-sha256", "-ext", "subjectAltName", "-in", str(tmp_path / "host.crt")],
                          capture_output=True, text=True, check=True, timeout=30).stdout
    fields = certs.parse_x509_text(text)
    assert fields["subject"] == "CN = oson1"
    assert fields["issuer"] == "O = OSON Appliance, CN = OSON osonlab CA"
    assert fields["sans"] == ["DNS:oson1", "DNS:pay.oson.lab"]
    assert certs.days_left(fields["not_after"]) in (823, 824)
    assert len(fields["fingerprint"].split(":")) == 32
    table = certs.format_table([{"host": "oson1", **fields, "trusted_cas": 2},
                                {"host": "oson2", "error": "unreachable"}])
    assert "oson1" in table and "DNS:pay.oson.lab" in table and "ERROR: unreachable" in table


def test_ca_rotation_keeps_the_old_ca_trusted_until_it_is_retired(tmp_path: Path, inventory: Path,
                                                                   topology: Topology) -> None:
    before = secrets.load_secrets(inventory, topology)
    old_cert = _host_cert(before["vault_pki_ca_cert_pem"], before["vault_pki_ca_key_pem"], "oson1")

    old_fp, new_fp = certs.rotate_ca_in_vault(inventory, topology)
    during = secrets.load_secrets(inventory, topology)
    assert old_fp == certs.ca_fingerprint(before["vault_pki_ca_cert_pem"]) != new_fp
    assert during[certs.PREVIOUS_CA_KEY] == before["vault_pki_ca_cert_pem"]
    assert during["vault_pki_ca_key_pem"] != before["vault_pki_ca_key_pem"]
    # Every other secret is untouched.
    changed = {k for k in before if before[k] != during.get(k)}
    assert changed == {"vault_pki_ca_cert_pem", "vault_pki_ca_key_pem"}
    new_cert = _host_cert(during["vault_pki_ca_cert_pem"], during["vault_pki_ca_key_pem"], "oson1")

    # The pki role's bundle during the overlap: the new CA, then the previous one.
    bundle = during["vault_pki_ca_cert_pem"].strip() + "\n" + during[certs.PREVIOUS_CA_KEY].strip() + "\n"
    assert _verifies(bundle, old_cert, tmp_path) and _verifies(bundle, new_cert, tmp_path)

    with pytest.raises(certs.CertsError, match="retire-previous-ca"):
        certs.rotate_ca_in_vault(inventory, topology)

    assert certs.retire_previous_ca_in_vault(inventory, topology) == old_fp
    after = secrets.load_secrets(inventory, topology)
    assert certs.PREVIOUS_CA_KEY not in after
    assert certs.retire_previous_ca_in_vault(inventory, topology) is None
    bundle = after["vault_pki_ca_cert_pem"].strip() + "\n"
    assert _verifies(bundle, new_cert, tmp_path)
    assert not _verifies(bundle, old_cert, tmp_path)


def _render_bundle(tmp_path: Path, ca_pem: str, previous_pem: str) -> str:
    """The pki role's ca.crt content, rendered by Ansible from the role's own vars file."""
    import json
    import sys

    playbook = tmp_path / "bundle.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n"
        f"  vars_files: [{ROOT / 'roles' / 'pki' / 'vars' / 'main.yml'}]\n"
        "  tasks:\n    - ansible.builtin.copy:\n        content: \"{{ pki_ca_bundle }}\"\n"
        f"        dest: {tmp_path / 'ca.crt'}\n        mode: \"0644\"\n", encoding="utf-8")
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps({"pki_ca_cert_pem": ca_pem, "pki_ca_previous_cert_pem": previous_pem,
                                     "ansible_python_interpreter": sys.executable}),
                         encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
                           str(playbook), "-e", f"@{variables}"], capture_output=True, text=True, timeout=120,
                          check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return (tmp_path / "ca.crt").read_text(encoding="ascii")


def test_the_pki_role_bundle_holds_the_ca_and_the_previous_ca_during_the_overlap(
        tmp_path: Path, inventory: Path, topology: Topology) -> None:
    before = secrets.load_secrets(inventory, topology)
    ca = before["vault_pki_ca_cert_pem"]
    # Outside a rotation the file is the CA certificate exactly as before (a converge changes nothing).
    assert _render_bundle(tmp_path, ca, "") == ca.strip() + "\n"
    old_cert = _host_cert(ca, before["vault_pki_ca_key_pem"], "oson1")
    certs.rotate_ca_in_vault(inventory, topology)
    during = secrets.load_secrets(inventory, topology)
    bundle = _render_bundle(tmp_path, during["vault_pki_ca_cert_pem"], during[certs.PREVIOUS_CA_KEY])
    assert bundle.count("-----BEGIN CERTIFICATE-----") == 2 and "\\n" not in bundle
    new_cert = _host_cert(during["vault_pki_ca_cert_pem"], during["vault_pki_ca_key_pem"], "oson1")
    assert _verifies(bundle, old_cert, tmp_path) and _verifies(bundle, new_cert, tmp_path)
