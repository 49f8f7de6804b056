"""The haproxy, keepalived and apache role templates, rendered for the lab and checked by the real binaries.

The templates are rendered through Ansible (`tests/unit/render/render.yml`: the roles' own defaults,
the lab topology through the inventory plugin, the keepalived role's own interface lookup), then:

* `haproxy -c -f` checks every lb host's haproxy.cfg;
* `keepalived -t -f` checks every lb host's keepalived.conf inside a private network namespace that
  has the interfaces the config names (keepalived refuses configs naming missing interfaces);
* the apache role's own validation script (`apache2ctl -t` in a copy of the whole tree) checks each
  file in the order the role installs them, in a copy of this machine's Debian /etc/apache2 with the
  role's modules enabled, and `apache2ctl -t -D DUMP_VHOSTS` / `-M` show what Apache would serve.

Key content is compared with what the topology model says (independently of Ansible), and broken
renders are shown to be rejected. Nothing is started and no port is bound.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.topology import HostRole, Topology, load_topology

REPO = Path(__file__).resolve().parents[2]
RENDER_PLAYBOOK = REPO / "tests" / "unit" / "render" / "render.yml"
LAB_INVENTORY = REPO / "inventory" / "lab"
APACHE_VALIDATE = REPO / "roles" / "apache" / "files" / "oson-apache2-validate"
APACHE_DEFAULTS = REPO / "roles" / "apache" / "defaults" / "main.yml"
# Interface names for the fake network facts of the lb hosts: deliberately not eth0/eth1 so that a
# template that hard-codes names fails; the keepalived role must find them by address.
INTERFACES = {"mgmt": "ens3", "dmz": "ens4", "web": "ens5", "app": "ens6", "db": "ens7"}
BINARIES = ("haproxy", "keepalived", "apache2ctl", "a2enmod", "unshare", "ip", "openssl")


def _require_binaries() -> None:
    missing = [b for b in BINARIES if shutil.which(b) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: these tests validate with the real binaries; "
            "run `apt-get install -y haproxy keepalived apache2 iproute2 openssl util-linux`"
        )


@dataclass(frozen=True)
class Pki:
    ca: Path
    cert: Path
    key: Path


def _make_pki(directory: Path) -> Pki:
    """A throwaway CA and a host certificate, so the paths the configs name exist and parse."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    host_key = ec.generate_private_key(ec.SECP256R1())
    host_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "web")]))
        .issuer_name(ca_name)
        .public_key(host_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("pay.oson.lab")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(ca=directory / "ca.crt", cert=directory / "host.crt", key=directory / "host.key")
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(host_cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        host_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pki.key.chmod(0o600)
    return pki


def _render(workdir: Path, pki: Pki, overrides: dict[str, object] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the render playbook against a copy of the lab topology; files land in workdir/out/<host>/.

    The topology file is copied alone: the lab inventory directory also holds the generated vault,
    which rendering does not need (the templates of these roles use no secrets).
    """
    inventory = workdir / "inventory"
    inventory.mkdir(parents=True, exist_ok=True)
    shutil.copy(LAB_INVENTORY / "topology.yml", inventory / "topology.yml")
    extra: dict[str, object] = {
        "render_dir": str(workdir / "out"),
        "render_interfaces": INTERFACES,
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "haproxy_ca_file": str(pki.ca),
        "apache_tls_cert_file": str(pki.cert),
        "apache_tls_key_file": str(pki.key),
        "apache_tls_ca_file": str(pki.ca),
    }
    extra.update(overrides or {})
    extra_file = workdir / "extra-vars.json"
    extra_file.write_text(json.dumps(extra), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(inventory / "topology.yml"),
            str(RENDER_PLAYBOOK),
            "-e",
            f"@{extra_file}",
        ],
        cwd=REPO,  # so that ansible.cfg (inventory plugin, roles path) applies
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class Rendered:
    out: Path
    topology: Topology
    pki: Pki

    def file(self, host: str, name: str) -> Path:
        path = self.out / host / name
        assert path.is_file(), f"{path} was not rendered"
        return path

    def text(self, host: str, name: str) -> str:
        return self.file(host, name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology(LAB_INVENTORY)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, topology: Topology) -> Rendered:
    _require_binaries()
    workdir = tmp_path_factory.mktemp("render")
    pki = _make_pki(workdir)
    result = _render(workdir, pki)
    assert result.returncode == 0, f"rendering failed:\n{result.stdout}\n{result.stderr}"
    return Rendered(out=workdir / "out", topology=topology, pki=pki)


def _hosts(topology: Topology, role: HostRole) -> list[str]:
    return topology.hosts_with_role(role)


def _addr(topology: Topology, host: str, network: str) -> IPv4Address:
    return topology.hosts[host].address_on(network)


# -- haproxy ---------------------------------------------------------------------------------------


def _haproxy_sections(text: str) -> dict[str, list[str]]:
    """Section header ("backend web_https") -> its directive lines, comments dropped."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = sections.setdefault(line.strip(), [])
        elif current is not None:
            current.append(line.strip())
    return sections


def test_haproxy_config_is_accepted_by_haproxy(rendered: Rendered) -> None:
    for host in _hosts(rendered.topology, HostRole.LB):
        path = rendered.file(host, "haproxy.cfg")
        result = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{host}: haproxy -c rejected {path}:\n{result.stdout}{result.stderr}"


def test_haproxy_frontends_bind_the_vips_and_the_mgmt_address(rendered: Rendered) -> None:
    topo = rendered.topology
    public = topo.vips["public"].address
    db_vip = topo.vips["db_frontend"].address
    for host in _hosts(topo, HostRole.LB):
        sections = _haproxy_sections(rendered.text(host, "haproxy.cfg"))
        binds = {
            name: [line.split()[1] for line in lines if line.startswith("bind ")] for name, lines in sections.items()
        }
        assert binds["frontend public_https"] == [f"{public}:443"]
        assert binds["frontend public_http"] == [f"{public}:80"]
        assert binds["frontend db_frontend"] == [f"{db_vip}:5432"]
        assert binds["frontend stats"] == [f"{_addr(topo, host, 'mgmt')}:8404"]
        every_bind = [b for bs in binds.values() for b in bs]
        assert not any(b.startswith(("*", "0.0.0.0", ":")) for b in every_bind), every_bind
        assert "mode tcp" in sections["frontend public_https"]
        assert any("redirect" in line and "https://pay.oson.lab" in line for line in sections["frontend public_http"])
        assert "stats socket /run/haproxy/admin.sock" in " ".join(sections["global"])
        assert not any("stats admin" in line for line in sections["frontend stats"])


def test_haproxy_web_backend_lists_each_web_host_checked_over_tls(rendered: Rendered) -> None:
    topo = rendered.topology
    for host in _hosts(topo, HostRole.LB):
        backend = _haproxy_sections(rendered.text(host, "haproxy.cfg"))["backend web_https"]
        servers = {line.split()[1]: line.split()[2] for line in backend if line.startswith("server ")}
        assert servers == {w: f"{_addr(topo, w, 'web')}:443" for w in _hosts(topo, HostRole.WEB)}
        for name in servers:
            assert any(line.startswith(f"server {name} ") and f"verifyhost {name}" in line for line in backend)
        default = next(line for line in backend if line.startswith("default-server"))
        for word in ("check", "check-ssl", "verify required", "ca-file", "send-proxy"):
            assert word in default, f"{host}: web default-server lacks {word!r}: {default}"
        assert "option httpchk" in backend
        assert any(line.startswith("http-check send") and "uri /lb-health" in line for line in backend)
        assert "http-check expect status 200" in backend


def test_haproxy_db_backend_follows_the_patroni_leader(rendered: Rendered) -> None:
    topo = rendered.topology
    for host in _hosts(topo, HostRole.LB):
        backend = _haproxy_sections(rendered.text(host, "haproxy.cfg"))["backend db_primary"]
        servers = {line.split()[1]: line.split()[2] for line in backend if line.startswith("server ")}
        assert servers == {d: f"{_addr(topo, d, 'db')}:5432" for d in _hosts(topo, HostRole.DB)}
        default = next(line for line in backend if line.startswith("default-server"))
        words = default.split()
        assert words[words.index("port") + 1] == "8008"
        assert 1 <= int(words[words.index("inter") + 1].rstrip("s")) <= 2
        assert 2 <= int(words[words.index("fall") + 1]) <= 3
        assert words[words.index("rise") + 1] == "2"
        for word in ("check-ssl", "verify required", "on-marked-down shutdown-sessions"):
            assert word in default, f"{host}: db default-server lacks {word!r}: {default}"
        assert any(line.startswith("http-check send") and "uri /primary" in line for line in backend)
        assert "http-check expect status 200" in backend
        assert not any("redispatch" in line for line in backend)


# -- keepalived ------------------------------------------------------------------------------------


def _keepalived_test(config: Path, interfaces: list[str]) -> subprocess.CompletedProcess[str]:
    """`keepalived -t` in a throwaway network namespace holding the named interfaces (veth pairs)."""
    setup = " && ".join(f"ip link add {name} type veth peer name p{name}" for name in interfaces)
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    return subprocess.run(
        [*unshare, "sh", "-c", f'{setup} && exec keepalived -t -f "$0"', str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keepalived_config_is_accepted_by_keepalived(rendered: Rendered) -> None:
    for host in _hosts(rendered.topology, HostRole.LB):
        path = rendered.file(host, "keepalived.conf")
        result = _keepalived_test(path, list(INTERFACES.values()))
        assert result.returncode == 0, f"{host}: keepalived -t rejected {path}:\n{result.stdout}{result.stderr}"


def test_keepalived_holds_both_vips_on_the_interfaces_found_by_address(rendered: Rendered) -> None:
    topo = rendered.topology
    lbs = _hosts(topo, HostRole.LB)
    priorities: list[int] = []
    for host in lbs:
        text = rendered.text(host, "keepalived.conf")
        assert re.search(rf"^\s*virtual_router_id {topo.vrrp.virtual_router_id}$", text, re.M)
        assert re.search(rf"^\s*interface {INTERFACES['dmz']}$", text, re.M)
        vip_lines = re.search(r"virtual_ipaddress \{(.*?)\}", text, re.S)
        assert vip_lines is not None
        vips = {line.split()[0]: line.split()[2] for line in vip_lines.group(1).strip().splitlines()}
        assert vips == {
            f"{vip.address}/{topo.networks[vip.network].cidr.prefixlen}": INTERFACES[vip.network]
            for vip in topo.vips.values()
        }
        assert re.search(rf"^\s*unicast_src_ip {_addr(topo, host, 'dmz')}$", text, re.M)
        peers = re.search(r"unicast_peer \{(.*?)\}", text, re.S)
        assert peers is not None
        assert peers.group(1).split() == [str(_addr(topo, p, "dmz")) for p in lbs if p != host]
        assert re.search(r"track_script \{\s*chk_haproxy\s*\}", text)
        assert "haproxy" in re.search(r'script "([^"]+)"', text).group(1)  # type: ignore[union-attr]
        assert "auth_pass" not in text
        priorities.append(int(re.search(r"^\s*priority (\d+)$", text, re.M).group(1)))  # type: ignore[union-attr]
    assert priorities == sorted(priorities, reverse=True) and len(set(priorities)) == len(priorities)


def test_keepalived_track_program_is_not_a_symlink() -> None:
    """keepalived runs the resolved path of a script; pidof -> killall5 then fails on every node."""
    defaults = yaml.safe_load((REPO / "roles" / "keepalived" / "defaults" / "main.yml").read_text("utf-8"))
    program = Path(defaults["keepalived_track_command"].split()[0])
    assert program.is_absolute(), program
    assert program.exists(), f"{program} missing on this machine (Debian bookworm, like the targets)"
    assert not program.is_symlink(), f"{program} is a symlink to {program.resolve()}"


# -- apache ----------------------------------------------------------------------------------------


def _apache_env(confdir: Path) -> dict[str, str]:
    # APACHE_STATE_DIRECTORY keeps a2enmod's bookkeeping out of this machine's /var/lib/apache2.
    return dict(os.environ, APACHE_CONFDIR=str(confdir), APACHE_STATE_DIRECTORY=str(confdir / ".state"))


def _run(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)


@pytest.fixture(scope="module")
def apache_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of Debian's /etc/apache2 with the modules, confs and sites the apache role sets."""
    _require_binaries()
    defaults = yaml.safe_load(APACHE_DEFAULTS.read_text(encoding="utf-8"))
    base = tmp_path_factory.mktemp("apache") / "apache2"
    shutil.copytree("/etc/apache2", base, symlinks=True)
    (base / ".state").mkdir()
    env = _apache_env(base)
    enable = _run(["a2enmod", "-q", *defaults["apache_modules_enabled"]], env)
    assert enable.returncode == 0, enable.stderr
    disable = _run(["a2dismod", "-q", "-f", *defaults["apache_modules_disabled"]], env)
    assert disable.returncode == 0, disable.stderr
    for conf in defaults["apache_confs_disabled"]:
        (base / "conf-enabled" / f"{conf}.conf").unlink(missing_ok=True)
    for site in defaults["apache_sites_disabled"]:
        (base / "sites-enabled" / f"{site}.conf").unlink(missing_ok=True)
    return base


# (rendered file, where the role installs it, the link that enables it)
APACHE_FILES = (
    ("ports.conf", "ports.conf", None),
    ("oson-hardening.conf", "conf-available/oson-hardening.conf", "conf-enabled/oson-hardening.conf"),
    ("oson-site.conf", "sites-available/oson.conf", "sites-enabled/oson.conf"),
)


@pytest.fixture(scope="module")
def apache_trees(rendered: Rendered, apache_base: Path) -> Iterator[dict[str, Path]]:
    """Per web host: the tree after installing each file the way the role does (validate, then copy)."""
    trees: dict[str, Path] = {}
    for host in _hosts(rendered.topology, HostRole.WEB):
        tree = apache_base.parent / host
        shutil.copytree(apache_base, tree, symlinks=True)
        for name, dest, link in APACHE_FILES:
            candidate = rendered.file(host, name)
            check = _run([str(APACHE_VALIDATE), dest, str(candidate), str(tree)])
            assert check.returncode == 0, f"{host}: {dest} rejected:\n{check.stdout}{check.stderr}"
            shutil.copy(candidate, tree / dest)
            if link is not None:
                (tree / link).unlink(missing_ok=True)
                (tree / link).symlink_to(Path("..") / dest)
        trees[host] = tree
    yield trees


def test_apache_tree_with_the_role_files_is_accepted_by_apache2ctl(apache_trees: dict[str, Path]) -> None:
    for host, tree in apache_trees.items():
        result = _run(["apache2ctl", "-t"], _apache_env(tree))
        assert result.returncode == 0, f"{host}: apache2ctl -t failed:\n{result.stdout}{result.stderr}"
        assert "Syntax OK" in result.stderr


def test_apache_serves_only_on_the_web_address(rendered: Rendered, apache_trees: dict[str, Path]) -> None:
    topo = rendered.topology
    for host, tree in apache_trees.items():
        web = _addr(topo, host, "web")
        listens = [
            line.split()[1] for line in rendered.text(host, "ports.conf").splitlines() if line.startswith("Listen ")
        ]
        assert listens == [f"{web}:80", f"{web}:443"]
        dump = _run(["apache2ctl", "-t", "-D", "DUMP_VHOSTS"], _apache_env(tree))
        assert dump.returncode == 0, dump.stderr
        bound = set(re.findall(r"^(\S+:\d+)\s", dump.stdout, re.M))
        assert bound == {f"{web}:80", f"{web}:443"}, dump.stdout
        assert "pay.oson.lab" in dump.stdout


def test_apache_loads_the_proxy_modules_and_not_the_unused_ones(apache_trees: dict[str, Path]) -> None:
    for host, tree in apache_trees.items():
        modules = _run(["apache2ctl", "-M"], _apache_env(tree))
        assert modules.returncode == 0, modules.stderr
        loaded = set(re.findall(r"^\s*(\w+_module)", modules.stdout, re.M))
        for wanted in (
            "ssl_module",
            "proxy_balancer_module",
            "proxy_hcheck_module",
            "unique_id_module",
            "remoteip_module",
            "headers_module",
        ):
            assert wanted in loaded, f"{host}: {wanted} not loaded"
        for unwanted in ("autoindex_module", "status_module", "negotiation_module", "deflate_module"):
            assert unwanted not in loaded, f"{host}: {unwanted} still loaded"


def test_apache_tls_and_security_headers(rendered: Rendered) -> None:
    for host in _hosts(rendered.topology, HostRole.WEB):
        hardening = rendered.text(host, "oson-hardening.conf")
        site = rendered.text(host, "oson-site.conf")
        for line in (
            "SSLProtocol -all +TLSv1.2 +TLSv1.3",
            "SSLCompression off",
            "SSLSessionTickets off",
            "ServerTokens Prod",
            "ServerSignature Off",
            "TraceEnable Off",
        ):
            assert re.search(rf"^{re.escape(line)}$", hardening, re.M), f"{host}: missing {line!r}"
        headers = dict(re.findall(r'^\s*Header always set (\S+) "([^"]*)"$', site, re.M))
        assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"]
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
        assert headers["X-Request-ID"] == "%{UNIQUE_ID}e"
        assert re.search(r"^\s*Header unset Server$", site, re.M)
        assert 'RequestHeader set X-Request-ID "%{UNIQUE_ID}e"' in site
        assert 'RequestHeader set X-Forwarded-Proto "https"' in site
        assert re.search(r"Alias /lb-health \S+", site)


def test_apache_tls12_suites_are_all_ecdhe_aead(rendered: Rendered) -> None:
    host = _hosts(rendered.topology, HostRole.WEB)[0]
    suites = re.search(r"^SSLCipherSuite (?!TLSv1\.3)(\S+)$", rendered.text(host, "oson-hardening.conf"), re.M)
    assert suites is not None
    listed = _run(["openssl", "ciphers", "-v", suites.group(1)])
    assert listed.returncode == 0, listed.stderr
    tls12 = [line for line in listed.stdout.splitlines() if " TLSv1.2 " in line]
    assert tls12, listed.stdout
    for line in tls12:
        assert "Kx=ECDH" in line and re.search(r"Enc=(AESGCM|CHACHA20)", line), line
    assert not [line for line in listed.stdout.splitlines() if re.search(r" (SSLv3|TLSv1|TLSv1\.1) ", line)]


def test_apache_balancer_lists_each_app_host_with_health_checks(rendered: Rendered) -> None:
    topo = rendered.topology
    for host in _hosts(topo, HostRole.WEB):
        site = rendered.text(host, "oson-site.conf")
        members = re.findall(r'^\s*BalancerMember "http://([\d.]+):(\d+)" (.*)$', site, re.M)
        assert {(addr, port) for addr, port, _ in members} == {
            (str(_addr(topo, a, "app")), "8000") for a in _hosts(topo, HostRole.APP)
        }
        for _, _, params in members:
            opts = dict(p.split("=", 1) for p in params.split())
            assert opts["hcmethod"] == "GET" and opts["hcuri"] == "/api/live"
            assert 1 <= int(opts["hcinterval"]) <= 3
            assert int(opts["retry"]) > 0
        assert re.search(r"ProxySet .*failonstatus=\d", site)
        assert 'ProxyPass "/api/" "balancer://oson-app/api/"' in site
        assert 'ProxyPass "/openapi.json" "balancer://oson-app/openapi.json"' in site


# -- broken renders are rejected -------------------------------------------------------------------


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory, topology: Topology) -> Rendered:
    """The same templates rendered with one wrong value per role."""
    _require_binaries()
    workdir = tmp_path_factory.mktemp("broken")
    pki = _make_pki(workdir)
    result = _render(
        workdir,
        pki,
        {
            "haproxy_timeout_connect": "3parsecs",
            "keepalived_virtual_router_id": 300,
            "apache_proxy_protocol_exceptions": ["not-an-address"],
        },
    )
    assert result.returncode == 0, f"rendering failed:\n{result.stdout}\n{result.stderr}"
    return Rendered(out=workdir / "out", topology=topology, pki=pki)


def test_haproxy_rejects_a_broken_render(broken: Rendered) -> None:
    host = _hosts(broken.topology, HostRole.LB)[0]
    result = subprocess.run(
        ["haproxy", "-c", "-f", str(broken.file(host, "haproxy.cfg"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "timeout connect" in result.stdout + result.stderr


def test_keepalived_rejects_a_broken_render(broken: Rendered) -> None:
    host = _hosts(broken.topology, HostRole.LB)[0]
    result = _keepalived_test(broken.file(host, "keepalived.conf"), list(INTERFACES.values()))
    assert result.returncode != 0
    assert "300" in result.stdout + result.stderr


def test_keepalived_rejects_a_config_naming_a_missing_interface(rendered: Rendered) -> None:
    host = _hosts(rendered.topology, HostRole.LB)[0]
    present = [name for net, name in INTERFACES.items() if net != "app"]
    result = _keepalived_test(rendered.file(host, "keepalived.conf"), present)
    assert result.returncode != 0
    assert INTERFACES["app"] in result.stdout + result.stderr


def test_apache_validation_rejects_a_broken_render(broken: Rendered, apache_base: Path) -> None:
    host = _hosts(broken.topology, HostRole.WEB)[0]
    tree = apache_base.parent / f"broken-{host}"
    shutil.copytree(apache_base, tree, symlinks=True)
    shutil.copy(broken.file(host, "ports.conf"), tree / "ports.conf")
    shutil.copy(broken.file(host, "oson-hardening.conf"), tree / "conf-available" / "oson-hardening.conf")
    (tree / "conf-enabled" / "oson-hardening.conf").symlink_to("../conf-available/oson-hardening.conf")
    site = _run(
        [
            str(APACHE_VALIDATE),
            "sites-available/oson.conf",
            str(broken.file(host, "oson-site.conf")),
            str(tree),
        ]
    )
    assert site.returncode != 0
    assert "not-an-address" in site.stdout + site.stderr
    # The script leaves the tree it was given untouched.
    assert not (tree / "sites-available" / "oson.conf").exists()
    assert not (tree / "sites-enabled" / "oson.conf").exists()


def test_keepalived_interface_lookup_names_the_network_it_cannot_find(
    tmp_path: Path,
) -> None:
    _require_binaries()
    pki = _make_pki(tmp_path)
    interfaces = {net: name for net, name in INTERFACES.items() if net != "app"}
    result = _render(tmp_path, pki, {"render_interfaces": interfaces})
    assert result.returncode != 0
    assert "holds its address on network(s) app" in result.stdout
