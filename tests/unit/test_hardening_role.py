"""The hardening role's structure: control ids, tags, the check's catalogue, waivers, and sshd's configuration.

* every task that names a control (HARD-...) carries that id as a tag, and every HARD tag is named;
* the controls of the tasks and those of oson-hardening-check are the same set (nothing enforced
  goes unverified, nothing verified lacks a task);
* the lab's waivers name existing controls and give a reason, and the check reports them as waived;
* the sshd configuration, rendered from the role's defaults, passes the real `sshd -t`, and `sshd -T`
  shows it runs with exactly the algorithms the check verifies.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "hardening"
CHECK_SCRIPT = ROLE / "files" / "oson-hardening-check"
LAB_WAIVERS = REPO / "inventory" / "lab" / "group_vars" / "all" / "hardening.yml"
DOCS = REPO / "docs" / "hardening.md"
CONTROL_ID = re.compile(r"HARD-[A-Z]+-\d{2}")


def load_check() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("oson_hardening_check", str(CHECK_SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module
    loader.exec_module(module)
    return module


def role_tasks() -> list[tuple[str, dict[str, Any]]]:
    tasks: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((ROLE / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text()) or []:
            tasks.append((path.name, task))
    return tasks


def defaults() -> dict[str, Any]:
    return yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def test_every_named_control_is_tagged_and_every_tag_named() -> None:
    controls_seen = 0
    for file_name, task in role_tasks():
        if "include_tasks" in task or "ansible.builtin.include_tasks" in task:
            continue
        named = set(CONTROL_ID.findall(task["name"]))
        tagged = {t for t in task.get("tags", []) if CONTROL_ID.fullmatch(t)}
        assert named == tagged, f"{file_name}: task {task['name']!r} names {named} but is tagged {tagged}"
        controls_seen += bool(named)
    assert controls_seen >= 30


def test_the_check_verifies_exactly_the_controls_the_tasks_enforce() -> None:
    in_tasks = {c for _, task in role_tasks() for c in CONTROL_ID.findall(task["name"])}
    in_check = set(load_check().CONTROL_IDS)
    assert in_tasks - in_check == set(), "controls with tasks but no check"
    assert in_check - in_tasks == set(), "checked controls without a task"
    assert len(load_check().CONTROL_IDS) == len(in_check), "a control id appears twice in the check"


def test_the_include_tags_cover_every_control_of_their_file() -> None:
    main = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    for include in main:
        target = include.get("ansible.builtin.include_tasks")
        inner = yaml.safe_load((ROLE / "tasks" / target).read_text())
        ids = {c for task in inner for c in CONTROL_ID.findall(task["name"])}
        tags = set(include["tags"])
        # --tags HARD-XXX must reach the include to reach its tasks.
        assert ids <= tags or "always" in tags, f"{target}: {ids - tags} not in the include's tags"


def test_lab_waivers_name_existing_controls_with_reasons() -> None:
    waivers = yaml.safe_load(LAB_WAIVERS.read_text())["hardening_waivers"]
    ids = set(load_check().CONTROL_IDS)
    assert waivers, "the lab waives the kernel's side of things"
    for waiver in waivers:
        assert waiver["id"] in ids, f"waiver for an unknown control {waiver['id']}"
        assert len(waiver["reason"].split()) >= 8, f"{waiver['id']}: the reason must say why"
    assert {w["id"] for w in waivers} >= {"HARD-SYSCTL-01", "HARD-AUDIT-03"}


def test_docs_list_every_control_and_waiver() -> None:
    text = DOCS.read_text()
    for control_id in load_check().CONTROL_IDS:
        assert f"| {control_id} |" in text, f"docs/hardening.md has no row for {control_id}"
    for waiver in yaml.safe_load(LAB_WAIVERS.read_text())["hardening_waivers"]:
        assert waiver["id"] in text.split("## Waivers", 1)[1]


def test_the_check_reports_waived_controls_and_unknown_waivers(monkeypatch: pytest.MonkeyPatch) -> None:
    check = load_check()
    # Every check function is replaced by one that fails: what is waived must not be run at all.
    ran: list[str] = []

    def failing(control_id: str) -> Any:
        def run(cfg: dict[str, Any], evidence: list[str]) -> bool:
            ran.append(control_id)
            evidence.append("failed on purpose")
            return False

        return run

    monkeypatch.setattr(check, "CONTROLS", [(i, t, failing(i)) for i, t, _ in check.CONTROLS])
    monkeypatch.setattr(check, "in_container", lambda: True)
    report = check.evaluate(
        {"waivers": [{"id": "HARD-SYSCTL-01", "reason": "shared kernel"}, {"id": "HARD-NOPE-01", "reason": "x"}]}
    )
    by_id = {c["id"]: c for c in report["controls"]}
    assert by_id["HARD-SYSCTL-01"] == {
        "id": "HARD-SYSCTL-01",
        "title": by_id["HARD-SYSCTL-01"]["title"],
        "status": "waived",
        "evidence": [],
        "reason": "shared kernel",
    }
    assert "HARD-SYSCTL-01" not in ran
    assert by_id["HARD-SSH-01"]["status"] == "fail"
    assert report["summary"] == {"pass": 0, "fail": len(check.CONTROLS) - 1, "waived": 1}
    assert report["errors"] == ["waiver for unknown control HARD-NOPE-01"]


# -- sshd ----------------------------------------------------------------------------------------------


def render_sshd_config(tmp_path: Path) -> Path:
    values = defaults()
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined)
    text = env.get_template("sshd_config.j2").render(**values, ansible_managed="Managed by Ansible")
    # The host keys of this machine are not ours to read: point sshd at throwaway keys of the same kinds.
    for kind in ("ed25519", "rsa"):
        key = tmp_path / f"ssh_host_{kind}_key"
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(key)], check=True)
        text = text.replace(f"/etc/ssh/ssh_host_{kind}_key", str(key))
    path = tmp_path / "sshd_config"
    path.write_text(text)
    return path


@pytest.fixture
def sshd() -> str:
    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(binary).exists():
        pytest.fail("sshd is needed to check the rendered configuration: apt-get install openssh-server")
    # sshd -t insists on its privilege separation directory, which only the service's start creates.
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    return binary


def test_rendered_sshd_config_passes_sshd_t(tmp_path: Path, sshd: str) -> None:
    config = render_sshd_config(tmp_path)
    proc = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_sshd_runs_with_the_algorithms_and_settings_the_check_expects(tmp_path: Path, sshd: str) -> None:
    config = render_sshd_config(tmp_path)
    proc = subprocess.run([sshd, "-T", "-f", str(config)], capture_output=True, text=True, check=True)
    effective = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if " " in line)
    values = defaults()
    assert effective["kexalgorithms"] == ",".join(values["hardening_ssh_kex"])
    assert effective["ciphers"] == ",".join(values["hardening_ssh_ciphers"])
    assert effective["macs"] == ",".join(values["hardening_ssh_macs"])
    assert effective["hostkeyalgorithms"] == ",".join(values["hardening_ssh_host_key_algorithms"])
    for key, wanted in {
        "permitrootlogin": "no",
        "passwordauthentication": "no",
        "kbdinteractiveauthentication": "no",
        "authenticationmethods": "publickey",
        "allowgroups": values["hardening_ssh_group"],
        "allowtcpforwarding": "no",
        "x11forwarding": "no",
        "banner": "/etc/issue.net",
    }.items():
        assert effective[key] == wanted, key
    for weak in ("cbc", "sha1", "ecdh-sha2-nistp", "hmac-md5"):
        assert weak not in effective["ciphers"] + effective["macs"] + effective["kexalgorithms"]


def test_sshd_t_rejects_a_broken_render(tmp_path: Path, sshd: str) -> None:
    # The role's `validate:` is only worth something if sshd -t fails on a bad file.
    config = render_sshd_config(tmp_path)
    config.write_text(config.read_text().replace("Ciphers ", "Ciphers des-cbc,"))
    proc = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "cipher" in proc.stderr.lower()


def test_every_default_is_in_the_argument_specs_and_back() -> None:
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = set(specs["argument_specs"]["main"]["options"])
    assert options == set(defaults())


def test_network_sysctls_set_ip_forward_before_what_it_resets() -> None:
    # Writing net.ipv4.ip_forward resets net.ipv4.conf.all.accept_redirects: applied the other way
    # round, the first converge would leave redirects accepted and the second would "fix" them.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined)
    text = env.get_template("sysctl.conf.j2").render(
        hardening_sysctl_values=defaults()["hardening_sysctl_network"],
        hardening_sysctl_control="HARD-SYSCTL-02",
        ansible_managed="Managed by Ansible",
    )
    keys = [line.split(" = ")[0] for line in text.splitlines() if " = " in line]
    assert keys.index("net.ipv4.ip_forward") < keys.index("net.ipv4.conf.all.accept_redirects")
    assert len(keys) == len(defaults()["hardening_sysctl_network"])
