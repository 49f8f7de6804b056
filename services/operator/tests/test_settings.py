"""Settings: the literal env file format, precedence, and errors that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from oson_operator.cli import main as cli_main
from oson_operator.settings import ConfigurationError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "operator.env"
    path.write_text(text)
    return path


def test_values_are_literal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSON_DATABASE_PASSWORD", raising=False)
    path = write(tmp_path, "# comment\n\nOSON_DATABASE_PASSWORD=a'b\"c$d#e\\f${HOME} x\nOSON_WORKERS=3\n")
    settings = load_settings(path)
    assert settings.database_password.get_secret_value() == "a'b\"c$d#e\\f${HOME} x"
    assert settings.workers == 3


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "OSON_WORKERS=3\nOSON_BIND_PORT=9000\n")
    monkeypatch.setenv("OSON_WORKERS", "5")
    settings = load_settings(path)
    assert (settings.workers, settings.bind_port) == (5, 9000)


def test_env_file_variable_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSON_ENV_FILE", str(write(tmp_path, "OSON_BIND_PORT=8123\n")))
    assert load_settings().bind_port == 8123


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OSON_WORKRES=2\n", "OSON_WORKRES: unknown setting"),
        ("FOO=1\n", "operator.env:1: FOO is not an OSON_* setting"),
        ("OSON_WORKERS\n", "operator.env:1: expected OSON_NAME=value"),
        ("OSON_WORKERS=1\nOSON_WORKERS=2\n", "operator.env:2: OSON_WORKERS is set twice"),
        ("OSON_BIND_PORT=http\n", "OSON_BIND_PORT: Input should be a valid integer"),
        ("OSON_DATABASE_SSLMODE=maybe\n", "OSON_DATABASE_SSLMODE"),
        ("OSON_FORWARDED_ALLOW_IPS=*\n", "list the reverse proxies"),
    ],
)
def test_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=None) as caught:
        load_settings(write(tmp_path, text))
    assert message in str(caught.value)


def test_a_named_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings(tmp_path / "missing.env")


def test_check_config_rejects_an_empty_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("OSON_DATABASE_PASSWORD", raising=False)
    assert cli_main(["check-config", str(write(tmp_path, "OSON_WORKERS=2\n"))]) == 1
    assert "OSON_DATABASE_PASSWORD is empty" in capsys.readouterr().err
    assert cli_main(["check-config", str(write(tmp_path, "OSON_DATABASE_PASSWORD=s3cret\n"))]) == 0
    assert "s3cret" not in capsys.readouterr().out


def test_check_config_reads_the_document_signing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    monkeypatch.delenv("OSON_DATABASE_PASSWORD", raising=False)
    key_file = tmp_path / "document-signing-key.pem"
    key_file.write_text("not a key\n")
    env = write(tmp_path, f"OSON_DATABASE_PASSWORD=s3cret\nOSON_DOCUMENT_SIGNING_KEY_FILE={key_file}\n")
    assert cli_main(["check-config", str(env)]) == 1
    assert "OSON_DOCUMENT_SIGNING_KEY_FILE" in capsys.readouterr().err
    key_file.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    assert cli_main(["check-config", str(env)]) == 0
