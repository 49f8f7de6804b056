"""testssl.sh against one TLS endpoint, judged by the appliance's TLS policy.

The policy (docs/tls.md): only TLSv1.2 and TLSv1.3; no NULL, anonymous, export, LOW (DES, RC2, RC4),
3DES/IDEA or CBC ("obsoleted") suites; every TLSv1.2 suite with forward secrecy (ECDHE); HSTS with a
max-age of at least a year. testssl.sh writes one finding per check into its flat JSON file
(``--jsonfile``); ``judge`` turns those findings into problems. A check that testssl did not report
is a problem too: a scan that could not look never passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# testssl.sh 3.0 finding ids and what they must say.
PROTOCOLS_REFUSED = ("SSLv2", "SSLv3", "TLS1", "TLS1_1")
PROTOCOLS_OFFERED = ("TLS1_2",)
WEAK_CIPHER_LISTS = {
    "cipherlist_NULL": "NULL ciphers (no encryption)",
    "cipherlist_aNULL": "anonymous (unauthenticated) ciphers",
    "cipherlist_EXPORT": "export ciphers",
    "cipherlist_LOW": "LOW ciphers (64-bit, DES, RC2, RC4)",
    "cipherlist_3DES_IDEA": "3DES and IDEA ciphers",
    "cipherlist_AVERAGE": "obsoleted CBC ciphers",
}
# Encryption column of testssl's suite listing for the AEAD ciphers the policy allows.
AEAD_ENCRYPTIONS = frozenset({"AESGCM", "ChaCha20", "AESCCM", "AESCCM8"})
HSTS_MIN_SECONDS = 365 * 24 * 3600
# -p protocols, -s cipher categories, -f forward secrecy, -e every offered suite with its key exchange and
# cipher (catches RSA key exchange and CBC suites one by one), -h headers (HSTS).
CHECKS = ("-p", "-s", "-f", "-e", "-h")
DEFAULT_TIMEOUT = 300.0


class TlsScanError(RuntimeError):
    """testssl.sh could not be run; the message says what to do."""


@dataclass
class TlsScan:
    """One testssl.sh run and its verdict."""

    target: str
    sni: str
    command: list[str]
    returncode: int
    seconds: float
    findings: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    summary: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def testssl_binary() -> str:
    for name in ("testssl", "testssl.sh"):
        found = shutil.which(name)
        if found:
            return found
    raise TlsScanError("testssl.sh is not installed: run `apt-get install -y testssl.sh` on the control node")


def _by_id(findings: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for item in findings:
        # A name may repeat (one per IP); the first is the one asked for with --ip.
        found.setdefault(str(item.get("id", "")), item)
    return found


def _not_offered(finding: str) -> bool:
    return "not offered" in finding.lower()


def hsts_seconds(finding: str) -> int | None:
    """max-age in seconds from testssl's HSTS finding ('730 days=63072000 s', ...), or None."""
    match = re.search(r"=\s*(\d+)\s*s(?:econds)?\b", finding) or re.search(r"max-age=(\d+)", finding)
    if match:
        return int(match.group(1))
    match = re.search(r"(\d+)\s*days?", finding)
    return int(match.group(1)) * 86400 if match else None


def suite_name(finding: str) -> str:
    parts = finding.split()
    return parts[1] if len(parts) > 1 else finding


def suite_problems(finding: str) -> list[str]:
    """Problems with one offered suite of testssl's -e listing ('xc02b  ECDHE-ECDSA-AES128-GCM-SHA256  ECDH 253
    AESGCM 128  TLS_ECDHE_...'): the key exchange must be ephemeral ECDH and the cipher an AEAD."""
    parts = finding.split()
    if len(parts) < 5:
        return [f"unreadable cipher suite line from testssl: {finding!r}"]
    name, kx = parts[1], parts[2]
    encryption = parts[4] if parts[3].isdigit() else parts[3]
    problems = []
    if not kx.startswith("ECDH"):
        problems.append(f"{name}: key exchange {kx} has no forward secrecy (only ECDHE is allowed)")
    if encryption not in AEAD_ENCRYPTIONS:
        problems.append(f"{name}: {encryption} is not an AEAD cipher (CBC and stream ciphers are not allowed)")
    return problems


