"""``oson-operator staff ...`` and ``oson-operator api-clients ...`` against the real database."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from access_support import access_client, api_client_headers, events_about, unique_login
from conftest import PostgresServer

from oson_operator.cli import main


@pytest.fixture()
def env_file(running_pg: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The runtime settings as an env file, the way the operator role writes them."""
    settings = running_pg.settings()
    path = tmp_path / "operator.env"
    path.write_text(
        f"OSON_DATABASE_HOST={settings.database_host}\n"
        f"OSON_DATABASE_PORT={settings.database_port}\n"
        f"OSON_DATABASE_NAME={settings.database_name}\n"
        f"OSON_DATABASE_USER={settings.database_user}\n"
        f"OSON_DATABASE_PASSWORD={settings.database_password.get_secret_value()}\n"
        "OSON_DATABASE_SSLMODE=disable\n",
        encoding="utf-8",
    )
    for name in list(os.environ):
        if name.upper().startswith("OSON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OSON_ENV_FILE", str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_bootstrap_the_first_administrator(
    running_pg: PostgresServer, env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    login = unique_login("root")
    code, out, err = run(capsys, "staff", "create", "--login", login, "--role", "admin", "--full-name", "First",
                         "--json")
    assert (code, err) == (0, "")
    created = json.loads(out)
    assert (created["login"], created["role"]) == (login, "admin")
    with access_client(running_pg.settings()) as client:
        first = client.post("/api/auth/login", json={"login": login, "password": created["temporary_password"]})
        assert first.status_code == 200, first.text
        assert (first.json()["must_change_password"], first.json()["totp_enrollment_required"]) == (True, True)

    code, out, err = run(capsys, "staff", "create", "--login", login.upper(), "--role", "operator")
    assert code == 1
    assert "LOGIN_TAKEN" in err

    code, out, err = run(capsys, "staff", "reset-password", "--login", login)
    assert code == 0, err
    temporary = out.strip().splitlines()[-1]
    assert temporary != created["temporary_password"] and len(temporary) == 19
    with access_client(running_pg.settings()) as client:
        old = client.post("/api/auth/login", json={"login": login, "password": created["temporary_password"]})
        assert old.status_code == 401
        new = client.post("/api/auth/login", json={"login": login, "password": temporary})
        assert new.json()["must_change_password"] is True

    assert run(capsys, "staff", "reset-password", "--login", "nobody-at-all")[0] == 1
    invalid = run(capsys, "staff", "create", "--login", "bad login", "--role", "auditor")
    assert invalid[0] == 1 and "LOGIN_INVALID" in invalid[2]
    actor = f"cli:{getpass.getuser()}"
    assert [(a, who) for a, _, who in events_about(running_pg.settings(), login) if a.startswith("staff.")] == [
        ("staff.create", actor), ("staff.reset_password", actor)]


def test_api_client_for_deploy_tooling(
    running_pg: PostgresServer, env_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique_login("lab")
    code, out, err = run(capsys, "api-clients", "create", "--name", name, "--participant-id", "p-1", "--json")
    assert code == 0, err
    created = json.loads(out)
    with access_client(running_pg.settings()) as client:
        me = client.get("/api/auth/me", headers=api_client_headers(created["client_id"], created["client_secret"]))
        assert me.status_code == 200, me.text
        assert me.json()["participant_id"] == "p-1"
    code, out, err = run(capsys, "api-clients", "create", "--name", name)
    assert code == 1 and "API_CLIENT_NAME_TAKEN" in err


def test_the_installed_entry_point_prints_id_and_secret(env_file: Path) -> None:
    name = unique_login("tool")
    result = subprocess.run([sys.executable, "-m", "oson_operator", "api-clients", "create", "--name", name],
                            capture_output=True, text=True, timeout=60, check=False,
                            env={**os.environ, "OSON_ENV_FILE": str(env_file)})
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["client_id"].startswith("oc_")
    assert len(lines["client_secret"]) == 43


def test_a_broken_configuration_is_reported(env_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file.write_text("OSON_DATABASE_PORT=not-a-port\n", encoding="utf-8")
    code, _, err = run(capsys, "staff", "create", "--login", "someone", "--role", "operator")
    assert code == 2
    assert "OSON_DATABASE_PORT" in err
