"""The whole appliance in the one-machine lab: fresh converge, health through the VIP, Patroni
leader and sync standby, a no-change re-converge, and VM failures that lose no request.

Starts the lab itself (`osonctl lab down` then `osonctl lab up`) and removes it at the end
(set OSON_KEEP_LAB=1 to keep it for inspection, OSON_REUSE_LAB=1 to run against a lab that is up).
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from lab_support import ARTIFACTS, Lab, osonctl, record_figure

from appliance import lab
from appliance.drills.api import post_command, staff_session
from appliance.drills.lab_drills import make_drill_people
from appliance.drills.load import prepare_world
from appliance.paths import LAB_INVENTORY
from appliance.topology import HostRole

pytestmark = [pytest.mark.lab, pytest.mark.timeout(2400)]


def test_health_through_the_public_vip(running_lab: Lab) -> None:
    code, body = running_lab.health()
    assert code == 200, body
    database = body["database"]
    assert isinstance(database, dict)
    assert database["reachable"] is True and database["role"] == "primary"


def test_patroni_has_one_leader_and_one_sync_standby(running_lab: Lab) -> None:
    db = running_lab.topology.hosts_with_role(HostRole.DB)[0]
    address = running_lab.topology.hosts[db].addresses["db"]
    code, cluster = lab.https_get_json(f"https://{address}:8008/cluster", running_lab.ca_file)
    assert code == 200, cluster
    roles = sorted(m["role"] for m in cluster["members"])  # type: ignore[index, union-attr]
    assert roles == ["leader", "sync_standby"], cluster
    assert all(m["state"] in ("running", "streaming") for m in cluster["members"])  # type: ignore[union-attr]


def test_lab_status_reports_every_host_healthy(running_lab: Lab) -> None:
    proc = osonctl("lab", "status", "--json", log="lab-status.log")
    rows = json.loads(proc.stdout)
    assert {r["host"] for r in rows} == set(running_lab.topology.hosts)
    assert all(r["health"] == "healthy" for r in rows), rows
    assert proc.returncode == 0


def test_firewalls_let_every_policy_flow_through_and_block_a_denied_sample(running_lab: Lab) -> None:
    """Real connects from inside the VMs (and from this machine, `outside`): the VMs' nftables and the
    lab's filter between its networks allow exactly the policy's flows."""
    proc = osonctl("firewall", "test", "-i", str(LAB_INVENTORY), "--json", log="firewall-test.log")
    report = json.loads(proc.stdout)
    wrong = [p for p in report["probes"] if not p["ok"]]
    assert proc.returncode == 0 and report["ok"], f"probes that went the wrong way: {wrong}"
    summary = report["summary"]
    assert summary.get("allow_ok", 0) >= 15 and summary.get("deny_ok", 0) >= 5, summary
    record_figure("firewall flow test (allowed flows connected / denied flows blocked)",
                  f"{summary.get('allow_ok', 0)} / {summary.get('deny_ok', 0)}")


def test_second_converge_changes_nothing(running_lab: Lab) -> None:
    result = lab.converge(running_lab.topology, LAB_INVENTORY, quiet=True)
    record_figure("no-change re-converge seconds", round(result.seconds, 1))
    assert result.ok, f"re-converge failed, see {result.log_file}"
    assert set(result.recap) == {*running_lab.topology.hosts, "localhost"}
    changed = {host: r.changed for host, r in result.recap.items() if r.changed}
    assert changed == {}, f"second converge changed something ({changed}); see {result.log_file}"


def _probe(lab_: Lab, seconds: float, interval: float = 0.2) -> list[tuple[float, bool]]:
    """Requests through the VIP for a bounded time; (time, succeeded) for each.

    A request that the proxies retry on the surviving VM may take a connect timeout longer; it is
    slow, not lost, so the client waits up to 5 s as a real client would.
    """
    results: list[tuple[float, bool]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        code, _ = lab_.health(timeout=5)
        results.append((time.monotonic(), code == 200))
        time.sleep(interval)
    return results


def _restart_and_wait(lab_: Lab, host: str) -> None:
    subprocess.run(["podman", "start", lab_.container(host)], check=True, capture_output=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        rows = {r.host: r for r in lab.status(lab_.topology)}
        if rows[host].health == "healthy":
            return
        time.sleep(2)
    pytest.fail(f"{host} did not come back healthy within 180 s")


def test_vip_moves_when_its_lb_stops(running_lab: Lab) -> None:
    holder = running_lab.vip_holder()
    assert holder is not None, "no lb holds the public VIP"
    subprocess.run(["podman", "stop", "-t", "0", running_lab.container(holder)], check=True, capture_output=True)
    stopped_at = time.monotonic()
    try:
        new_holder = None
        while time.monotonic() - stopped_at < 15 and new_holder is None:
            new_holder = running_lab.vip_holder()
            time.sleep(0.2)
        moved_after = time.monotonic() - stopped_at
        assert new_holder is not None and new_holder != holder, "the VIP did not move"
        record_figure("VIP failover seconds (lb stopped -> VIP on the other lb)", round(moved_after, 1))
        assert moved_after < 10
        results = _probe(running_lab, 5)
        assert all(ok for _, ok in results), "requests failed after the VIP moved"
    finally:
        _restart_and_wait(running_lab, holder)


@pytest.mark.parametrize("role", [HostRole.APP, HostRole.WEB])
def test_losing_one_vm_loses_no_request_after_detection(running_lab: Lab, role: HostRole) -> None:
    victim = running_lab.topology.hosts_with_role(role)[0]
    subprocess.run(["podman", "stop", "-t", "0", running_lab.container(victim)], check=True, capture_output=True)
    try:
        # The health checks need a few intervals to notice; after that every request must succeed.
        detection = _probe(running_lab, 8)
        settled = _probe(running_lab, 10)
        failures_before = sum(1 for _, ok in detection if not ok)
        record_figure(f"{role} VM stopped: failed requests before the checks noticed", failures_before)
        assert settled and all(ok for _, ok in settled), f"requests failed with {victim} down after detection"
    finally:
        _restart_and_wait(running_lab, victim)


# New connections through the database VIP for a few seconds, as the app makes them (its settings,
# TLS verify-full); prints one JSON line: the count of connections per server reached and role, or error.
_NEW_CONNECTIONS = """
import collections, json, sys, time
import psycopg
env = dict(line.strip().split("=", 1) for line in open("/etc/oson/operator.env") if "=" in line and line[0] != "#")
reached = collections.Counter()
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    try:
        with psycopg.connect(host=env["OSON_DATABASE_HOST"], port=env["OSON_DATABASE_PORT"],
                             dbname=env["OSON_DATABASE_NAME"], user=env["OSON_DATABASE_USER"],
                             password=env["OSON_DATABASE_PASSWORD"], sslmode=env["OSON_DATABASE_SSLMODE"],
                             sslrootcert=env["OSON_DATABASE_SSLROOTCERT"], connect_timeout=2) as connection:
            standby, server = connection.execute("SELECT pg_is_in_recovery(), host(inet_server_addr())").fetchone()
            reached[f"{server} {'standby' if standby else 'primary'}"] += 1
    except psycopg.Error as error:
        reached[f"error: {str(error).splitlines()[0][:120]}"] += 1
