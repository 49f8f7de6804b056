"""`osonctl certs list | rotate`: the appliance's TLS certificates, read from the VMs and rotated.

Every VM holds a certificate issued by the appliance CA, whose certificate and key live in the
inventory's vault (appliance/secrets.py). ``rotate`` re-issues every VM's certificate from that CA and
moves each TLS service onto it with health waits (playbooks/certs-rotate.yml). ``rotate --ca`` first
replaces the CA itself in the vault, keeping the old CA certificate as the *previous* CA: every VM
trusts both until ``rotate --retire-previous-ca``, so nothing that still holds a certificate of the
old CA is refused during the change (docs/tls.md).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from appliance.cli_errors import reported
from appliance.topology import Topology

PREVIOUS_CA_KEY = "vault_pki_ca_previous_cert_pem"
HOST_CERT_TASK = "Read the host certificate"
BUNDLE_TASK = "Read the trusted CA bundle"
RENEW_WARNING_DAYS = 30


class CertsError(RuntimeError):
    """A certificate verb that could not run; the message says what to do."""


# -- reading ------------------------------------------------------------------------------------------


def parse_x509_text(text: str) -> dict[str, Any]:
    """The fields `openssl x509 -noout -subject -issuer -serial -startdate -enddate -fingerprint -sha256
    -ext subjectAltName` printed (any subset of them)."""
    fields: dict[str, Any] = {}
    for key, pattern in (("subject", r"^subject=\s*(.+)$"), ("issuer", r"^issuer=\s*(.+)$"),
                         ("serial", r"^serial=(\S+)$"), ("fingerprint", r"^sha256 Fingerprint=(\S+)$")):
        match = re.search(pattern, text, re.M | re.I)
        if match:
            fields[key] = match.group(1).strip()
    for key, pattern in (("not_before", r"^notBefore=(.+)$"), ("not_after", r"^notAfter=(.+)$")):
        match = re.search(pattern, text, re.M)
        if match:
            when = datetime.strptime(match.group(1).strip(), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
            fields[key] = when.isoformat()
    sans = re.search(r"X509v3 Subject Alternative Name:.*?\n\s*(.+)", text)
    fields["sans"] = [s.strip() for s in sans.group(1).split(",")] if sans else []
    return fields


def days_left(not_after: str, now: datetime | None = None) -> int:
    return (datetime.fromisoformat(not_after) - (now or datetime.now(UTC))).days


def list_certificates(inventory: Path) -> list[dict[str, Any]]:
    """Per VM: its certificate's fields (from the VM itself) and how many CAs it trusts, or the error."""
    from appliance.ansible_run import run_appliance_playbook, task_results

    report = run_appliance_playbook(inventory, "certs-list.yml")
    certs = task_results(report, HOST_CERT_TASK)
    bundles = task_results(report, BUNDLE_TASK)
    rows: list[dict[str, Any]] = []
    for host in sorted(certs):
        result = certs[host]
        if result.get("unreachable") or int(result.get("rc", 1)) != 0:
            rows.append({"host": host, "error": str(result.get("stderr") or result.get("msg") or "failed").strip()})
            continue
        fields = parse_x509_text(str(result.get("stdout", "")))
        bundle = bundles.get(host, {})
        fields["trusted_cas"] = int(str(bundle.get("stdout") or "0").strip() or 0) if bundle.get("rc") == 0 else None
        rows.append({"host": host, **fields})
    return rows


def format_table(rows: list[dict[str, Any]], now: datetime | None = None) -> str:
    lines = [f"{'host':12} {'not after (UTC)':20} {'days':>5} {'CAs':>3}  subject / SANs"]
    for row in rows:
        if "error" in row:
            lines.append(f"{row['host']:12} ERROR: {row['error'][:200]}")
            continue
        left = days_left(row["not_after"], now) if row.get("not_after") else None
        flag = "  RENEW" if left is not None and left < RENEW_WARNING_DAYS else ""
        cas = row.get("trusted_cas")
        lines.append(f"{row['host']:12} {str(row.get('not_after', '?'))[:19]:20} "
                     f"{left if left is not None else '?':>5} {cas if cas is not None else '?':>3}  "
                     f"{row.get('subject', '?')}{flag}")
        lines.append(f"{'':12} {'':20} {'':5} {'':3}  {', '.join(row.get('sans', []))}")
    return "\n".join(lines)


# -- the CA in the vault ------------------------------------------------------------------------------


