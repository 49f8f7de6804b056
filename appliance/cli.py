"""`osonctl`: one verb per lifecycle step of the appliance."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import __version__
from appliance.ansible_run import recap_lines
from appliance.paths import LAB_INVENTORY, LAB_STATE
from appliance.units import human_bytes

if TYPE_CHECKING:
    from appliance.topology import Topology


def _lab_up(args: argparse.Namespace) -> int:
    from appliance import lab

    topology = lab.load_lab_topology(args.inventory)
    started = time.monotonic()
    fresh = any(lab.container_state(topology.container_name(h)) == "absent" for h in topology.hosts)
    if args.online and args.bundle:
        print("osonctl lab up: --bundle goes with --offline, not --online", file=sys.stderr)
        return 2
    image = lab.ensure_image()
    if args.online:
        lab.use_mirror(args.inventory)
    elif args.offline or args.bundle:
        bundle = args.bundle or _build_lab_bundle(topology, image)
        if bundle is None:
            return 1
        lab.use_offline_bundle(args.inventory, bundle)
    offline = lab.offline_bundle(args.inventory)
    lab.say(f"packages from the offline bundle {offline}; the lab networks have no way out" if offline
            else "packages from the VMs' Debian mirror")
    lab.ensure_networks(topology)
    lab.ensure_containers(topology, image)
    lab.wait_booted(topology)
    lab.bootstrap_access(topology)
    lab.say("converging with playbooks/site.yml (the same play as production)")
    result = lab.converge(topology, args.inventory)
    print()
    print("\n".join(recap_lines(result)))
    if not result.ok:
        print(f"\nconverge FAILED; the full log is {result.log_file}", file=sys.stderr)
        return 1
    ca_file = lab.LAB_CA_FILE  # written by converge()
    health = lab.wait_public_health(topology, ca_file)
    total = time.monotonic() - started
    kind = "fresh" if fresh else "re-converge"
    record = {
        "kind": kind,
        "converge_seconds": round(result.seconds, 1),
        "total_seconds": round(total, 1),
        "changed": result.total_changed,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    LAB_STATE.mkdir(parents=True, exist_ok=True)
    (LAB_STATE / f"last-{kind}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    vip = topology.vips["public"].address
    print(
        f"\nThe lab is up ({kind}: converge {result.seconds:.0f}s, total {total:.0f}s, changed={result.total_changed})."
        f"\n  Appliance:  https://{vip}/   (public VIP; health: {json.dumps(health.get('database', {}))})"
        f"\n  CA:         {ca_file}   e.g. curl --cacert {ca_file} https://{vip}/api/health"
        f"\n  A VM shell: podman exec -it {topology.container_name(topology.hosts_with_role(lab.HostRole.APP)[0])} bash"
        f"\n  Packages:   {f'offline bundle {offline} (no way out)' if offline else 'the Debian mirror'}"
        f"\n  Status:     osonctl lab status      Tear down: osonctl lab down"
        f"\n  Log:        {result.log_file}"
    )
    return 0


def _build_lab_bundle(topology: Topology, image: str) -> Path | None:
    """`osonctl bundle` for the lab (a few minutes): the archive the offline lab installs from."""
    from appliance import bundle
    from appliance.bundle.build import BundleError
    from appliance.bundle.packages import PackageCollectionError

    try:
        result = bundle.build_for(topology, image=image)
    except (BundleError, PackageCollectionError) as err:
        print(f"osonctl lab up --offline: {err}", file=sys.stderr)
        return None
    print(f"bundle ready in {result.seconds:.0f}s: {result.archive} ({result.size / 1e6:.1f} MB)", flush=True)
    return result.archive


def _lab_status(args: argparse.Namespace) -> int:
    from appliance import lab

    topology = lab.load_lab_topology(args.inventory)
    rows = lab.status(topology, args.inventory)
    if args.json:
        print(lab.status_json(rows))
    else:
        header = ("HOST", "ROLE", "HV", "ADDRESS (mgmt)", "STATE", "HEALTH", "DETAIL")
        table = [header] + [(r.host, r.role, r.hypervisor, r.address, r.state, r.health, r.detail) for r in rows]
        widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
        for row in table:
            print("  ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
    return 0 if all(r.health == "healthy" for r in rows) else 1


def _lab_down(args: argparse.Namespace) -> int:
    from appliance import lab

    topology = lab.load_lab_topology(args.inventory)
    lab.down(topology, purge_image=args.purge_image)
    lab.use_mirror(args.inventory)  # the next lab starts from the mirror unless told --offline again
    print("lab removed" + (" (base image too)" if args.purge_image else ""))
    return 0


def _deploy(args: argparse.Namespace) -> int:
    from appliance import deploy

    return deploy.run(Path(args.inventory), check=args.check, limit=args.limit, tags=args.tags,
                      playbook=args.playbook)


def _secrets_init(args: argparse.Namespace) -> int:
    from appliance.secrets import ensure_secrets, vault_file, vault_password_file
    from appliance.topology import load_topology

    inventory = Path(args.inventory)
    topology = load_topology(inventory)
    added = ensure_secrets(inventory, topology)
    print(f"vault: {vault_file(inventory)}  (password file: {vault_password_file(topology)})")
    print("generated: " + (", ".join(added) if added else "nothing; all secrets already exist"))
    return 0


def _events_verify(args: argparse.Namespace) -> int:
    from appliance import events

    return events.run(Path(args.inventory), args.json)


def _backup_create(args: argparse.Namespace) -> int:
    from appliance import backup

    repos = [1, 2] if args.repo == "all" else [int(args.repo)]
    article = "an" if args.type == "incr" else "a"
    print(f"taking {article} {args.type} backup into {', '.join(f'repo{r}' for r in repos)} (from the standby)...",
          flush=True)
    outcomes = backup.create(Path(args.inventory), repos, args.type)
    for o in outcomes:
        label = f" {o['label']}" if o.get("label") else ""
        took = f" in {o['duration_s']}s" if "duration_s" in o else ""
        print(f"  repo{o['repo']} on {o['host']}: {o['result']}{label}{took} ({o.get('detail', '')})")
        if o["result"] == "failed":
            for line in o.get("output_tail", [])[-8:]:
                print(f"      {line}")
    ok = backup.create_succeeded(outcomes, repos)
    print("backup done" if ok else "backup FAILED: see the lines above (`osonctl backup verify` checks archiving)")
    return 0 if ok else 1


def _backup_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from appliance import backup

    listing = backup.list_backups(Path(args.inventory))
    if args.json:
        print(json.dumps(asdict(listing), indent=2))
        return 0
    print(f"stanza status: {listing.status} (as seen from {listing.host})")
    header = ("REPO", "LABEL", "TYPE", "FINISHED (UTC)", "DATABASE", "STORED", "WAL")
    rows = [header] + [
        (f"repo{b.repo}", b.label, b.kind, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(b.stopped)),
         human_bytes(b.database_bytes), human_bytes(b.repository_bytes), f"{b.wal_start}..{b.wal_stop}")
        for b in listing.backups
    ]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(str(c).ljust(widths[i]) for i, c in enumerate(row)).rstrip())
    for repo, (first, last) in sorted(listing.wal_ranges.items()):
        print(f"repo{repo} archived WAL: {first} .. {last}")
    return 0


def _backup_verify(args: argparse.Namespace) -> int:
    from appliance import backup
    from appliance.drills.report import now_iso

    what = "check and verify" + ("" if args.quick else ", then a trial restore of repo2 with business checks")
    print(f"backup verify: {what}...", flush=True)
    started_at = now_iso()
    result = backup.verify(Path(args.inventory), quick=args.quick, target=args.target,
                           expect_file=Path(args.expect_operations) if args.expect_operations else None)
    json_path, html_path = backup.write_verify_report(Path(args.inventory), result, started_at, now_iso(),
                                                      Path(args.report_dir) if args.report_dir else None)
    result["report"] = {"json": str(json_path), "html": str(html_path)}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for step in result["steps"]:
            print(f"  {step['step']} on {step['host']}: {step['result']} {step.get('detail', '')}".rstrip())
        trial = result["trial_restore"]
        if trial is not None:
            state = "ok" if trial.get("ok") else f"FAILED ({trial.get('failed_step', 'a check failed')})"
            print(f"  trial restore on {trial.get('host', '?')}: {state}; restore {trial.get('restore_seconds')}s, "
                  f"RTO {trial.get('rto_seconds')}s, backup {trial.get('backup_label')}")
            for check in trial.get("checks", []):
                mark = "ok  " if check.get("ok") else "FAIL"
                print(f"    {mark} {check.get('name')}: {check.get('detail', '')}"[:300])
        print(f"  signed report: {json_path} (readable: {html_path})")
    print("backups verified" if result["ok"] else "backup verification FAILED")
    return 0 if result["ok"] else 1


def _backup_restore(args: argparse.Namespace) -> int:
    from appliance import backup
    from appliance.drills.report import now_iso

    if not args.confirm_overwrite:
        print("osonctl: a restore replaces the database cluster's data (the current data directories are kept "
              "aside, one generation). Run it again with --confirm-overwrite once `osonctl database stop` has "
              "stopped the cluster.", file=sys.stderr)
        return 2
    where = f"to {args.time}" if args.time else "to the end of the archived WAL"
    source = f"repo{args.repo}" if args.repo else "the first repository that holds a usable backup"
    print(f"restoring the database cluster {where} from {source}...", flush=True)
    started, started_at = time.monotonic(), now_iso()
    result = backup.restore(Path(args.inventory), target=args.time, repo=int(args.repo) if args.repo else None)
    result["service_back_seconds"] = round(time.monotonic() - started, 1)
    result.update(started_at=started_at, ended_at=now_iso())
    if args.json:
        print(json.dumps(result, indent=2))
    elif result["refused"]:
        print(result["refused"])
    else:
        outcome = result["restore"] or {}
        print(f"  restore on {outcome.get('host', '?')}: {outcome.get('result', 'did not run')}, backup "
              f"{outcome.get('backup_label')}, restore {outcome.get('restore_seconds')}s, replayed and promoted "
              f"after {outcome.get('recovered_seconds')}s, timeline {outcome.get('timeline')}, last operation "
              f"{outcome.get('last_operation_at')}")
        for line in outcome.get("output_tail", []) + outcome.get("postgresql_log_tail", []):
            print(f"      {line}")
        for problem in result["problems"]:
            print(f"  {problem}")
        if result["ok"]:
            print(f"  the cluster and the service are back after {result['service_back_seconds']}s. Take a full "
                  "backup now (`osonctl backup create --type full`) and check the data (`osonctl events verify`).")
    print("restore done" if result["ok"] else "restore REFUSED" if result["refused"] else "restore FAILED")
    return 0 if result["ok"] else 3 if result["refused"] else 1


def _database_stop(args: argparse.Namespace) -> int:
    from appliance import database

    if not args.confirm_outage:
        print("osonctl: stopping the database stops the payment service until `osonctl database start` (or a "
              "restore). Run it again with --confirm-outage.", file=sys.stderr)
        return 2
    print("stopping the service, archiving the last WAL, stopping the standbys and then the primary...", flush=True)
    result = database.stop(Path(args.inventory))
    for problem in result["problems"]:
        print(f"  {problem}")
    print(f"database stopped (the primary was {result['primary_before']})" if result["ok"]
          else "database stop FAILED: see the lines above")
    return 0 if result["ok"] else 1


def _database_start(args: argparse.Namespace) -> int:
    from appliance import database

    print("starting Patroni on every database VM, then the service...", flush=True)
    result = database.start(Path(args.inventory))
    for problem in result["problems"]:
        print(f"  {problem}")
    print("database and service started" if result["ok"] else "database start FAILED: see the lines above")
    return 0 if result["ok"] else 1


def _drill_control(args: argparse.Namespace) -> int:
    from appliance.drills import negative_control, report
    from appliance.secrets import state_dir
    from appliance.topology import load_topology

    inventory = Path(args.inventory)
    topology = load_topology(inventory)
    result = negative_control.run_control(
        durable=args.durable, load_seconds=args.seconds, cut_under_load=args.durable,
        signing_key=report.load_signing_key(inventory, topology),
        report_dir=Path(args.report_dir) if args.report_dir else state_dir(topology) / "reports")
    figures = result.verdict.figures()
    print(f"{result.name}: acknowledged {figures['acknowledged']}, missing {figures['missing']}, "
          f"duplicates {figures['duplicates']}, ledger ok {figures['ledger_ok']}, events ok {figures['events_ok']}")
    if result.report:
        print(f"  signed report: {result.report[0]} (readable: {result.report[1]})")
    expected = "no acknowledged payment lost" if args.durable else "the verdict detects the lost payments"
    print(f"as expected ({expected})" if result.as_expected else f"NOT as expected: {expected} did not hold")
    return 0 if result.as_expected else 1


def _drill_power_loss(args: argparse.Namespace) -> int:
    import tempfile

    from appliance import lab
    from appliance.drills import lab_drills, report
    from appliance.secrets import state_dir

    inventory = Path(args.inventory)
    topology = lab.load_lab_topology(inventory)
    reports = Path(args.report_dir) if args.report_dir else state_dir(topology) / "reports"
    with tempfile.TemporaryDirectory(prefix=f"oson-drill-{args.target}-") as work:
        result = lab_drills.run_power_loss(
            args.target, appliance=lab_drills.lab_appliance(topology), work_dir=Path(work),
            warmup_seconds=args.warmup, signing_key=report.load_signing_key(inventory, topology),
            report_dir=reports, out=sys.stderr)
    figures = result.figures
    print(f"{result.name}: killed {', '.join(result.victims)}; writes back within "
          f"{figures.get('writes_resumed_within_seconds')} s (longest gap {figures.get('write_outage_seconds')} s)"
          + (f", new leader after {figures.get('new_leader_after_seconds')} s" if "new_leader_after_seconds" in figures
             else "")
          + (f", a leader again {figures.get('leader_again_after_power_back_seconds')} s after power back"
             if "leader_again_after_power_back_seconds" in figures else "")
          + (f", VIP moved after {figures.get('vip_moved_after_seconds')} s" if "vip_moved_after_seconds" in figures
             else ""))
    for check in result.checks:
        print(f"  {'ok  ' if check['ok'] else 'FAIL'} {check['name']}: {check.get('detail', '')}"[:300])
    if result.report:
        print(f"  signed report: {result.report[0]} (readable: {result.report[1]})")
    print("drill passed" if result.ok else "drill FAILED")
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osonctl", description="Deploy, rehearse and check the OSON appliance.")
    parser.add_argument("--version", action="version", version=f"osonctl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    lab_p = sub.add_parser("lab", help="the one-machine lab (rack in a box)")
    lab_sub = lab_p.add_subparsers(dest="lab_command", required=True)
    for name, func, help_text in (
        ("up", _lab_up, "build the image, start the VMs as containers, converge, wait for health"),
        ("status", _lab_status, "each host with its role, address and health"),
        ("down", _lab_down, "remove the lab's containers and networks"),
    ):
        p = lab_sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("-i", "--inventory", type=Path, default=LAB_INVENTORY, help="lab inventory directory")
        p.set_defaults(func=func)
        if name == "status":
            p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        if name == "down":
            p.add_argument("--purge-image", action="store_true", help="also remove the base image")
        if name == "up":
            source = p.add_mutually_exclusive_group()
            source.add_argument("--offline", action="store_true",
                                help="install from the offline bundle only, with no way out of the lab networks "
                                "(builds the bundle first unless --bundle names one); kept until --online or down")
            source.add_argument("--online", action="store_true",
                                help="back to the VMs' Debian mirror (the default)")
            p.add_argument("--bundle", type=Path, metavar="FILE",
                           help="with --offline: this archive from `osonctl bundle -i inventory/lab`")

    from appliance import bundle, prechecks

    prechecks.add_parser(sub)
    bundle.add_parser(sub)

    dep = sub.add_parser("deploy", help="converge the appliance with playbooks/site.yml")
    dep.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    dep.add_argument("--check", action="store_true", help="dry run (ansible check mode with diffs)")
    dep.add_argument("--limit", help="only these hosts or groups (ansible --limit)")
    dep.add_argument("--tags", help="only these roles' tags (e.g. haproxy,keepalived)")
    dep.set_defaults(func=_deploy, playbook="site.yml")

    rack = sub.add_parser("rack", help="turn the bare hypervisors and the SAN into the appliance's VMs with "
                          "playbooks/rack.yml (hypervisors, san, guests; production only)")
    rack.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    rack.add_argument("--check", action="store_true", help="dry run (ansible check mode with diffs)")
    rack.add_argument("--limit", help="only these hosts or groups (ansible --limit)")
    rack.add_argument("--tags", help="only these roles' tags (hypervisor, san, guests)")
    rack.set_defaults(func=_deploy, playbook="rack.yml")

    ev = sub.add_parser("events", help="the operator service's event log")
    ev_sub = ev.add_subparsers(dest="events_command", required=True)
    ver = ev_sub.add_parser("verify", help="verify the hash chains and signed checkpoints; names the first bad "
                            "record; exits 1 when the log was altered")
    ver.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    ver.add_argument("--json", action="store_true", help="print the full report as JSON")
    ver.set_defaults(func=_events_verify)

    bk = sub.add_parser("backup", help="pgBackRest backups: create, list, verify (with a trial restore), "
                        "restore (in place)")
    bk_sub = bk.add_subparsers(dest="backup_command", required=True)
    bc = bk_sub.add_parser("create", help="take a backup now (from the standby), as the timers do")
    bc.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    bc.add_argument("--repo", choices=("1", "2", "all"), default="all",
                    help="repo1 (the SAN backup volume), repo2 (the off-SAN backup host) or both (default)")
    bc.add_argument("--type", choices=("full", "diff", "incr"), default="full", help="backup type (default full)")
    bc.set_defaults(func=_backup_create)
    bl = bk_sub.add_parser("list", help="the backups and archived WAL of both repositories")
    bl.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    bl.add_argument("--json", action="store_true", help="print JSON instead of a table")
    bl.set_defaults(func=_backup_list)
    bv = bk_sub.add_parser("verify", help="check archiving, re-read both repositories, and restore repo2 into a "
                           "scratch instance on the backup host with business checks")
    bv.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    bv.add_argument("--quick", action="store_true", help="skip the trial restore")
    bv.add_argument("--target", help="trial-restore to this time (e.g. '2026-11-21 10:15:00+05') instead of the end")
    bv.add_argument("--expect-operations", metavar="FILE",
                    help="JSON Lines of acknowledged operations (a drill's journal) that the restore must contain")
    bv.add_argument("--json", action="store_true", help="print the whole result as JSON")
    bv.add_argument("--report-dir", help="where to write the signed report (default: the inventory's state "
                    "directory, reports/)")
    bv.set_defaults(func=_backup_verify)

    br = bk_sub.add_parser("restore", help="DESTRUCTIVE: replace the stopped database cluster's data with a "
                           "restore, to the end of the archived WAL or to --time (point in time)")
    br.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    br.add_argument("--time", help="restore to this time, e.g. '2026-11-21 10:15:00+05' (default: the end)")
    br.add_argument("--repo", choices=("1", "2"), help="restore from this repository (default: the first that can)")
    br.add_argument("--confirm-overwrite", action="store_true",
                    help="required: you mean to replace the cluster's data (it must be stopped first)")
    br.add_argument("--json", action="store_true", help="print the whole result as JSON")
    br.set_defaults(func=_backup_restore)

    db = sub.add_parser("database", help="planned stop and start of the whole database cluster")
    db_sub = db.add_subparsers(dest="database_command", required=True)
    ds = db_sub.add_parser("stop", help="OUTAGE: stop the service, archive the last WAL, stop Patroni everywhere")
    ds.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    ds.add_argument("--confirm-outage", action="store_true", help="required: you mean to stop the payment service")
    ds.set_defaults(func=_database_stop)
    dst = db_sub.add_parser("start", help="start Patroni everywhere, wait for a leader and its standbys, start the "
                            "service")
    dst.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    dst.set_defaults(func=_database_start)

    dr = sub.add_parser("drill", help="drills that prove nothing acknowledged is lost")
    dr_sub = dr.add_subparsers(dest="drill_command", required=True)
    nc = dr_sub.add_parser("negative-control", help="on a throwaway local cluster with durability weakened "
                           "(synchronous_commit=off, no standby), a power cut under load must be reported as lost "
                           "payments: proof that the drill can fail (--durable: the same cut loses nothing)")
    nc.add_argument("-i", "--inventory", required=True, help="inventory whose report key signs the report")
    nc.add_argument("--durable", action="store_true", help="the positive twin: durable settings, cut under load")
    nc.add_argument("--seconds", type=float, default=4.0, help="seconds of load before the cut (default 4)")
    nc.add_argument("--report-dir", help="where to write the signed report (default: the state directory)")
    nc.set_defaults(func=_drill_control)

    from appliance.drills.lab_drills import TARGETS

    pl = dr_sub.add_parser("power-loss", aliases=["failover"],
                           help="in the lab, under load: SIGKILL a VM (or both database VMs), measure until writes "
                           "succeed again, start it again, and check nothing acknowledged was lost; "
                           + "; ".join(f"{name}: {text}" for name, text in TARGETS.items()))
    pl.add_argument("target", choices=tuple(TARGETS), help="which VMs lose power")
    pl.add_argument("-i", "--inventory", default=LAB_INVENTORY, help="the lab inventory (drills run in the lab only)")
    pl.add_argument("--warmup", type=float, default=5.0, help="seconds of load before the cut (default 5)")
    pl.add_argument("--report-dir", help="where to write the signed report (default: the state directory)")
    pl.set_defaults(func=_drill_power_loss)

    from appliance import certs, config_backup
    from appliance.audit import command as audit_command
    from appliance.firewall import cli as firewall_cli

    config_backup.add_parser(sub)
    firewall_cli.add_parser(sub)
    certs.add_parser(sub)
    audit_command.add_parser(sub)

    sec = sub.add_parser("secrets", help="generated secrets (ansible-vault)")
    sec_sub = sec.add_subparsers(dest="secrets_command", required=True)
    init = sec_sub.add_parser("init", help="create the vault or add missing secrets; never rotates existing ones")
    init.add_argument("-i", "--inventory", required=True)
    init.set_defaults(func=_secrets_init)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from appliance.ansible_run import PlaybookError
    from appliance.backup import BackupError
    from appliance.drills.lab_drills import LabDrillError
    from appliance.firewall.labnet import LabFirewallError
    from appliance.lab import LabError
    from appliance.secrets import SecretsError
    from appliance.topology import TopologyError

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (TopologyError, LabError, LabFirewallError, SecretsError, BackupError, LabDrillError) as err:
        print(f"osonctl: {err}", file=sys.stderr)
        return 2
    except PlaybookError as err:
        print(f"osonctl: {err}; is the appliance deployed and reachable? Try `osonctl prechecks`", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
