"""The one-machine lab: the rack in a box.

One privileged systemd container per VM, on podman networks that mirror the VLANs of the topology,
converged by the same site playbook and roles as production.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from appliance.ansible_run import PlaybookResult, run_playbook
from appliance.bundle.manifest import checksum_problem
from appliance.firewall.labnet import apply_lab_enforcement, remove_lab_enforcement
from appliance.firewall.render import render_all
from appliance.paths import LAB_INVENTORY, LAB_STATE, PLAYBOOKS
from appliance.secrets import ca_certificate, ensure_secrets, vault_password_file
from appliance.topology import HostRole, Topology, load_topology

# What every container image carries before Ansible sees it: enough to boot systemd and run modules.
IMAGE_PACKAGES: tuple[str, ...] = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "python3",
    "iproute2",
    "sudo",
    "apt-utils",
    "openssh-server",
)
IMAGE_REPOSITORY = "localhost/oson-base"
LABEL = "oson.lab"
SECCOMP_PROFILE = Path(__file__).resolve().parent / "data" / "lab-seccomp.json"
# The units that must be active on each kind of VM for it to count as healthy.
ROLE_UNITS: dict[HostRole, tuple[str, ...]] = {
    HostRole.LB: ("haproxy", "keepalived"),
    HostRole.WEB: ("apache2",),
    HostRole.APP: ("oson-operator",),
    HostRole.DB: ("etcd", "patroni", "pgbackrest"),
    HostRole.WITNESS: ("etcd",),
    HostRole.BACKUP: ("pgbackrest",),
}
# Named podman volumes that stand for the rack's backup volumes, and where the VMs mount them.
BACKUP_VOLUMES: dict[HostRole, str] = {HostRole.DB: "backup-repo1", HostRole.BACKUP: "backup-repo2"}
BACKUP_REPOSITORY_PATH = "/var/lib/pgbackrest"


class LabError(RuntimeError):
    pass


def _run(cmd: list[str], *, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise LabError(f"`{' '.join(cmd)}` failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def load_lab_topology(inventory: Path = LAB_INVENTORY) -> Topology:
    topology = load_topology(inventory)
    if topology.platform != "container":
        raise LabError(f"{inventory}: the lab needs `platform: container` in its topology")
    return topology


# -- image -----------------------------------------------------------------------------------------


def image_name() -> str:
    digest = hashlib.sha256(" ".join(IMAGE_PACKAGES).encode()).hexdigest()[:10]
    return f"{IMAGE_REPOSITORY}:bookworm-{digest}"


def debian_mirror() -> str:
    """The Debian mirror this machine's own apt sources use (the one that is reachable)."""
    candidates: list[str] = []
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("URIs:"):
                candidates += line.split()[1:]
    sources_list = Path("/etc/apt/sources.list")
    if sources_list.exists():
        for line in sources_list.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb":
                candidates.append(parts[1] if not parts[1].startswith("[") else parts[2])
    for uri in candidates:
        if "security" not in uri:
            return uri
    return "http://deb.debian.org/debian"


def ensure_image() -> str:
    name = image_name()
    if _run(["podman", "image", "exists", name], check=False).returncode == 0:
        return name
    rootfs = LAB_STATE / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    rootfs.parent.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    say(f"building the base image {name} with debootstrap from {mirror} (about a minute)")
    started = time.monotonic()
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(IMAGE_PACKAGES)}", "bookworm", str(rootfs), mirror],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:] + proc.stderr.splitlines()[-15:])
        raise LabError(f"debootstrap failed; is {mirror} reachable? Last lines:\n{tail}")
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    imp = subprocess.run(
        ["podman", "import", "--change", 'CMD ["/sbin/init"]', "-", name],
        stdin=tar.stdout,
        capture_output=True,
        text=True,
    )
    tar.wait()
    shutil.rmtree(rootfs, ignore_errors=True)
    if imp.returncode != 0:
        raise LabError(f"podman import failed: {imp.stderr.strip()}")
    say(f"base image ready in {time.monotonic() - started:.0f}s")
    return name


