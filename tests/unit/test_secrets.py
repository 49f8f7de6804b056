"""Secrets: generated once into the vault, completed (never rotated) by later runs, usable as keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from appliance import secrets
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OSON_VAULT_PASSWORD_FILE", str(tmp_path / "vault-pass"))
    return tmp_path / "inventory"


def test_first_run_generates_every_secret_and_later_runs_keep_them(inventory: Path) -> None:
    topology = load_topology(ROOT / "inventory" / "lab" / "topology.yml")
    added = secrets.ensure_secrets(inventory, topology)
    assert set(added) == {*secrets.PASSWORD_KEYS, *secrets.CA_KEYS, secrets.EVENT_SIGNING_KEY,
                          secrets.DOCUMENT_SIGNING_KEY, secrets.REPORT_SIGNING_KEY}
    first = secrets.load_secrets(inventory, topology)
    assert secrets.ensure_secrets(inventory, topology) == []
    assert secrets.load_secrets(inventory, topology) == first
    assert b"$ANSIBLE_VAULT" in secrets.vault_file(inventory).read_bytes()[:20]

    keys = [load_pem_private_key(first[name].encode(), password=None)
            for name in (secrets.EVENT_SIGNING_KEY, secrets.DOCUMENT_SIGNING_KEY, secrets.REPORT_SIGNING_KEY)]
    assert all(isinstance(key, Ed25519PrivateKey) for key in keys)
    # One key per purpose: a leaked document key cannot forge event-log checkpoints or drill reports.
    assert len({first[secrets.EVENT_SIGNING_KEY], first[secrets.DOCUMENT_SIGNING_KEY],
                first[secrets.REPORT_SIGNING_KEY]}) == 3
    assert secrets.report_signing_key(inventory, topology) == first[secrets.REPORT_SIGNING_KEY]
    assert x509.load_pem_x509_certificate(first[secrets.CA_KEYS[0]].encode()).subject


def test_a_missing_secret_is_added_without_touching_the_others(inventory: Path) -> None:
    topology = load_topology(ROOT / "inventory" / "lab" / "topology.yml")
    secrets.ensure_secrets(inventory, topology)
    values = secrets.load_secrets(inventory, topology)
    del values[secrets.EVENT_SIGNING_KEY]
    vault = secrets._vault(secrets.vault_password_file(topology))
    secrets.vault_file(inventory).write_bytes(vault.encrypt(yaml.safe_dump(values)))
    assert secrets.ensure_secrets(inventory, topology) == [secrets.EVENT_SIGNING_KEY]
    after = secrets.load_secrets(inventory, topology)
    assert {k: v for k, v in after.items() if k != secrets.EVENT_SIGNING_KEY} == values


def test_the_report_signing_key_is_added_to_an_older_vault_and_missing_one_is_named(inventory: Path) -> None:
    topology = load_topology(ROOT / "inventory" / "lab" / "topology.yml")
    secrets.ensure_secrets(inventory, topology)
    values = secrets.load_secrets(inventory, topology)
    del values[secrets.REPORT_SIGNING_KEY]
    vault = secrets._vault(secrets.vault_password_file(topology))
    secrets.vault_file(inventory).write_bytes(vault.encrypt(yaml.safe_dump(values)))
    with pytest.raises(secrets.SecretsError, match=secrets.REPORT_SIGNING_KEY):
        secrets.report_signing_key(inventory, topology)
    assert secrets.ensure_secrets(inventory, topology) == [secrets.REPORT_SIGNING_KEY]
    after = secrets.load_secrets(inventory, topology)
    assert {k: v for k, v in after.items() if k != secrets.REPORT_SIGNING_KEY} == values
    assert isinstance(load_pem_private_key(secrets.report_signing_key(inventory, topology).encode(), None),
                      Ed25519PrivateKey)