def judge(findings: list[dict[str, str]]) -> tuple[list[str], dict[str, str]]:
    """(problems, summary) of a testssl.sh flat JSON finding list under the appliance's TLS policy."""
    items = _by_id(findings)
    problems: list[str] = []
    summary: dict[str, str] = {}

    def need(finding_id: str) -> str | None:
        item = items.get(finding_id)
        if item is None:
            problems.append(f"testssl did not report {finding_id}: the scan is incomplete")
            return None
        summary[finding_id] = str(item.get("finding", ""))
        return summary[finding_id]

    for item in findings:
        if str(item.get("severity", "")).upper() == "FATAL" or item.get("id") == "scanProblem":
            problems.append(f"testssl could not complete the scan: {item.get('finding')}")
    for proto in PROTOCOLS_REFUSED:
        text = need(proto)
        if text is not None and not _not_offered(text):
            problems.append(f"{proto} is offered ({text}); only TLSv1.2 and TLSv1.3 are allowed")
    for proto in PROTOCOLS_OFFERED:
        text = need(proto)
        if text is not None and (_not_offered(text) or "offered" not in text.lower()):
            problems.append(f"{proto} is not offered ({text})")
    tls13 = items.get("TLS1_3")
    if tls13 is not None:
        summary["TLS1_3"] = str(tls13.get("finding", ""))
    for list_id, label in WEAK_CIPHER_LISTS.items():
        text = need(list_id)
        if text is not None and not _not_offered(text):
            problems.append(f"{label} are offered ({list_id}: {text})")
    fs = items.get("PFS") or items.get("FS")
    if fs is None:
        problems.append("testssl did not report forward secrecy (PFS): the scan is incomplete")
    else:
        summary["PFS"] = str(fs.get("finding", ""))
        if _not_offered(summary["PFS"]):
            problems.append(f"forward secrecy is not offered: {summary['PFS']}")
    suites = [item for item in findings if str(item.get("id", "")).startswith("cipher_x")]
    if not suites:
        problems.append("testssl listed no offered cipher suite (-e): the scan is incomplete")
    for item in suites:
        problems.extend(suite_problems(str(item.get("finding", ""))))
    summary["suites"] = " ".join(sorted(suite_name(str(i.get("finding", ""))) for i in suites))
    hsts_item = items.get("HSTS_time") or items.get("HSTS")
    hsts = None if hsts_item is None else str(hsts_item.get("finding", ""))
    if hsts is None:
        problems.append("testssl did not report HSTS: the scan is incomplete")
    else:
        summary["HSTS"] = hsts
        seconds = hsts_seconds(hsts)
        if _not_offered(hsts) or seconds is None:
            problems.append(f"no Strict-Transport-Security header ({hsts})")
        elif seconds < HSTS_MIN_SECONDS:
            problems.append(f"HSTS max-age {seconds} s is shorter than a year ({HSTS_MIN_SECONDS} s)")
    return problems, summary


def testssl_command(host: str, port: int, *, ca_file: Path | None, sni: str | None, json_file: Path,
                    checks: tuple[str, ...] = CHECKS) -> list[str]:
    """The command line run_testssl uses (also printed in the audit report, to re-run it by hand)."""
    name = sni or host
    command = [testssl_binary(), "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
               "--connect-timeout", "10", "--openssl-timeout", "10", "--sneaky", "--jsonfile", str(json_file)]
    if sni:
        # Connect to host (an address) while sending the public name as SNI and Host header.
        command += ["--ip", host]
    if ca_file is not None:
        command += ["--add-ca", str(ca_file)]
    return [*command, *checks, f"{name}:{port}"]


def run_testssl(host: str, port: int, *, ca_file: Path | None, sni: str | None,
                timeout: float = DEFAULT_TIMEOUT, checks: tuple[str, ...] = CHECKS) -> TlsScan:
    """Scan ``host:port`` (sending ``sni`` as server name) with testssl.sh and judge its findings."""
    with tempfile.TemporaryDirectory(prefix="oson-testssl-") as work:
        json_file = Path(work) / "scan.json"
        command = testssl_command(host, port, ca_file=ca_file, sni=sni, json_file=json_file, checks=checks)
        # testssl reads its own version from the git repository it is started in; a neutral cwd.
        env = dict(os.environ, TERM="dumb")
        started = time.monotonic()
        try:
            proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise TlsScanError(f"testssl.sh did not finish within {timeout:.0f} s against {host}:{port}; "
                               "check that the address answers TLS (e.g. `openssl s_client -connect "
                               f"{host}:{port}`)") from None
        seconds = time.monotonic() - started
        findings: list[dict[str, str]] = []
        if json_file.exists():
            try:
                findings = [dict(i) for i in json.loads(json_file.read_text(encoding="utf-8") or "[]")]
            except json.JSONDecodeError:
                findings = []
    target = f"{host}:{port}"
    scan = TlsScan(target=target, sni=sni or host, command=[Path(command[0]).name, *command[1:]],
                   returncode=proc.returncode, seconds=round(seconds, 1),
                   findings=[{k: str(i.get(k, "")) for k in ("id", "severity", "finding")} for i in findings])
    if not findings:
        output = (proc.stderr or proc.stdout or "").strip()[-800:]
        scan.problems.append(f"testssl.sh produced no findings (exit {proc.returncode}): {output}")
        return scan
    scan.problems, scan.summary = judge(scan.findings)
    return scan
