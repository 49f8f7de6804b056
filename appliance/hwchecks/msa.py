"""Judge the HPE MSA 2040 from its own management API (it has no Redfish).

The MSA's XML API (`https://<controller>/api/...`, the same commands as its CLI) answers
`show disks` and `show controllers` with <OBJECT> elements of <PROPERTY name=...> values. The
prechecks playbook logs in (`/api/login/<md5 of "user_password">`, the session key comes back in the
`response` property) and fetches both; this module parses and judges them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from appliance.hwchecks.findings import Finding
from appliance.hwchecks.minimums import HardwareMinimums


class MsaResponseError(ValueError):
    """Not an MSA API answer, or a command the array refused."""


def parse_objects(xml_text: str, basetype: str) -> list[dict[str, str]]:
    """The <OBJECT basetype=...> elements of an MSA API response as name -> value dicts."""
    try:
        root = ET.fromstring(xml_text.strip().encode())
    except ET.ParseError as err:
        raise MsaResponseError(f"not an MSA API XML answer: {err}") from None
    for status in root.iter("OBJECT"):
        if status.get("basetype") == "status":
            props = {p.get("name", ""): (p.text or "") for p in status.iter("PROPERTY")}
            if props.get("response-type") not in (None, "Success", "Info"):
                raise MsaResponseError(f"the array refused {root.get('REQUEST', 'the command')!r}: "
                                       f"{props.get('response', '?')}")
    return [{p.get("name", ""): (p.text or "") for p in obj.iter("PROPERTY")}
            for obj in root.iter("OBJECT") if obj.get("basetype") == basetype]


def disk_size_gb(disk: dict[str, str]) -> float:
    """Size in GB (10^9 bytes): size-numeric counts 512-byte blocks; "1920.3GB" is the fallback."""
    if disk.get("size-numeric", "").isdigit():
        return int(disk["size-numeric"]) * 512 / 1e9
    m = re.match(r"([\d.]+)\s*(GB|TB)", disk.get("size", ""))
    return float(m[1]) * (1000 if m and m[2] == "TB" else 1) if m else 0.0


def firmware_tuple(text: str) -> tuple[int, str, int] | None:
    """('GL225R003') -> (225, 'R', 3): the bundle number, then the release letter and build."""
    m = re.match(r"GL(\d+)([A-Z])(\d+)", text.strip())
    return (int(m[1]), m[2], int(m[3])) if m else None


def evaluate_msa(name: str, disks_xml: str, controllers_xml: str, minimums: HardwareMinimums) -> list[Finding]:
    try:
        disks = parse_objects(disks_xml, "drives")
        controllers = parse_objects(controllers_xml, "controllers")
    except MsaResponseError as err:
        return [Finding(name, "msa api", False, f"{err}: check the MSA management address and the credentials "
                        "in the vault (vault_msa_username, vault_msa_password)")]
    out: list[Finding] = []
    ssds = [d for d in disks if d.get("architecture") == "SSD"]
    big = [d for d in ssds if disk_size_gb(d) >= minimums.msa_ssd_size_gb]
    others = [d for d in disks if d.get("architecture") != "SSD"]
    ok = len(big) >= minimums.msa_ssds
    detail = (f"{len(big)} SSDs of at least {minimums.msa_ssd_size_gb:.0f} GB"
              + (f" (and {len(others)} other disks: " + ", ".join(f"{d.get('location')} {d.get('architecture')} "
                                                                 f"{d.get('size')}" for d in others) + ")"
                 if others else ""))
    if not ok:
        detail += (f"; §14.2 needs {minimums.msa_ssds} x 1.92 TB SSD: fit {minimums.msa_ssds - len(big)} more "
                   "SSD(s) of the MSA 2040's supported SSD list")
    out.append(Finding(name, "msa ssds", ok, detail))
    sick = [d for d in disks if d.get("health") != "OK"]
    out.append(Finding(name, "msa disk health", bool(disks) and not sick,
                       f"{len(disks)} disks report OK" if disks and not sick else
                       "no disks reported" if not disks else
                       "; ".join(f"disk {d.get('location', '?')} ({d.get('serial-number', '?')}) is {d.get('health')}"
                                 f"/{d.get('status', '?')}: {d.get('health-reason', '').strip()} "
                                 f"{d.get('health-recommendation', '').strip().lstrip('- ')}".strip() for d in sick)))
    bad_ctrl = [c for c in controllers if c.get("health") != "OK" or c.get("status") != "Operational"]
    out.append(Finding(name, "msa controllers", len(controllers) == 2 and not bad_ctrl,
                       f"controllers {', '.join(c.get('controller-id', '?') for c in controllers)} operational, OK"
                       if len(controllers) == 2 and not bad_ctrl else
                       f"{len(controllers)} controller(s) reported"
                       + "".join(f"; controller {c.get('controller-id', '?')} is {c.get('status')}/{c.get('health')}: "
                                 f"{c.get('health-recommendation', '').strip() or 'see the MSA event log'}"
                                 for c in bad_ctrl)
                       + ("; the MSA 2040 needs both controllers for failover: fit or repair the missing one"
                          if len(controllers) != 2 else "")))
    need = firmware_tuple(minimums.msa_firmware)
    old = [c for c in controllers if (firmware_tuple(c.get("sc-fw", "")) or (0, "", 0)) < (need or (0, "", 0))]
    out.append(Finding(name, "msa firmware", bool(controllers) and not old,
                       ", ".join(f"{c.get('controller-id', '?')}: {c.get('sc-fw', '?')}" for c in controllers)
                       + ("" if controllers and not old else
                          f"; need {minimums.msa_firmware} or later: update the array firmware (both controllers) "
                          "from HPE's MSA 2040 firmware bundle")))
    return out


def login_accepted(xml_text: str) -> bool:
    """Whether an /api/login answer carries a session key (its status object's return-code is 1)."""
    try:
        root = ET.fromstring(xml_text.strip().encode())
    except ET.ParseError:
        return False
    for obj in root.iter("OBJECT"):
        if obj.get("basetype") == "status":
            props = {p.get("name", ""): (p.text or "") for p in obj.iter("PROPERTY")}
            return props.get("return-code") == "1"
    return False