# -- networks and containers -------------------------------------------------------------------------


def ensure_networks(topology: Topology) -> None:
    for net_name, net in topology.networks.items():
        resource = topology.network_resource_name(net_name)
        existing = _run(["podman", "network", "inspect", resource], check=False)
        if existing.returncode == 0:
            subnets = [s["subnet"] for s in json.loads(existing.stdout)[0].get("subnets", [])]
            if str(net.cidr) not in subnets:
                raise LabError(
                    f"podman network {resource} exists with subnets {subnets}, not {net.cidr}; "
                    "run `osonctl lab down` first"
                )
            continue
        cmd = ["podman", "network", "create", "--label", f"{LABEL}={topology.name}", "--subnet", str(net.cidr)]
        if net.gateway:
            cmd += ["--gateway", str(net.gateway)]
        # Only the management network routes out (package mirror); the others are closed VLANs.
        if net_name != "mgmt":
            cmd.append("--internal")
        _run([*cmd, resource])


def container_state(name: str) -> str:
    proc = _run(["podman", "container", "inspect", "--format", "{{.State.Status}}", name], check=False)
    return proc.stdout.strip() if proc.returncode == 0 else "absent"


def ensure_containers(topology: Topology, image: str) -> None:
    for host_name, host in topology.hosts.items():
        container = topology.container_name(host_name)
        state = container_state(container)
        if state == "running":
            continue
        if state != "absent":
            say(f"starting {container} ({state})")
            _run(["podman", "start", container])
            continue
        cmd = [
            "podman",
            "run",
            "-d",
            "--name",
            container,
            "--hostname",
            host_name,
            "--label",
            f"{LABEL}={topology.name}",
            "--privileged",
            "--systemd=always",
            "--no-hosts",
            # The containers share this machine's clock: nothing in them may set it (chrony, timedated).
            "--security-opt",
            f"seccomp={SECCOMP_PROFILE}",
        ]
        # The backup repositories sit on their own volumes, as on the rack: repo1 on one volume shared by
        # both database VMs (the MSA backup volume), repo2 on the backup host's own disk.
        volume = BACKUP_VOLUMES.get(host.role)
        if volume:
            cmd += ["--volume", f"{topology.name}-{volume}:{BACKUP_REPOSITORY_PATH}"]
        # mgmt first so that it is eth0 and carries the default route out.
        for net_name in sorted(host.addresses, key=lambda n: (n != "mgmt", n)):
            cmd += ["--network", f"{topology.network_resource_name(net_name)}:ip={host.addresses[net_name]}"]
        _run([*cmd, image, "/sbin/init"])
    say(f"{len(topology.hosts)} containers running")


def lab_ssh_key() -> Path:
    """The lab's own throwaway deploy key (production uses the operator's keys)."""
    key = LAB_STATE / "ssh" / "id_ed25519"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "oson-lab-deploy", "-f", str(key)])
    return key


# What cloud-init does for a real VM: a deploy user with the deploy key and sudo, fresh SSH host keys.
BOOTSTRAP_SCRIPT = r"""
set -eu
[ -f /etc/oson-lab-bootstrapped ] && exit 0
id {user} >/dev/null 2>&1 || useradd --create-home --shell /bin/bash {user}
install -d -m 0700 -o {user} -g {user} /home/{user}/.ssh
printf '%s\n' '{pubkey}' > /home/{user}/.ssh/authorized_keys
chown {user}:{user} /home/{user}/.ssh/authorized_keys && chmod 0600 /home/{user}/.ssh/authorized_keys
printf '%s ALL=(ALL) NOPASSWD:ALL\n' {user} > /etc/sudoers.d/90-deploy && chmod 0440 /etc/sudoers.d/90-deploy
rm -f /etc/ssh/ssh_host_*key* && ssh-keygen -A >/dev/null
systemctl restart ssh
touch /etc/oson-lab-bootstrapped
"""


