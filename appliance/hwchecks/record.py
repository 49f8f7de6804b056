"""Record a real controller's answers as test fixtures (read-only GETs).

    OSON_BMC_USERNAME=... OSON_BMC_PASSWORD=... python -m appliance.hwchecks.record redfish \\
        --address 10.10.0.105 --out tests/fixtures/redfish/dl360-gen10-site --scrub
    OSON_MSA_USERNAME=... OSON_MSA_PASSWORD=... python -m appliance.hwchecks.record msa \\
        --address 10.10.0.120 --out tests/fixtures/msa/msa2040-site

Redfish: walks the resources the prechecks read (the service root, Systems/1 with its processors,
memory and storage, Chassis/1 with Power and Thermal, Managers/1, the firmware inventory) and writes
each as `<out>/<uri>/index.json`, the layout `mockserver.RecordedController` serves. MSA: `show disks`
and `show controllers` as disks.xml and controllers.xml. `--scrub` replaces serial numbers, UUIDs
and MAC addresses so a fixture can be shared.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import ssl
import sys
import urllib.request
from collections import deque
from pathlib import Path
from typing import Any

from appliance.hwchecks.msa import login_accepted

# Resources under these paths are recorded; links elsewhere (logs, accounts, sessions) are not followed.
RECORD = re.compile(r"^/redfish/v1/(|(Systems|Chassis|Managers)/?|Systems/1/(|(Processors|Memory|Storage)/.*)|"
                    r"Chassis/1/(|(Power|Thermal)/)|Managers/1/|UpdateService/(|FirmwareInventory/.*))$")
SCRUB_KEYS = ("SerialNumber", "UUID", "MACAddress", "PermanentMACAddress", "serial-number", "mac-address")
MAX_RESOURCES = 400


def _context(ca: str | None) -> ssl.SSLContext:
    if ca:
        return ssl.create_default_context(cafile=ca)
    # Controllers ship self-signed certificates; recording only reads.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _get(url: str, headers: dict[str, str], context: ssl.SSLContext) -> bytes:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return bytes(response.read())


def _links(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "@odata.id" and isinstance(value, str):
                found.append(value.split("#", 1)[0])
            else:
                found += _links(value)
    elif isinstance(node, list):
        for item in node:
            found += _links(item)
    return found


def _scrub(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: ("SCRUBBED" if k in SCRUB_KEYS and isinstance(v, str) else _scrub(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub(v) for v in node]
    return node


def record_redfish(address: str, username: str, password: str, out: Path, scrub: bool, ca: str | None) -> int:
    context = _context(ca)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode(),
            "Accept": "application/json"}
    queue, seen = deque(["/redfish/v1/"]), set()
    while queue and len(seen) < MAX_RESOURCES:
        uri = queue.popleft()
        normal = uri if uri.endswith("/") else uri + "/"
        if normal in seen or not RECORD.match(normal):
            continue
        seen.add(normal)
        body = json.loads(_get(f"https://{address}{uri}", auth, context))
        target = out / normal.strip("/") / "index.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(_scrub(body) if scrub else body, indent=2, sort_keys=True) + "\n")
        queue.extend(_links(body))
    return len(seen)


def record_msa(address: str, username: str, password: str, out: Path, scrub: bool, ca: str | None) -> int:
    context = _context(ca)
    login_hash = hashlib.md5(f"{username}_{password}".encode()).hexdigest()
    answer = _get(f"https://{address}/api/login/{login_hash}", {}, context).decode()
    m = re.search(r'name="response"[^>]*>([^<]*)<', answer)
    if not m or not login_accepted(answer):
        raise SystemExit("the MSA refused the login: check the user and password (a monitor user is enough)")
    out.mkdir(parents=True, exist_ok=True)
    for command in ("disks", "controllers"):
        xml = _get(f"https://{address}/api/show/{command}", {"sessionKey": m[1], "dataType": "api"}, context).decode()
        if scrub:
            xml = re.sub(r'(name="(serial-number|mac-address)"[^>]*>)[^<]*', r"\1SCRUBBED", xml)
        (out / f"{command}.xml").write_text(xml)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record a controller's answers as prechecks fixtures (reads only).")
    parser.add_argument("kind", choices=("redfish", "msa"))
    parser.add_argument("--address", required=True, help="the iLO or MSA management address (host[:port])")
    parser.add_argument("--out", required=True, type=Path, help="fixture directory to write")
    parser.add_argument("--scrub", action="store_true", help="replace serial numbers, UUIDs and MAC addresses")
    parser.add_argument("--ca", help="CA file to verify the controller's certificate (default: not verified)")
    args = parser.parse_args(argv)
    prefix = "OSON_BMC" if args.kind == "redfish" else "OSON_MSA"
    username, password = os.environ.get(f"{prefix}_USERNAME"), os.environ.get(f"{prefix}_PASSWORD")
    if not username or not password:
        print(f"set {prefix}_USERNAME and {prefix}_PASSWORD (a read-only account is enough)", file=sys.stderr)
        return 2
    recorder = record_redfish if args.kind == "redfish" else record_msa
    count = recorder(args.address, username, password, args.out, args.scrub, args.ca)
    print(f"recorded {count} resources into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
