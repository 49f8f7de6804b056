"""Running ansible-playbook from osonctl: progress on the terminal, the full log on disk, the recap parsed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.paths import PLAYBOOKS, PROJECT_ROOT

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)"
)
PROGRESS_LINE = re.compile(r"^(PLAY|TASK|RUNNING HANDLER) \[(?P<name>.*)\]")


@dataclass(frozen=True)
class HostRecap:
    ok: int
    changed: int
    unreachable: int
    failed: int


@dataclass
class PlaybookResult:
    returncode: int
    seconds: float
    log_file: Path
    recap: dict[str, HostRecap] = field(default_factory=dict)

    @property
    def total_changed(self) -> int:
        return sum(r.changed for r in self.recap.values())

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and all(r.failed == 0 and r.unreachable == 0 for r in self.recap.values())


def recap_lines(result: PlaybookResult) -> list[str]:
    return [
        f"    {host:14} ok={r.ok:<4} changed={r.changed:<4} failed={r.failed} unreachable={r.unreachable}"
        for host, r in sorted(result.recap.items())
    ]


def parse_recap(lines: list[str]) -> dict[str, HostRecap]:
    recap: dict[str, HostRecap] = {}
    for line in lines:
        m = RECAP_LINE.match(line.strip())
        if m:
            recap[m["host"]] = HostRecap(
                ok=int(m["ok"]), changed=int(m["changed"]), unreachable=int(m["unreachable"]), failed=int(m["failed"])
            )
    return recap


def strategy_env() -> dict[str, str]:
    """Mitogen's strategy for converges: one Python per VM that stays up and keeps the modules it was sent,
    instead of a new interpreter and module upload for every task (a no-change converge of the nine VMs is
    about four times faster). OSON_ANSIBLE_STRATEGY=linear runs Ansible's own strategy instead."""
    if os.environ.get("OSON_ANSIBLE_STRATEGY", "mitogen_linear") == "linear":
        return {"ANSIBLE_STRATEGY": "linear"}
    try:
        import ansible_mitogen
    except ImportError:  # an environment without it still deploys, only slower
        return {}
    return {"ANSIBLE_STRATEGY_PLUGINS": str(Path(ansible_mitogen.__file__).parent / "plugins" / "strategy"),
            "ANSIBLE_STRATEGY": "mitogen_linear"}


def ansible_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def run_playbook(
    playbook: Path,
    inventory: Path,
    *,
    log_file: Path,
    vault_password_file: Path | None = None,
    extra_args: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    quiet: bool = False,
) -> PlaybookResult:
    """Run a playbook; print one progress line per play/task, keep the whole output in `log_file`."""
    cmd = [ansible_bin("ansible-playbook"), "-i", str(inventory), str(playbook)]
    if vault_password_file is not None:
        cmd += ["--vault-password-file", str(vault_password_file)]
    cmd += extra_args or []
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "PYTHONUNBUFFERED": "1",
            # The Python that runs osonctl has the appliance package the inventory plugin imports.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            **strategy_env(),
        }
    )
    env.update(extra_env or {})
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    lines: list[str] = []
    with log_file.open("w", encoding="utf-8") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        proc = subprocess.Popen(
            cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            log.write(line)
            lines.append(line.rstrip("\n"))
            if quiet:
                continue
            m = PROGRESS_LINE.match(line)
            if m:
                elapsed = time.monotonic() - started
                label = "play" if m.group(1) == "PLAY" else "  task" if m.group(1) == "TASK" else "  handler"
                print(f"[{elapsed:6.0f}s] {label}: {m['name']}", flush=True)
            elif line.startswith(("fatal:", "failed:", "ERROR!", "[ERROR]")) or "UNREACHABLE!" in line:
                print("         " + line.rstrip()[:400], flush=True)
        returncode = proc.wait()
    result = PlaybookResult(returncode, time.monotonic() - started, log_file, parse_recap(lines))
    return result


class PlaybookError(RuntimeError):
    """ansible-playbook gave no report (it could not start, or a play could not parse)."""


def run_json_playbook(
    inventory: Path, vault_password_file: Path, playbook: str, extra_vars: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run a playbook with the JSON callback and return its report (for osonctl to judge)."""
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_CONFIG": str(PROJECT_ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    proc = subprocess.run(
        [ansible_bin("ansible-playbook"), "-i", str(inventory / "topology.yml"), "--vault-password-file",
         str(vault_password_file), str(PLAYBOOKS / playbook),
         *(["--extra-vars", json.dumps(extra_vars)] if extra_vars else [])],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
    )
    try:
        return dict(json.loads(proc.stdout))
    except json.JSONDecodeError:
        raise PlaybookError(f"{playbook} failed: {proc.stderr.strip() or proc.stdout[-2000:]}") from None


def run_appliance_playbook(inventory: Path, playbook: str, extra_vars: dict[str, Any] | None = None) -> dict[str, Any]:
    """``run_json_playbook`` with the inventory's own vault password file."""
    from appliance.secrets import vault_password_file
    from appliance.topology import load_topology

    return run_json_playbook(inventory, vault_password_file(load_topology(inventory)), playbook, extra_vars)


def task_results(report: dict[str, Any], task_name: str) -> dict[str, dict[str, Any]]:
    """Per-host results of the task named ``task_name`` in a JSON-callback report."""
    results: dict[str, dict[str, Any]] = {}
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            if task.get("task", {}).get("name") == task_name:
                results.update(task.get("hosts", {}))
    return results


def last_json_object(result: dict[str, Any]) -> dict[str, Any] | None:
    """The last JSON object a task's command printed, or None (skipped task, unreachable host, no output)."""
    for line in reversed(str(result.get("stdout", "")).splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return dict(json.loads(line))
            except json.JSONDecodeError:
                return None
    return None


def task_failures(report: dict[str, Any]) -> list[str]:
    """'host: task: message' for every failed or unreachable task of a JSON-callback report."""
    found: list[str] = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            name = task.get("task", {}).get("name", "?")
            for host, result in task.get("hosts", {}).items():
                if result.get("failed") or result.get("unreachable"):
                    message = str(result.get("msg") or result.get("stderr") or result.get("stdout") or "failed")
                    found.append(f"{host}: {name}: {message.strip()[:600]}")
    return found