print(json.dumps(reached))
"""


def test_an_haproxy_reload_sends_no_database_connection_to_the_standby(running_lab: Lab) -> None:
    """A reload hands the new HAProxy worker the old one's UP/DOWN states: without them it takes every
    database server for UP until its first check, and `balance first` sends new connections to the
    first one listed. So the leader is moved to the second database VM first."""
    appliance = running_lab.appliance
    first, second = running_lab.topology.hosts_with_role(HostRole.DB)[:2]
    if appliance.patroni_leader() != second:
        switched = subprocess.run(["podman", "exec", running_lab.container(first), "patronictl", "-c",
                                   "/etc/patroni/config.yml", "switchover", "--leader", first, "--candidate", second,
                                   "--force"], capture_output=True, text=True, timeout=120, check=False)
        assert switched.returncode == 0, switched.stdout + switched.stderr
    appliance.wait_healthy(timeout=120)
    assert appliance.patroni_leader() == second
    holder = running_lab.vip_holder()
    app = running_lab.topology.hosts_with_role(HostRole.APP)[0]
    assert holder is not None, "no lb holds the VIPs"

    prober = subprocess.Popen(["podman", "exec", running_lab.container(app), "/opt/oson/operator/venv/bin/python",
                               "-c", _NEW_CONNECTIONS, "8"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)  # connections made before the reload, then 6 s of them after it
    reloaded = subprocess.run(["podman", "exec", running_lab.container(holder), "systemctl", "reload", "haproxy"],
                              capture_output=True, text=True, timeout=60, check=False)
    out, err = prober.communicate(timeout=60)
    assert reloaded.returncode == 0, reloaded.stderr
    assert prober.returncode == 0, err
    reached = json.loads(out.strip().splitlines()[-1])
    leader_address = running_lab.topology.hosts[second].addresses["db"]
    assert list(reached) == [f"{leader_address} primary"], f"new connections around the reload reached {reached}"


def _on_app_vm(lab_: Lab, *command: str) -> dict[str, object]:
    """Run an oson-operator command on an app VM, as an operator would over SSH; parse its JSON."""
    return lab_.appliance.operator_cli(*command)


class LabDesk:
    """Staff and an API client made on an app VM, and a payer and a payee (the drills' world), all through
    the public VIP."""

    def __init__(self, lab_: Lab, http: httpx.Client) -> None:
        self.http = http
        people = make_drill_people(lab_.appliance)
        self.client = people.client
        operator_session = staff_session(http, people.operator)
        self.desk = operator_session.headers
        self.audit = staff_session(http, people.auditor).headers
        world = prepare_world(http, operator_session, payers=1, funding="5000.00", tariff="oson_merchants")
        self.payer, self.payee = world.payer_wallet_ids[0], world.payee_wallet_id

    def pay(self, amount: str = "10.00", purpose: str = "lab payment") -> dict[str, object]:
        """One payment as the integration client; returns the journal line of its acknowledgement."""
        paid = post_command(self.http, "/api/payments", {"payer_wallet_id": self.payer, "payee_wallet_id": self.payee,
                                                         "amount": amount, "purpose": purpose}, self.client.headers())
        return {"operation_id": paid["operation"]["id"],
                "acknowledged_at": datetime.datetime.now(datetime.UTC).isoformat()}


def test_a_payment_through_the_public_vip_reaches_ledger_receipt_and_event_log(running_lab: Lab) -> None:
    """The request path end to end: VIP -> HAProxy -> Apache -> operator app -> Patroni primary."""
    base = f"https://{running_lab.topology.vips['public'].address}"
    with httpx.Client(base_url=base, verify=str(running_lab.ca_file), timeout=20) as http:
        world = LabDesk(running_lab, http)
        operation = world.pay("1000.00", "lab smoke")["operation_id"]
        detail = http.get(f"/api/operations/{operation}", headers=world.desk).json()
        assert sorted(entry["amount"] for entry in detail["entries"]) == ["-1220.00", "1000.00", "220.00"]
        receipt = http.get(f"/api/operations/{operation}/receipt", headers=world.desk).json()["receipt"]
        assert receipt["operation_id"] == operation and receipt["amount"] == "1000.00"
        assert receipt["payer_wallet_id"] == world.payer and receipt["receipt_number"]
        events = http.get("/api/events", params={"record_id": operation}, headers=world.audit).json()["events"]
        assert [(e["action"], e["result"], e["actor"]) for e in events] == [
            ("payment.create", "ok", world.client.actor)]
        assert http.get("/api/ledger/check", headers=world.audit).json()["ok"] is True
        verify = http.get("/api/events/verify", headers=world.audit)
        assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text
        assert verify.json()["signatures_checked"] is True
    # The auditor's command from the control node says the same.
    proc = osonctl("events", "verify", "-i", str(LAB_INVENTORY), log="events-verify.log")
    assert proc.returncode == 0 and "event log intact" in proc.stdout, proc.stdout + proc.stderr


def test_backup_then_trial_restore_holds_every_acknowledged_payment(running_lab: Lab, tmp_path: Path) -> None:
    """Backup into both repositories, payments after it (only in the archived WAL), then a trial restore of
    the off-SAN repository with business checks; a made-up acknowledgement must make the check fail."""
    base = f"https://{running_lab.topology.vips['public'].address}"
    with httpx.Client(base_url=base, verify=str(running_lab.ca_file), timeout=20) as http:
        world = LabDesk(running_lab, http)
        journal = [world.pay() for _ in range(5)]
        started = time.monotonic()
        created = osonctl("backup", "create", "-i", str(LAB_INVENTORY), log="backup-create.log")
        assert created.returncode == 0, created.stdout + created.stderr
        record_figure("backup create (both repositories, lab) seconds", round(time.monotonic() - started, 1))
        journal += [world.pay() for _ in range(5)]
    # A signed checkpoint covers the event log up to here (the service also writes them on a timer).
    _on_app_vm(running_lab, "events", "checkpoint")

    listed = osonctl("backup", "list", "-i", str(LAB_INVENTORY), "--json", log="backup-list.log")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    listing = json.loads(listed.stdout)
    assert {b["repo"] for b in listing["backups"] if b["kind"] == "full"} == {1, 2}, listing
    assert set(listing["wal_ranges"]) == {"1", "2"}, listing

    expected = tmp_path / "acknowledged.jsonl"
    expected.write_text("".join(json.dumps(line) + "\n" for line in journal))
    verified = osonctl("backup", "verify", "-i", str(LAB_INVENTORY), "--expect-operations", str(expected),
                        "--json", log="backup-verify.log")
    assert verified.returncode == 0, verified.stdout[-6000:] + verified.stderr
    result = json.loads(verified.stdout[verified.stdout.index("{"):verified.stdout.rindex("}") + 1])
    trial = result["trial_restore"]
    checks = {check["name"]: check for check in trial["checks"]}
    assert {"pg_amcheck", "trial_balance", "wallet_balances", "event_log", "expected_operations"} <= set(checks)
    assert all(check["ok"] for check in checks.values()), checks
    assert {s["step"] for s in result["steps"]} == {"check", "verify repo1", "verify repo2"}
    record_figure("trial restore of repo2 (lab) RTO seconds", trial["rto_seconds"])
    # The auditor's copy: a signed report whose signature holds with the appliance's report key.
    from appliance.drills.report import signing_public_key_pem, verify_report

    signed = Path(result["report"]["json"])
    assert Path(result["report"]["html"]).exists()
    assert verify_report(signed, signing_public_key_pem(LAB_INVENTORY, running_lab.topology)) == []
    assert json.loads(signed.read_text())["figures"]["rto_seconds"] == trial["rto_seconds"]

    # The check can fail: one acknowledgement the database never saw.
    made_up = dict(journal[-1], operation_id=str(uuid.uuid4()))
    expected.write_text(expected.read_text() + json.dumps(made_up) + "\n")
    failed = osonctl("backup", "verify", "-i", str(LAB_INVENTORY), "--expect-operations", str(expected),
                      "--json", log="backup-verify-negative.log")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    result = json.loads(failed.stdout[failed.stdout.index("{"):failed.stdout.rindex("}") + 1])
    failing = [c for c in result["trial_restore"]["checks"] if not c["ok"]]
    assert [c["name"] for c in failing] == ["expected_operations"], failing
    assert made_up["operation_id"] in json.dumps(failing[0]), failing


def test_restore_refuses_without_confirmation_or_over_a_running_database(running_lab: Lab) -> None:
    unconfirmed = osonctl("backup", "restore", "-i", str(LAB_INVENTORY), log="backup-restore-unconfirmed.log")
    assert unconfirmed.returncode == 2 and "--confirm-overwrite" in unconfirmed.stderr, unconfirmed.stderr
    running = osonctl("backup", "restore", "-i", str(LAB_INVENTORY), "--confirm-overwrite",
                       log="backup-restore-running.log")
    assert running.returncode == 3, running.stdout + running.stderr
    assert "REFUSED" in running.stdout and "osonctl database stop" in running.stdout, running.stdout
    code, _ = running_lab.health()
    assert code == 200, "a refused restore must leave the appliance serving"


def test_destroy_then_point_in_time_restore_keeps_what_came_before_the_target(running_lab: Lab) -> None:
    """Payments, a target time, more payments; the cluster is stopped and its data destroyed on both database
    VMs; a point-in-time restore brings back exactly the payments before the target, as a healthy HA cluster."""
    appliance = running_lab.appliance
    base = f"https://{running_lab.topology.vips['public'].address}"
    with httpx.Client(base_url=base, verify=str(running_lab.ca_file), timeout=20) as http:
        world = LabDesk(running_lab, http)
        created = osonctl("backup", "create", "-i", str(LAB_INVENTORY), "--repo", "1", log="restore-backup.log")
        assert created.returncode == 0, created.stdout + created.stderr
        before = [world.pay()["operation_id"] for _ in range(5)]
        time.sleep(1.5)
        target = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
        time.sleep(1.5)
        after = [world.pay()["operation_id"] for _ in range(5)]
    # A signed checkpoint of the events after the target, exported on the app VM: the restore rolls those
    # events back, so it must set the file aside (kept for the auditors) for the event log to verify.
    rolled_back = _on_app_vm(running_lab, "events", "checkpoint")

    stopped = osonctl("database", "stop", "-i", str(LAB_INVENTORY), "--confirm-outage", log="database-stop.log")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    code, _ = running_lab.health()
    assert code != 200, "the service must be down while the database is stopped"
    for host in running_lab.topology.hosts_with_role(HostRole.DB):  # the data is lost on both VMs
        subprocess.run(["podman", "exec", running_lab.container(host), "bash", "-c",
                        "rm -rf /var/lib/postgresql/15/oson/*"], check=True, capture_output=True)

    started = time.monotonic()
    restored = osonctl("backup", "restore", "-i", str(LAB_INVENTORY), "--time", target, "--confirm-overwrite",
                        "--json", log="backup-restore.log")
    assert restored.returncode == 0, restored.stdout[-6000:] + restored.stderr
    record_figure("in-place point-in-time restore, service back (lab) seconds", round(time.monotonic() - started, 1))
    result = json.loads(restored.stdout[restored.stdout.index("{"):restored.stdout.rindex("}") + 1])
    assert result["restore"]["result"] == "ok", result
    appliance.wait_healthy(timeout=240)

    with httpx.Client(base_url=base, verify=str(running_lab.ca_file), timeout=20) as http:
        world.http = http
        # Health through the VIP can come from one app VM while the other's pool still holds connections
        # to the destroyed cluster: wait until no request meets an unavailable database (503).
        deadline = time.monotonic() + 60
        while True:
            found = {op: http.get(f"/api/operations/{op}", headers=world.desk).status_code for op in before + after}
            if 503 not in found.values() or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert [found[op] for op in before] == [200] * 5, found
        assert [found[op] for op in after] == [404] * 5, found
        assert http.get("/api/ledger/check", headers=world.audit).json()["ok"] is True
        # The restored cluster takes payments again, on its new timeline.
        assert world.pay()["operation_id"]
    again = osonctl("backup", "create", "-i", str(LAB_INVENTORY), "--type", "full", log="restore-backup-after.log")
    assert again.returncode == 0, again.stdout + again.stderr
    verified = osonctl("events", "verify", "-i", str(LAB_INVENTORY), log="events-verify-after-restore.log")
    assert verified.returncode == 0 and "event log intact" in verified.stdout, verified.stdout + verified.stderr
    app = running_lab.topology.hosts_with_role(HostRole.APP)[0]
    aside = subprocess.run(["podman", "exec", running_lab.container(app), "bash", "-c",
                            "ls /var/lib/oson/event-checkpoints/superseded-by-restore-*/"],
                           capture_output=True, text=True, check=False).stdout.split()
    assert any(name.endswith(f"-{rolled_back['id']}.json") for name in aside), aside


def test_power_loss_of_the_database_primary_under_load_loses_nothing(running_lab: Lab, tmp_path: Path) -> None:
    from appliance.drills import lab_drills
    from appliance.drills.report import load_signing_key, signing_public_key_pem, verify_report

    result = lab_drills.run_power_loss(
        "db-primary", appliance=running_lab.appliance, work_dir=tmp_path,
        signing_key=load_signing_key(LAB_INVENTORY, running_lab.topology), report_dir=ARTIFACTS / "reports",
        out=sys.stderr)
    figures = result.figures
    for name in ("write_outage_seconds", "new_leader_after_seconds", "lab_healthy_after_power_back_seconds"):
        record_figure(f"db primary power loss: {name}", figures.get(name))
    assert result.verdict.acknowledged > 0 and result.verdict.missing == 0, result.verdict
    assert result.verdict.duplicates == 0 and figures["samples_with_two_primaries"] == 0, figures
    assert figures["leader_after"] != figures["leader_before"], figures
    assert result.ok, [c for c in result.checks if not c["ok"]]
    assert result.report is not None
    assert verify_report(result.report[0], signing_public_key_pem(LAB_INVENTORY, running_lab.topology)) == []
