"""`osonctl certs rotate` against the lab: every VM's certificate re-issued from the vaulted CA and every
TLS service moved onto it one member at a time, while the public VIP keeps answering; then the CA itself
replaced (`--ca`) and the old one retired (`--retire-previous-ca`).

Uses the session's lab (`running_lab` of lab_support):

    OSON_REUSE_LAB=1 .venv/bin/pytest -m lab tests/integration/test_lab_certs.py
"""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography import x509
from lab_support import ARTIFACTS, Lab, osonctl, record_figure

from appliance import lab
from appliance.paths import LAB_INVENTORY
from appliance.topology import HostRole

pytestmark = [pytest.mark.lab, pytest.mark.timeout(1200)]


def _served_serial(address: str, context: ssl.SSLContext) -> int:
    """The serial of the certificate the VIP serves, verified against the appliance CA."""
    with socket.create_connection((address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=address) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def _serials(listing: str) -> dict[str, str]:
    rows = json.loads(listing)
    assert rows and not [row for row in rows if "error" in row], rows
    return {row["host"]: row["serial"] for row in rows}


Health = Callable[[], tuple[int, dict[str, object]]]


@dataclass(frozen=True)
class Answer:
    """One health check during a rotation: seconds since it started, the status and the body."""

    seconds: float
    status: int
    body: dict[str, object]


def _rotate_while_probing(health: Health, *args: str, log: str) -> tuple[float, list[Answer]]:
    """Run `osonctl certs rotate` with ``args`` while ``health`` is checked every half second; the
    rotation's seconds and the answers (the first one at the rotation's start)."""
    answers: list[Answer] = []
    stop = threading.Event()
    started = time.monotonic()

    def probe() -> None:
        while not stop.is_set():
            status, body = health()
            answers.append(Answer(round(time.monotonic() - started, 1), status, body))
            time.sleep(0.5)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    try:
        rotated = osonctl("certs", "rotate", "-i", str(LAB_INVENTORY), *args, log=log)
    finally:
        stop.set()
        prober.join(timeout=10)
    assert rotated.returncode == 0, rotated.stdout[-3000:] + rotated.stderr
    return time.monotonic() - started, answers


def _failed(answers: list[Answer]) -> list[Answer]:
    return [answer for answer in answers if answer.status != 200]


# Patroni's lines about the leader lock, demotions and promotions, and PostgreSQL starting or stopping.
DATABASE_EVENT = re.compile(r"demot|promot|leader lock|DCS|not yet accepting|starting up|shutting down|"
                            r"database system is ready|Loop time exceeded", re.I)


def _database_events(running_lab: Lab, since: float) -> list[str]:
    """Patroni's journal on each database VM since ``since`` (epoch seconds), reduced to DATABASE_EVENT lines:
    what a failed health check is first read against."""
    events: list[str] = []
    for host in running_lab.topology.hosts_with_role(HostRole.DB):
        journal = subprocess.run(
            ["podman", "exec", running_lab.container(host), "journalctl", "-u", "patroni", "--no-pager",
             "-o", "short-iso-precise", "--since", f"@{int(since)}"],
            capture_output=True, text=True, timeout=60, check=False)
        events += [line for line in journal.stdout.splitlines() if DATABASE_EVENT.search(line)]
    return events


def _assert_every_check_answered(answers: list[Answer], log: str, running_lab: Lab, since: float) -> None:
    """Every check answered 200; otherwise name each failure, when it came and what it said, with the
    database VMs' events meanwhile (all of them in artifacts/<log>.database-events), to be read beside the
    rotation's log (artifacts/<log>)."""
    failed = _failed(answers)
    if answers and not failed:
        return
    events = _database_events(running_lab, since)
    (ARTIFACTS / f"{log}.database-events").write_text("\n".join(events) + "\n", encoding="utf-8")
    raise AssertionError(
        f"{len(failed)} of {len(answers)} health checks failed (see artifacts/{log}): "
        + "; ".join(f"at {a.seconds} s: {a.status} {json.dumps(a.body)[:300]}" for a in failed)
        + "\ndatabase events meanwhile (first 40):\n" + "\n".join(events[:40])
    )


def test_rotation_reissues_every_certificate_while_the_vip_keeps_answering(running_lab: Lab) -> None:
    vip = str(running_lab.topology.vips["public"].address)
    appliance_ca = ssl.create_default_context(cafile=str(running_lab.ca_file))
    served_before = _served_serial(vip, appliance_ca)
    listed = osonctl("certs", "list", "-i", str(LAB_INVENTORY), "--json", log="certs-list-before.log")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    before = _serials(listed.stdout)
    assert set(before) == set(running_lab.topology.hosts)

    # Health through the VIP every half second while the rotation reloads each TLS service in turn.
    since = time.time()
    seconds, answers = _rotate_while_probing(lambda: running_lab.health(timeout=5), log="certs-rotate.log")
    record_figure("certs_rotate_seconds", round(seconds, 1))

    after = _serials(osonctl("certs", "list", "-i", str(LAB_INVENTORY), "--json", log="certs-list-after.log").stdout)
    assert set(after) == set(before)
    assert [host for host in before if after[host] == before[host]] == [], "certificates not re-issued"
    assert _served_serial(vip, appliance_ca) != served_before
    record_figure("certs_rotate_failed_health_checks", f"{len(_failed(answers))} of {len(answers)}")
    _assert_every_check_answered(answers, "certs-rotate.log", running_lab, since)
    # The database path still uses TLS end to end: the service reaches a primary.
    status, body = running_lab.health(timeout=10)
    assert status == 200 and body["database"]["role"] == "primary", body  # type: ignore[index]


def _verifies(address: str, ca_pem: str) -> bool:
    """Whether the certificate the VIP serves verifies against ``ca_pem`` alone."""
    context = ssl.create_default_context(cadata=ca_pem)
    try:
        _served_serial(address, context)
    except ssl.SSLCertVerificationError:
        return False
    return True


def _health_unverified(url: str) -> tuple[int, dict[str, object]]:
    """The health status and body through the VIP, whichever CA issued its certificate: the hops behind it
    verify theirs."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return int(error.code), json.loads(body or b"{}")
        except json.JSONDecodeError:
            return int(error.code), {"text": body.decode(errors="replace")[:300]}
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        return 0, {"error": str(error)}


def _trusted_cas() -> dict[str, int]:
    listed = osonctl("certs", "list", "-i", str(LAB_INVENTORY), "--json", log="certs-list-ca.log")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return {row["host"]: row["trusted_cas"] for row in json.loads(listed.stdout)}


def test_a_ca_rotation_moves_every_vm_to_a_new_ca_and_then_retires_the_old_one(running_lab: Lab) -> None:
    """`certs rotate --ca`, then `--retire-previous-ca` (docs/tls.md): the VIP keeps answering throughout, every
    VM trusts both CAs during the overlap and only the new one after it, and the public certificate moves to
    the new CA. The lab's CA file is rewritten from the vault afterwards, as `osonctl lab up` would."""
    vip = str(running_lab.topology.vips["public"].address)
    hosts = set(running_lab.topology.hosts)
    old_ca = running_lab.ca_file.read_text(encoding="utf-8")
    try:
        url = lab.public_health_url(running_lab.topology)
        since = time.time()
        seconds, answers = _rotate_while_probing(lambda: _health_unverified(url), "--ca", log="certs-rotate-ca.log")
        _assert_every_check_answered(answers, "certs-rotate-ca.log", running_lab, since)
        record_figure("certs_rotate_ca_seconds", round(seconds, 1))
        new_ca = lab.lab_ca_file(running_lab.topology).read_text(encoding="utf-8")
        assert new_ca != old_ca
        assert _trusted_cas() == dict.fromkeys(hosts, 2)
        assert _verifies(vip, new_ca) and not _verifies(vip, old_ca)

        since = time.time()
        seconds, more = _rotate_while_probing(lambda: _health_unverified(url), "--retire-previous-ca",
                                              log="certs-retire-ca.log")
        _assert_every_check_answered(more, "certs-retire-ca.log", running_lab, since)
        record_figure("certs_retire_previous_ca_seconds", round(seconds, 1))
        record_figure("certs_ca_rotation_health_checks", len(answers) + len(more))
        assert _trusted_cas() == dict.fromkeys(hosts, 1)
        assert _verifies(vip, new_ca)
        # The whole path behind the VIP, TLS to the database included, works on the new CA alone.
        status, body = running_lab.health(timeout=10)
        assert status == 200 and body["database"]["role"] == "primary", body  # type: ignore[index]
    finally:
        lab.lab_ca_file(running_lab.topology)
