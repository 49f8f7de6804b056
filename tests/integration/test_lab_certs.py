"""`osonctl certs rotate` against the lab: every VM's certificate re-issued from the vaulted CA and every
TLS service moved onto it one member at a time, while the public VIP keeps answering.

Uses the session's lab (`running_lab` of lab_support):

    OSON_REUSE_LAB=1 .venv/bin/pytest -m lab tests/integration/test_lab_certs.py
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time

import pytest
from cryptography import x509
from lab_support import Lab, osonctl, record_figure

from appliance.paths import LAB_INVENTORY

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


def test_rotation_reissues_every_certificate_while_the_vip_keeps_answering(running_lab: Lab) -> None:
    vip = str(running_lab.topology.vips["public"].address)
    appliance_ca = ssl.create_default_context(cafile=str(running_lab.ca_file))
    served_before = _served_serial(vip, appliance_ca)
    listed = osonctl("certs", "list", "-i", str(LAB_INVENTORY), "--json", log="certs-list-before.log")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    before = _serials(listed.stdout)
    assert set(before) == set(running_lab.topology.hosts)

    # Health through the VIP every half second while the rotation reloads each TLS service in turn.
    answers: list[int] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            answers.append(running_lab.health(timeout=5)[0])
            time.sleep(0.5)

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    started = time.monotonic()
    try:
        rotated = osonctl("certs", "rotate", "-i", str(LAB_INVENTORY), log="certs-rotate.log")
    finally:
        stop.set()
        prober.join(timeout=10)
    assert rotated.returncode == 0, rotated.stdout[-3000:] + rotated.stderr
    record_figure("certs_rotate_seconds", round(time.monotonic() - started, 1))

    after = _serials(osonctl("certs", "list", "-i", str(LAB_INVENTORY), "--json", log="certs-list-after.log").stdout)
    assert set(after) == set(before)
    assert [host for host in before if after[host] == before[host]] == [], "certificates not re-issued"
    assert _served_serial(vip, appliance_ca) != served_before
    failed = [status for status in answers if status != 200]
    record_figure("certs_rotate_failed_health_checks", f"{len(failed)} of {len(answers)}")
    assert answers and not failed, f"{len(failed)} of {len(answers)} health checks failed: {sorted(set(failed))}"
    # The database path still uses TLS end to end: the service reaches a primary.
    status, body = running_lab.health(timeout=10)
    assert status == 200 and body["database"]["role"] == "primary", body  # type: ignore[index]
