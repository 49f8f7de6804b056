"""`osonctl audit -i INV [--out DIR] [--json]`: the auditor's report of a deployed appliance.

Collects live evidence (appliance.audit.collect), judges every §14.1 item and §XIII duty
(appliance.audit.report), writes the signed JSON with its HTML and PDF, prints where they are and the
Lynis hardening index of every VM, and exits 1 when anything failed (2 when the audit could not run).
`osonctl audit --verify REPORT.json [--public-key KEY.pem]` checks a report's signature.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit import report as audit_report
from appliance.audit.evidence import FAIL, Evidence


def summary_lines(document: dict[str, Any], paths: dict[str, Path]) -> list[str]:
    counts = document["summary"]["controls"]
    lines = [f"audit {'PASSED' if document['passed'] else 'FAILED'}: {counts['pass']} controls pass, "
             f"{counts['fail']} fail, {counts['manual']} manual"]
    for row in document["controls_14_1"] + document["duties_xiii"]:
        if row["status"] == FAIL:
            lines.append(f"  FAIL {row['section']} {row['title']}: {row['reason'][:300]}")
    for evidence_id in document["summary"]["failed_evidence"]:
        lines.append(f"  failed evidence {evidence_id}: {document['evidence'][evidence_id]['detail'][:300]}")
    lines.append("Lynis hardening index per VM (goal 80):")
    figures = document["summary"]["lynis_hardening_index"]
    if not figures:
        lines.append("  not available (see the Hardening section)")
    for host, index in sorted(figures.items()):
        lines.append(f"  {host:14} {index if index is not None else 'not available'}")
    lines.append("report:")
    lines += [f"  {kind.upper():5} {path}" for kind, path in paths.items()]
    return lines


def run_audit(inventory: Path, out: Path | None, reports_dir: Path | None, as_json: bool) -> int:
    from appliance.audit.collect import collect
    from appliance.drills.report import load_signing_key, now_iso
    from appliance.secrets import state_dir
    from appliance.topology import load_topology

    topology = load_topology(inventory)
    key = load_signing_key(inventory, topology)  # before the long collection: fail early without a vault

    def progress(message: str) -> None:
        print(f"audit: {message}", file=sys.stderr if as_json else sys.stdout, flush=True)

    started_at = now_iso()
    evidence = collect(inventory, reports_dir=reports_dir, progress=progress)
    return finish_audit(environment=topology.environment, inventory=inventory, started_at=started_at,
                        evidence=evidence, key=key, directory=out or state_dir(topology) / "reports",
                        as_json=as_json)


def finish_audit(*, environment: str, inventory: Path, started_at: str, evidence: dict[str, Evidence],
                 key: Ed25519PrivateKey, directory: Path, as_json: bool) -> int:
    """Judge the evidence, write the signed report, print the summary; the exit code (1 when anything failed)."""
    from appliance.drills.report import now_iso

    document = audit_report.build_report(environment=environment, inventory=str(inventory),
                                         started_at=started_at, ended_at=now_iso(), evidence=evidence)
    paths = audit_report.write_report(directory, document, key)
    if as_json:
        print(json.dumps({"passed": document["passed"], "summary": document["summary"],
                          "files": {k: str(v) for k, v in paths.items()}}, indent=2))
    else:
        print("\n".join(summary_lines(document, paths)))
    return 0 if document["passed"] else 1


def run_verify(path: Path, public_key: Path | None, inventory: Path | None) -> int:
    from appliance.drills.report import signing_public_key_pem
    from appliance.topology import load_topology

    if public_key is not None:
        pem = public_key.read_text(encoding="ascii")
    elif inventory is not None:
        pem = signing_public_key_pem(inventory, load_topology(inventory))
    else:
        print("osonctl audit --verify needs --public-key KEY.pem (or -i INVENTORY on the control node)",
              file=sys.stderr)
        return 2
    problems = audit_report.verify_report(path, pem)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{path}: {'signature valid' if not problems else 'NOT VALID'}")
    return 0 if not problems else 1


def _cmd(args: argparse.Namespace) -> int:
    from appliance.ansible_run import PlaybookError
    from appliance.drills.report import ReportError
    from appliance.secrets import SecretsError
    from appliance.topology import TopologyError

    inventory = Path(args.inventory) if args.inventory else None
    try:
        if args.verify:
            return run_verify(Path(args.verify), Path(args.public_key) if args.public_key else None, inventory)
        if inventory is None:
            print("osonctl audit: give the inventory of the appliance to audit with -i", file=sys.stderr)
            return 2
        return run_audit(inventory, Path(args.out) if args.out else None,
                         Path(args.reports_dir) if args.reports_dir else None, args.json)
    except (TopologyError, SecretsError, ReportError, PlaybookError, OSError) as err:
        print(f"osonctl audit: {err}", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `audit` on osonctl's subcommands."""
    p = sub.add_parser(
        "audit", help="the auditor's report: every §14.1 item and §XIII duty judged from live evidence",
        description="Collect live evidence from a deployed appliance (hardening checks and Lynis, testssl.sh "
                    "against the public VIP, the firewall flow test, the event-log chain, backups and the last "
                    "verify and drill reports), judge every control, and write a signed JSON report with its "
                    "HTML and PDF. Exits 1 when something fails.")
    p.add_argument("-i", "--inventory", help="inventory directory (holding topology.yml)")
    p.add_argument("--out", metavar="DIR", help="where to write the report (default: the inventory's state "
                   "directory, reports/)")
    p.add_argument("--reports-dir", metavar="DIR", help="where the signed backup-verify and drill reports are "
                   "(default: the inventory's state directory, reports/)")
    p.add_argument("--json", action="store_true", help="print the verdict, summary and file names as JSON")
    p.add_argument("--verify", metavar="REPORT", help="instead of auditing, check a report's signature")
    p.add_argument("--public-key", metavar="PEM", help="with --verify: the report signing public key "
                   "(default: from the inventory's vault)")
    p.set_defaults(func=_cmd)