def ca_fingerprint(cert_pem: str) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    return "sha256:" + hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def rotate_ca_in_vault(inventory: Path, topology: Topology) -> tuple[str, str]:
    """Make a new CA the signing CA and keep the current one as the previous (still trusted) CA.

    Returns the fingerprints (old, new). Refused while a previous CA is still in its overlap: retire it
    first, so that no VM is ever asked to trust three generations or drop one still in use."""
    from appliance.secrets import CA_KEYS, load_secrets, new_ca, save_secrets

    secrets = load_secrets(inventory, topology)
    if not all(secrets.get(k) for k in CA_KEYS):
        raise CertsError(f"the vault of {inventory} holds no CA yet: deploy once (`osonctl deploy`) first")
    if secrets.get(PREVIOUS_CA_KEY):
        raise CertsError("a previous CA is still trusted from the last CA rotation: run "
                         f"`osonctl certs rotate -i {inventory} --retire-previous-ca` first")
    old = secrets[CA_KEYS[0]]
    secrets[PREVIOUS_CA_KEY] = old
    secrets[CA_KEYS[0]], secrets[CA_KEYS[1]] = new_ca(topology)
    save_secrets(inventory, topology, secrets)
    return ca_fingerprint(old), ca_fingerprint(secrets[CA_KEYS[0]])


def retire_previous_ca_in_vault(inventory: Path, topology: Topology) -> str | None:
    """Drop the previous CA from the vault; its fingerprint, or None when there was none."""
    from appliance.secrets import load_secrets, save_secrets

    secrets = load_secrets(inventory, topology)
    previous = secrets.pop(PREVIOUS_CA_KEY, None)
    if previous:
        save_secrets(inventory, topology, secrets)
    return ca_fingerprint(previous) if previous else None


# -- rotation -----------------------------------------------------------------------------------------


def run_rotation(inventory: Path, *, ca: bool) -> int:
    """Run playbooks/certs-rotate.yml (progress on the terminal, the whole log in the state directory)."""
    from appliance.ansible_run import recap_lines, run_playbook
    from appliance.paths import PLAYBOOKS
    from appliance.secrets import state_dir, vault_password_file
    from appliance.topology import load_topology

    topology = load_topology(inventory)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    log = state_dir(topology) / "logs" / f"certs-rotate-{stamp}.log"
    result = run_playbook(PLAYBOOKS / "certs-rotate.yml", inventory / "topology.yml", log_file=log,
                          vault_password_file=vault_password_file(topology),
                          extra_args=["--extra-vars", json.dumps({"pki_force_reissue": True,
                                                                  "certs_rotate_ca": ca})])
    print("\n".join(recap_lines(result)))
    if not result.ok:
        print(f"certificate rotation FAILED; the full log is {log}. Fix the cause and run the same command "
              "again: it is safe to repeat.", file=sys.stderr)
        return 1
    print(f"certificates rotated in {result.seconds:.0f} s; log: {log}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    rows = list_certificates(Path(args.inventory))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(format_table(rows))
    return 1 if any("error" in r for r in rows) else 0


def _cmd_rotate(args: argparse.Namespace) -> int:
    from appliance.secrets import load_secrets
    from appliance.topology import load_topology

    inventory = Path(args.inventory)
    topology = load_topology(inventory)
    if args.ca and args.retire_previous_ca:
        print("osonctl certs rotate: --ca and --retire-previous-ca are separate steps; run them apart, with "
              "the overlap between them (docs/tls.md)", file=sys.stderr)
        return 2
    if args.ca:
        old, new = rotate_ca_in_vault(inventory, topology)
        print(f"new CA {new} now signs; the previous CA {old} stays trusted until "
              f"`osonctl certs rotate -i {inventory} --retire-previous-ca`")
    if args.retire_previous_ca:
        retired = retire_previous_ca_in_vault(inventory, topology)
        print(f"previous CA {retired} retired" if retired else "no previous CA to retire; re-issuing certificates")
    # A rotation repeated after a failure still needs the CA steps while a previous CA is trusted.
    in_overlap = bool(load_secrets(inventory, topology).get(PREVIOUS_CA_KEY))
    return run_rotation(inventory, ca=bool(args.ca or args.retire_previous_ca or in_overlap))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `certs list | rotate` on osonctl's subcommands."""
    from appliance.ansible_run import PlaybookError
    from appliance.secrets import SecretsError
    from appliance.topology import TopologyError

    certs = sub.add_parser("certs", help="TLS certificates of the VMs: list them, rotate them (and the CA)",
                           description="Certificates of every VM, issued by the appliance CA held in the vault. "
                                       "See docs/tls.md.")
    certs_sub = certs.add_subparsers(dest="certs_command", required=True)
    guarded = reported("osonctl certs", CertsError, SecretsError, TopologyError, PlaybookError, OSError)
    listing = certs_sub.add_parser("list", help="subject, SANs and expiry of every VM's certificate, read from "
                                   "the VMs; exits 1 when a VM could not be read")
    listing.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=guarded(_cmd_list))
    rotate = certs_sub.add_parser("rotate", help="re-issue every VM's certificate from the vaulted CA and reload "
                                  "the TLS services with health waits (no outage; safe to repeat)")
    rotate.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    rotate.add_argument("--ca", action="store_true", help="first replace the CA itself; the old CA stays trusted "
                        "until --retire-previous-ca")
    rotate.add_argument("--retire-previous-ca", action="store_true", help="stop trusting the CA replaced by the "
                        "last --ca rotation (after the overlap, when no client holds it any more)")
    rotate.set_defaults(func=guarded(_cmd_rotate))
