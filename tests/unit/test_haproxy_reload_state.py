"""The haproxy role's reload hands the servers' UP/DOWN states to the new worker (oson-haproxy-save-state),
so that a reload never sends database connections to the standby while the new worker's first checks
are pending. Checked with the real haproxy binary: a worker started from the saved states knows at once
which server is down; one started without them takes every server for UP."""

from __future__ import annotations

import http.server
import importlib.machinery
import importlib.util
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

from appliance.drills.local import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "roles/haproxy/files/oson-haproxy-save-state"

pytestmark = pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs haproxy (make setup installs it)")


def _load_script() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("oson_haproxy_save_state", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


save_state = _load_script()

# The columns of `show servers state` in HAProxy 2.6.
FIELDS = (
    "be_id be_name srv_id srv_name srv_addr srv_op_state",
    "srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result",
    "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn",
    "srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr",
    "srv_agent_port",
)
ROWS = """5 web_https 1 osonweb1 10.77.30.21 2 0 1 1 353 15 3 4 6 0 0 0 - 443 - 0 0 - - 0
5 web_https 2 osonweb2 10.77.30.22 2 0 1 1 354 15 3 4 6 0 0 0 - 443 - 0 0 - - 0
7 db_primary 1 osondb1 10.77.50.41 0 0 1 1 59 17 2 0 6 0 0 0 - 5432 - 0 8008 - - 8008
7 db_primary 2 osondb2 10.77.50.42 2 0 1 1 59 15 3 3 6 0 0 0 - 5432 - 0 8008 - - 8008
"""
STATE = "1\n# " + " ".join(FIELDS) + "\n" + ROWS

CONFIG = """global
    stats socket /run/haproxy/admin.sock mode 660 level admin
backend web_https
    # server osonweb9 10.77.30.29:443 is commented out
    server osonweb1 10.77.30.21:443 verifyhost osonweb1
    server osonweb2 10.77.30.22:4443 verifyhost osonweb2
backend db_primary
    default-server check port 8008
    server osondb1 10.77.50.41:5432 verifyhost osondb1
    server osondb2 10.77.50.99:5432 verifyhost osondb2
"""


def test_only_servers_whose_address_and_port_are_unchanged_keep_their_state() -> None:
    kept = save_state.states_to_keep(STATE, CONFIG).splitlines()
    assert kept[:2] == STATE.splitlines()[:2]
    # osonweb2 moves to port 4443 and osondb2 to another address: HAProxy would take the old port from a
    # state file, so they start afresh instead.
    assert [row.split()[3] for row in kept[2:]] == ["osonweb1", "osondb1"]


def test_an_unexpected_answer_is_refused() -> None:
    with pytest.raises(ValueError, match="unexpected answer"):
        save_state.states_to_keep("Unknown command\n", CONFIG)


def _config(tmp: Path, *, leader_port: int, standby_port: int, check: str) -> str:
    """One backend, balance first, checked like Patroni's /primary: the leader answers 200, the standby
    (listed first) never answers, so its check fails only when ``check`` (inter and timeout) runs out."""
    return f"""global
    stats socket {tmp}/admin.sock mode 600 level admin
    server-state-file {tmp}/server-state
defaults
    mode tcp
    load-server-state-from-file global
    timeout connect 1s
    timeout client 5s
    timeout server 5s
    timeout check {check}
frontend db_frontend
    bind 127.0.0.1:{free_port()}
    default_backend db_primary
backend db_primary
    balance first
    option httpchk
    default-server check inter {check} fall 1 rise 1
    server standby 127.0.0.1:{standby_port}
    server leader 127.0.0.1:{leader_port}
"""


class _Leader(http.server.BaseHTTPRequestHandler):
    def do_OPTIONS(self) -> None:
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def _haproxy(config: Path) -> Iterator[None]:
    process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (config.parent / "admin.sock").exists():
            assert process.poll() is None, f"haproxy exited: {process.stderr.read() if process.stderr else ''}"
            assert time.monotonic() < deadline, "haproxy opened no stats socket within 10 s"
            time.sleep(0.02)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        (config.parent / "admin.sock").unlink(missing_ok=True)


def _op_states(tmp: Path) -> dict[str, str]:
    """Server name -> srv_op_state (0 DOWN, 2 UP) as the running worker sees it."""
    rows = save_state.query(str(tmp / "admin.sock"), "show servers state").strip().splitlines()[2:]
    return {row.split()[3]: row.split()[5] for row in rows}


def _save(socket_path: Path, config: Path, state: Path) -> subprocess.CompletedProcess[str]:
    """Run the script as the reload does."""
    command = [str(SCRIPT), "--socket", str(socket_path), "--config", str(config), "--state", str(state)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_a_worker_started_from_the_saved_states_sends_nothing_to_a_down_server(tmp_path: Path) -> None:
    leader = http.server.HTTPServer(("127.0.0.1", 0), _Leader)
    threading.Thread(target=leader.serve_forever, daemon=True).start()
    leader_port = int(leader.server_address[1])
    # The standby accepts connections (the kernel's backlog) but never answers a check.
    with socket.create_server(("127.0.0.1", 0)) as standby:
        standby_port = int(standby.getsockname()[1])
        config = tmp_path / "haproxy.cfg"
        config.write_text(_config(tmp_path, leader_port=leader_port, standby_port=standby_port, check="100ms"))
        with _haproxy(config):
            deadline = time.monotonic() + 10
            while _op_states(tmp_path) != {"standby": "0", "leader": "2"}:
                assert time.monotonic() < deadline, f"checks never settled: {_op_states(tmp_path)}"
                time.sleep(0.05)
            saved = _save(tmp_path / "admin.sock", config, tmp_path / "server-state")
            assert saved.returncode == 0 and not saved.stderr, saved.stderr

        # The next worker's checks take 10 s to give up, so what it believes at first is what it was handed.
        config.write_text(_config(tmp_path, leader_port=leader_port, standby_port=standby_port, check="10s"))
        with _haproxy(config):
            assert _op_states(tmp_path) == {"standby": "0", "leader": "2"}

        # Without the states the same worker takes both servers for UP, and "balance first" sends every
        # new connection to the standby until its check gives up.
        (tmp_path / "server-state").unlink()
        with _haproxy(config):
            assert _op_states(tmp_path) == {"standby": "2", "leader": "2"}
    leader.shutdown()


def test_saving_never_fails_a_reload(tmp_path: Path) -> None:
    config = tmp_path / "haproxy.cfg"
    config.write_text(CONFIG)
    state = tmp_path / "server-state"
    state.write_text(STATE)  # a stale state from an earlier reload
    saved = _save(tmp_path / "no.sock", config, state)
    assert saved.returncode == 0
    assert "server states not saved" in saved.stderr
    assert not state.exists(), "a stale state file would be applied to the new worker"