def bootstrap_access(topology: Topology) -> None:
    pubkey = lab_ssh_key().with_suffix(".pub").read_text(encoding="utf-8").strip()
    script = BOOTSTRAP_SCRIPT.format(user=topology.ssh_user, pubkey=pubkey)
    for host_name in topology.hosts:
        _run(["podman", "exec", topology.container_name(host_name), "sh", "-c", script])


def wait_booted(topology: Topology, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    pending = set(topology.hosts)
    while pending and time.monotonic() < deadline:
        for host_name in sorted(pending):
            proc = _run(
                ["podman", "exec", topology.container_name(host_name), "systemctl", "is-system-running"],
                check=False,
            )
            if proc.stdout.strip() in ("running", "degraded"):
                pending.discard(host_name)
        if pending:
            time.sleep(1)
    if pending:
        raise LabError(f"systemd did not finish booting in {timeout:.0f}s on: {', '.join(sorted(pending))}")


LAB_CA_FILE = LAB_STATE / "ca.crt"


def lab_ca_file(topology: Topology, inventory: Path = LAB_INVENTORY) -> Path:
    """Copy the appliance CA out of the vault so clients on this machine can verify the lab."""
    LAB_CA_FILE.parent.mkdir(parents=True, exist_ok=True)
    LAB_CA_FILE.write_text(ca_certificate(inventory, topology), encoding="utf-8")
    return LAB_CA_FILE


# -- package source: the VMs' mirror, or the offline bundle with no way out -------------------------------


def package_source_file(inventory: Path = LAB_INVENTORY) -> Path:
    """The lab inventory's package-source variables, written by `osonctl lab up --offline` (not committed)."""
    return inventory / "group_vars" / "all" / "package-source.yml"


def offline_bundle(inventory: Path = LAB_INVENTORY) -> Path | None:
    """The bundle the lab installs from, or None when its VMs use their Debian mirror."""
    path = package_source_file(inventory)
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("oson_package_source") != "bundle":
        return None
    return Path(str(data["oson_bundle_file"]))


def use_offline_bundle(inventory: Path, bundle: Path) -> None:
    """From the next converge on, the VMs install only from `bundle` and nothing leaves the lab networks."""
    bundle = bundle.resolve()
    problem = checksum_problem(bundle)
    if problem:
        raise LabError(f"{problem}; build one with `osonctl bundle -i {inventory}` or run "
                       "`osonctl lab up --offline` without --bundle")
    package_source_file(inventory).write_text(
        "# Written by `osonctl lab up --offline`; removed by `osonctl lab up --online` and `osonctl lab down`.\n"
        "# The lab's VMs install from the offline bundle only, and the lab networks have no way out.\n"
        + yaml.safe_dump({"oson_package_source": "bundle", "oson_bundle_file": str(bundle)}, sort_keys=False),
        encoding="utf-8",
    )


def use_mirror(inventory: Path = LAB_INVENTORY) -> None:
    package_source_file(inventory).unlink(missing_ok=True)


# -- converge and health -----------------------------------------------------------------------------


def converge(
    topology: Topology, inventory: Path = LAB_INVENTORY, extra_args: list[str] | None = None, *, quiet: bool = False
) -> PlaybookResult:
    ensure_secrets(inventory, topology)
    ca_file = lab_ca_file(topology, inventory)
    # The VMs' nftables rulesets are rendered from firewall/policy.yml before the play installs them;
    # the host's forward filter between the lab networks stands in for the FortiGate. An offline lab's
    # filter also closes the way out (as a rack without Internet access has none).
    render_all(topology)
    apply_lab_enforcement(topology, closed_to_outside=offline_bundle(inventory) is not None)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return run_playbook(
        PLAYBOOKS / "site.yml",
        inventory / "topology.yml",
        log_file=LAB_STATE / "logs" / f"converge-{stamp}.log",
        vault_password_file=vault_password_file(topology),
        extra_args=extra_args,
        extra_env={"OSON_CA_FILE": str(ca_file)},
        quiet=quiet,
    )


def https_get_json(url: str, ca_file: Path, timeout: float = 5) -> tuple[int, dict[str, object]]:
    ctx = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            return err.code, json.loads(body or b"{}")
        except json.JSONDecodeError:
            return err.code, {}
    except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as err:
        return 0, {"error": str(err)}


def public_health_url(topology: Topology) -> str:
    return f"https://{topology.vips['public'].address}/api/health"


def wait_public_health(topology: Topology, ca_file: Path, timeout: float = 180) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    last: tuple[int, dict[str, object]] = (0, {})
    while time.monotonic() < deadline:
        last = https_get_json(public_health_url(topology), ca_file)
        if last[0] == 200:
            return last[1]
        time.sleep(1)
    raise LabError(f"{public_health_url(topology)} did not answer 200 within {timeout:.0f}s (last: {last})")


@dataclass
class HostStatus:
    host: str
    role: str
    hypervisor: str
    container: str
    address: str
    state: str
    health: str
    detail: str


def _patroni_role(address: str, ca_file: Path | None) -> str:
    if ca_file is None:
        return "?"
    code, body = https_get_json(f"https://{address}:8008/patroni", ca_file, timeout=3)
    if code == 0:
        return "patroni unreachable"
    return f"patroni {body.get('role', '?')} ({body.get('state', '?')})"


def _vip_holder(container: str, topology: Topology) -> bool:
    proc = _run(["podman", "exec", container, "ip", "-4", "-o", "addr"], check=False)
    return str(topology.vips["public"].address) in proc.stdout


def status(topology: Topology, inventory: Path = LAB_INVENTORY) -> list[HostStatus]:
    ca_file = LAB_CA_FILE if LAB_CA_FILE.exists() else None
    rows: list[HostStatus] = []
    for host_name in sorted(topology.hosts, key=lambda h: (list(HostRole).index(topology.hosts[h].role), h)):
        host = topology.hosts[host_name]
        container = topology.container_name(host_name)
        state = container_state(container)
        health, detail = "down", ""
        if state == "running":
            units = ROLE_UNITS[host.role]
            proc = _run(["podman", "exec", container, "systemctl", "is-active", *units], check=False)
            states = proc.stdout.split()
            inactive = [u for u, s in zip(units, states, strict=False) if s != "active"]
            health = "healthy" if not inactive and len(states) == len(units) else "unhealthy"
            detail = ", ".join(f"{u} {s}" for u, s in zip(units, states, strict=False) if s != "active")
            if host.role == HostRole.DB:
                detail = ", ".join(x for x in (detail, _patroni_role(str(host.addresses["db"]), ca_file)) if x)
            if host.role == HostRole.LB and _vip_holder(container, topology):
                detail = ", ".join(x for x in (detail, "holds the VIPs") if x)
        rows.append(
            HostStatus(
                host=host_name,
                role=str(host.role),
                hypervisor=host.hypervisor,
                container=container,
                address=str(host.addresses["mgmt"]),
                state=state,
                health=health,
                detail=detail,
            )
        )
    return rows


def status_json(rows: list[HostStatus]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2)


def down(topology: Topology, purge_image: bool = False) -> None:
    remove_lab_enforcement(topology)
    for host_name in topology.hosts:
        container = topology.container_name(host_name)
        if container_state(container) != "absent":
            _run(["podman", "rm", "-f", "-t", "5", container])
    for net_name in topology.networks:
        resource = topology.network_resource_name(net_name)
        if _run(["podman", "network", "exists", resource], check=False).returncode == 0:
            _run(["podman", "network", "rm", "-f", resource])
    for volume in BACKUP_VOLUMES.values():
        _run(["podman", "volume", "rm", "-f", f"{topology.name}-{volume}"], check=False)
    if purge_image:
        _run(["podman", "rmi", "-f", image_name()], check=False)
