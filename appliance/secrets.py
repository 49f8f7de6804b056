"""Secrets generated on first run into an ansible-vault file that is never committed.

Re-runs keep what exists and only add what is missing, so a second deploy never rotates a password
behind a running cluster's back.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets as pysecrets
import stat
from pathlib import Path

import yaml
from ansible.constants import DEFAULT_VAULT_ID_MATCH
from ansible.parsing.vault import VaultLib, VaultSecret
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from appliance.topology import Topology

PASSWORD_KEYS: tuple[str, ...] = (
    "vault_postgresql_superuser_password",
    "vault_postgresql_replication_password",
    "vault_postgresql_rewind_password",
    "vault_postgresql_oson_owner_password",
    "vault_postgresql_oson_app_password",
    "vault_patroni_restapi_password",
    "vault_operator_secret_key",
    # pgBackRest encrypts each repository with its own key; the keys live here, never in the backups.
    "vault_pgbackrest_repo1_cipher_pass",
    "vault_pgbackrest_repo2_cipher_pass",
)
CA_KEYS: tuple[str, str] = ("vault_pki_ca_cert_pem", "vault_pki_ca_key_pem")
# Signs the operator service's event-log checkpoints (Ed25519); auditors verify with its public key.
EVENT_SIGNING_KEY = "vault_operator_event_signing_key_pem"
# Signs the electronic documents the operator service sends to banks and issuers (Ed25519, §VII).
DOCUMENT_SIGNING_KEY = "vault_operator_document_signing_key_pem"
# Signs drill reports (Ed25519) on the control node; auditors verify them with its public key.
REPORT_SIGNING_KEY = "vault_report_signing_key_pem"
CA_VALIDITY_DAYS = 3650


class SecretsError(RuntimeError):
    pass


def state_dir(topology: Topology) -> Path:
    """Where control-node state that must not live in the repository is kept."""
    base = Path(os.environ.get("OSON_STATE_DIR", Path.home() / ".local" / "state" / "oson"))
    return base / topology.name


def vault_password_file(topology: Topology) -> Path:
    override = os.environ.get("OSON_VAULT_PASSWORD_FILE")
    return Path(override) if override else state_dir(topology) / "vault-pass"


def vault_file(inventory_dir: Path) -> Path:
    return inventory_dir / "group_vars" / "all" / "vault.yml"


def _new_password() -> str:
    # URL-safe so it can sit in connection strings and config files without quoting surprises.
    return pysecrets.token_urlsafe(32)


def new_ca(topology: Topology) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "OSON Appliance"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"OSON {topology.name} CA"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert_pem, key_pem


def _new_signing_key() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _vault(password_file: Path) -> VaultLib:
    secret = VaultSecret(password_file.read_bytes().strip())
    return VaultLib([(DEFAULT_VAULT_ID_MATCH, secret)])


def _ensure_password_file(path: Path, vault_exists: bool) -> None:
    if path.exists():
        return
    if vault_exists:
        raise SecretsError(
            f"the vault exists but its password file {path} is missing; restore that file "
            "(or set OSON_VAULT_PASSWORD_FILE to where it is) before deploying"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(pysecrets.token_urlsafe(48) + "\n", encoding="utf-8")
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def load_secrets(inventory_dir: Path, topology: Topology) -> dict[str, str]:
    path = vault_file(inventory_dir)
    if not path.exists():
        return {}
    data = yaml.safe_load(_vault(vault_password_file(topology)).decrypt(path.read_bytes()))
    return dict(data or {})


def ensure_secrets(inventory_dir: Path, topology: Topology) -> list[str]:
    """Create or complete the vault; returns the names of the secrets it generated."""
    path = vault_file(inventory_dir)
    pass_file = vault_password_file(topology)
    _ensure_password_file(pass_file, path.exists())
    current = load_secrets(inventory_dir, topology)
    added: list[str] = []
    for key in PASSWORD_KEYS:
        if not current.get(key):
            current[key] = _new_password()
            added.append(key)
    if not all(current.get(k) for k in CA_KEYS):
        current[CA_KEYS[0]], current[CA_KEYS[1]] = new_ca(topology)
        added.extend(CA_KEYS)
    for key in (EVENT_SIGNING_KEY, DOCUMENT_SIGNING_KEY, REPORT_SIGNING_KEY):
        if not current.get(key):
            current[key] = _new_signing_key()
            added.append(key)
    if added:
        save_secrets(inventory_dir, topology, current)
    return added


def save_secrets(inventory_dir: Path, topology: Topology, secrets: dict[str, str]) -> None:
    """Encrypt `secrets` into the vault file, replacing it in one step (owner-only)."""
    path = vault_file(inventory_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = yaml.safe_dump(secrets, default_flow_style=False, sort_keys=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(_vault(vault_password_file(topology)).encrypt(plain))
    tmp.chmod(stat.S_IRUSR | stat.S_IWUSR)
    tmp.replace(path)


def ca_certificate(inventory_dir: Path, topology: Topology) -> str:
    return load_secrets(inventory_dir, topology)[CA_KEYS[0]]


def report_signing_key(inventory_dir: Path, topology: Topology) -> str:
    """The drill-report signing key (PEM, PKCS#8 Ed25519) from the vault."""
    key = load_secrets(inventory_dir, topology).get(REPORT_SIGNING_KEY)
    if not key:
        raise SecretsError(
            f"the vault of {inventory_dir} holds no {REPORT_SIGNING_KEY}; run a deploy (or `osonctl lab up`) "
            "once so that the missing secrets are generated"
        )
    return key
