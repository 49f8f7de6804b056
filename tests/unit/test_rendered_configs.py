"""The haproxy, keepalived, apache and pgbackrest role templates, rendered for the lab and checked by the real binaries.

The templates are rendered through Ansible (`tests/unit/render/render.yml`: the roles' own defaults,
the lab topology through the inventory plugin, the keepalived role's own interface lookup), then:

* `haproxy -c -f` checks every lb host's haproxy.cfg;
* `keepalived -t -f` checks every lb host's keepalived.conf inside a private network namespace that
  has the interfaces the config names (keepalived refuses configs naming missing interfaces);
* the apache role's own validation script (`apache2ctl -t` in a copy of the whole tree) checks each
  file in the order the role installs them, in a copy of this machine's Debian /etc/apache2 with the
  role's modules enabled, and `apache2ctl -t -D DUMP_VHOSTS` / `-M` show what Apache would serve;
* the pgbackrest role's own validation script (pgBackRest parses the file for the backup command)
  checks every db and backup host's pgBackRest files, with repo2 on the backup host (the default) and
  on S3-compatible storage (`pgbackrest_repo2_type: s3`); the role's input checks run on their own.

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
PGBACKREST_VALIDATE = REPO / "roles" / "pgbackrest" / "files" / "pgbackrest-validate-config"
PGBACKREST_CHECKS_PLAYBOOK = REPO / "tests" / "unit" / "render" / "pgbackrest_checks.yml"
PGBACKREST_TASKS = REPO / "roles" / "pgbackrest" / "tasks" / "main.yml"
# The vault variables the pgbackrest templates read (osonctl generates them into the inventory's vault).
PGBACKREST_VAULT = {
    "vault_pgbackrest_repo1_cipher_pass": "repo1-cipher-pass-for-the-render-test",
    "vault_pgbackrest_repo2_cipher_pass": "repo2-cipher-pass-for-the-render-test",
    "vault_operator_event_signing_key_pem": "not read by the templates",
}
# repo2 on S3-compatible storage, as an operator would set it (plus the vault keys they add by hand).
PGBACKREST_S3 = {
    "pgbackrest_repo2_type": "s3",
    "pgbackrest_repo2_path": "/oson",
    "pgbackrest_repo2_s3_bucket": "oson-backup",
    "pgbackrest_repo2_s3_endpoint": "s3.storage.example.kz",
    "pgbackrest_repo2_s3_region": "kz-ala-1",
    "pgbackrest_repo2_s3_uri_style": "path",
    "pgbackrest_repo2_s3_ca_file": "/etc/oson/s3-ca.crt",
    "vault_pgbackrest_repo2_s3_key": "OSONBACKUPACCESSKEY1",
    "vault_pgbackrest_repo2_s3_key_secret": "s3-secret-for-the-render-test",
}


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


def _render(
    workdir: Path,
    pki: Pki,
    overrides: dict[str, object] | None = None,
    limit: str | None = None,
    playbook: Path = RENDER_PLAYBOOK,
) -> subprocess.CompletedProcess[str]:
    """Run the render playbook against a copy of the lab topology; files land in workdir/out/<host>/.

    The topology file is copied alone: the lab inventory directory also holds the generated vault;
    the secrets the pgbackrest templates read are stand-ins (PGBACKREST_VAULT).
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
        **PGBACKREST_VAULT,
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
            str(playbook),
            "-e",
            f"@{extra_file}",
            *(["--limit", limit] if limit else []),
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


# -- pgbackrest ------------------------------------------------------------------------------------

# The files the role installs on each kind of host (rendered file names, see render.yml).
PGBACKREST_DB_FILES = ("pgbackrest.conf", "backup.conf")
PGBACKREST_BACKUP_FILES = ("pgbackrest.conf", "restore-trial.conf")


def _pgbackrest_files(topology: Topology) -> list[tuple[str, str]]:
    return [(h, f) for h in _hosts(topology, HostRole.DB) for f in PGBACKREST_DB_FILES] + [
        (h, f) for h in _hosts(topology, HostRole.BACKUP) for f in PGBACKREST_BACKUP_FILES
    ]


def _pgbackrest_validate(path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("pgbackrest") is None:
        pytest.fail("pgbackrest not found: these tests validate with the real binary; apt-get install -y pgbackrest")
    return _run(["sh", str(PGBACKREST_VALIDATE), str(path), "oson"])


def _ini(text: str) -> dict[str, list[tuple[str, str]]]:
    """pgBackRest's INI: section -> its (key, value) lines in order (keys may repeat), comments dropped."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        else:
            key, _, value = line.partition("=")
            current.append((key, value))
    return sections


def _repo2(lines: list[tuple[str, str]]) -> dict[str, str]:
    return {key: value for key, value in lines if key.startswith("repo2-")}


def _not_repo2(lines: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(key, value) for key, value in lines if not key.startswith("repo2-")]


@pytest.fixture(scope="module")
def rendered_s3(tmp_path_factory: pytest.TempPathFactory, topology: Topology) -> Rendered:
    """The pgbackrest templates of the db and backup hosts with repo2 on S3-compatible storage."""
    workdir = tmp_path_factory.mktemp("render-s3")
    pki = _make_pki(workdir)
    result = _render(workdir, pki, PGBACKREST_S3, limit="db:backup")
    assert result.returncode == 0, f"rendering failed:\n{result.stdout}\n{result.stderr}"
    return Rendered(out=workdir / "out", topology=topology, pki=pki)


@pytest.mark.parametrize("variant", ["host", "s3"])
def test_pgbackrest_configs_are_accepted_by_pgbackrest(variant: str, rendered: Rendered, rendered_s3: Rendered) -> None:
    source = rendered if variant == "host" else rendered_s3
    files = _pgbackrest_files(source.topology)
    assert len(files) >= 4, files
    for host, name in files:
        result = _pgbackrest_validate(source.file(host, name))
        assert result.returncode == 0, f"{host}: pgBackRest rejected {name}:\n{result.stdout}{result.stderr}"


def test_pgbackrest_repo2_on_the_backup_host_by_default(rendered: Rendered) -> None:
    topo = rendered.topology
    (backup,) = _hosts(topo, HostRole.BACKUP)
    path = "/var/lib/pgbackrest/repo2"  # never repo1's path: see the role's defaults
    for host in _hosts(topo, HostRole.DB):
        repo2 = _repo2(_ini(rendered.text(host, "pgbackrest.conf"))["global"])
        assert repo2 == {
            "repo2-host": f"{backup}.backup.{topo.domain}",
            "repo2-host-type": "tls",
            "repo2-host-port": "8432",
            "repo2-host-ca-file": "/etc/oson/pki/ca.crt",
            "repo2-host-cert-file": "/etc/oson/pki/host.crt",
            "repo2-host-key-file": "/etc/oson/pki/host.key",
            "repo2-path": path,
            "repo2-retention-full": "4",
            "repo2-cipher-type": "aes-256-cbc",
            "repo2-cipher-pass": PGBACKREST_VAULT["vault_pgbackrest_repo2_cipher_pass"],
            "repo2-bundle": "y",
        }
        assert not _repo2(_ini(rendered.text(host, "backup.conf"))["global"])
    repository = _repo2(_ini(rendered.text(backup, "pgbackrest.conf"))["global"])
    assert repository == {
        "repo2-path": path,
        "repo2-retention-full": "4",
        "repo2-cipher-type": "aes-256-cbc",
        "repo2-cipher-pass": PGBACKREST_VAULT["vault_pgbackrest_repo2_cipher_pass"],
        "repo2-bundle": "y",
    }
    trial = _repo2(_ini(rendered.text(backup, "restore-trial.conf"))["global"])
    assert trial == {
        "repo2-path": path,
        "repo2-cipher-type": "aes-256-cbc",
        "repo2-cipher-pass": PGBACKREST_VAULT["vault_pgbackrest_repo2_cipher_pass"],
    }


def test_pgbackrest_repo2_on_s3_in_every_file_that_names_repo2(rendered: Rendered, rendered_s3: Rendered) -> None:
    s3 = {
        "repo2-type": "s3",
        "repo2-s3-bucket": PGBACKREST_S3["pgbackrest_repo2_s3_bucket"],
        "repo2-s3-endpoint": PGBACKREST_S3["pgbackrest_repo2_s3_endpoint"],
        "repo2-s3-region": PGBACKREST_S3["pgbackrest_repo2_s3_region"],
        "repo2-s3-key": PGBACKREST_S3["vault_pgbackrest_repo2_s3_key"],
        "repo2-s3-key-secret": PGBACKREST_S3["vault_pgbackrest_repo2_s3_key_secret"],
        "repo2-s3-uri-style": "path",
        "repo2-storage-verify-tls": "y",
        "repo2-storage-ca-file": PGBACKREST_S3["pgbackrest_repo2_s3_ca_file"],
        "repo2-path": "/oson",
        "repo2-cipher-type": "aes-256-cbc",
        "repo2-cipher-pass": PGBACKREST_VAULT["vault_pgbackrest_repo2_cipher_pass"],
    }
    kept = {"repo2-retention-full": "4", "repo2-bundle": "y"}
    expected = {"pgbackrest.conf": {**s3, **kept}, "restore-trial.conf": s3}
    for host, name in _pgbackrest_files(rendered_s3.topology):
        before, after = _ini(rendered.text(host, name)), _ini(rendered_s3.text(host, name))
        if name == "backup.conf":  # repo1 only: the same either way
            assert rendered_s3.text(host, name) == rendered.text(host, name)
            continue
        assert _repo2(after["global"]) == expected[name], f"{host} {name}"
        assert not any(key.startswith("repo2-host") for key, _ in after["global"]), f"{host} {name}"
        # Everything that is not repo2 (repo1, TLS server, the stanza's pg hosts) is left as it was.
        assert {s: _not_repo2(lines) for s, lines in after.items()} == {
            s: _not_repo2(lines) for s, lines in before.items()
        }, f"{host} {name}"


def test_pgbackrest_s3_without_tls_verification_and_ca_file(tmp_path: Path, topology: Topology) -> None:
    pki = _make_pki(tmp_path)
    overrides = {**PGBACKREST_S3, "pgbackrest_repo2_s3_verify_tls": False, "pgbackrest_repo2_s3_ca_file": ""}
    result = _render(tmp_path, pki, overrides, limit="backup")
    assert result.returncode == 0, f"rendering failed:\n{result.stdout}\n{result.stderr}"
    (backup,) = _hosts(topology, HostRole.BACKUP)
    repo2 = _repo2(_ini((tmp_path / "out" / backup / "pgbackrest.conf").read_text("utf-8"))["global"])
    assert repo2["repo2-storage-verify-tls"] == "n"
    assert "repo2-storage-ca-file" not in repo2


def test_pgbackrest_validation_rejects_a_broken_s3_render(tmp_path: Path, topology: Topology) -> None:
    """The template step's validation catches what the role's own checks would have refused earlier."""
    pki = _make_pki(tmp_path)
    result = _render(tmp_path, pki, {**PGBACKREST_S3, "pgbackrest_repo2_s3_uri_style": "sideways"}, limit="backup")
    assert result.returncode == 0, f"rendering failed:\n{result.stdout}\n{result.stderr}"
    (backup,) = _hosts(topology, HostRole.BACKUP)
    check = _pgbackrest_validate(tmp_path / "out" / backup / "pgbackrest.conf")
    assert check.returncode != 0
    assert "sideways" in check.stdout + check.stderr


def _role_checks(tmp_path: Path, overrides: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """The role's argument spec and its "Check ..." tasks (copied from tasks/main.yml as they are)."""
    tasks = yaml.safe_load(PGBACKREST_TASKS.read_text(encoding="utf-8"))
    checks = [task for task in tasks if task["name"].startswith("Check ")]
    assert len(checks) >= 3, [task["name"] for task in tasks]
    checks_file = tmp_path / "checks.yml"
    checks_file.write_text(yaml.safe_dump(checks, sort_keys=False), encoding="utf-8")
    return _render(
        tmp_path,
        _make_pki(tmp_path),
        {"render_checks_file": str(checks_file), **overrides},
        playbook=PGBACKREST_CHECKS_PLAYBOOK,
    )


def test_pgbackrest_role_checks_pass_by_default_and_with_s3(tmp_path: Path) -> None:
    """No S3 variable or vault key is needed for the default; a complete S3 setting passes too."""
    for overrides in ({}, PGBACKREST_S3):
        result = _role_checks(tmp_path, overrides)
        assert result.returncode == 0, f"{overrides}:\n{result.stdout}\n{result.stderr}"
        assert re.search(r"osonbackup\s+: ok=\d+ .*failed=0", result.stdout), result.stdout


def test_pgbackrest_role_checks_name_the_missing_vault_keys(tmp_path: Path) -> None:
    overrides = {k: v for k, v in PGBACKREST_S3.items() if not k.startswith("vault_")}
    result = _role_checks(tmp_path, overrides)
    assert result.returncode != 0
    output = " ".join(result.stdout.split())
    assert "vault_pgbackrest_repo2_s3_key and vault_pgbackrest_repo2_s3_key_secret" in output, result.stdout
    assert "ansible-vault edit inventory/<name>/group_vars/all/vault.yml" in output


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"pgbackrest_repo2_s3_bucket": ""}, "== 'host' or pgbackrest_repo2_s3_bucket"),
        ({"pgbackrest_repo2_path": "oson"}, "== 'host' or pgbackrest_repo2_path is"),
        ({"pgbackrest_repo2_type": "sftp"}, "pgbackrest_repo2_type must be one of: host, s3"),
        ({"pgbackrest_repo2_s3_uri_style": "sideways"}, "pgbackrest_repo2_s3_uri_style must be one of: host, path"),
    ],
)
def test_pgbackrest_role_checks_refuse_an_incomplete_s3_setting(
    tmp_path: Path, override: dict[str, object], named: str
) -> None:
    result = _role_checks(tmp_path, {**PGBACKREST_S3, **override})
    assert result.returncode != 0
    assert named in " ".join(result.stdout.split()), result.stdout
