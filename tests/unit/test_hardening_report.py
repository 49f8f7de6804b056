"""appliance.hardening: parsing Lynis' report and the hardening check's JSON.

The check's JSON comes from the real oson-hardening-check run on this machine (with the role's own
settings rendered from its defaults): whatever this machine's state, the output must parse, name
every control once, and the exit status must agree with the failures it reports.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import jinja2
import jinja2.nativetypes
import pytest
import yaml

from appliance.hardening import (
    CHECK_FORMAT,
    HardeningReportError,
    LynisFinding,
    parse_check_json,
    parse_lynis_report,
)

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "hardening"
CHECK_SCRIPT = ROLE / "files" / "oson-hardening-check"

# The shape of /var/log/lynis-report.dat as Lynis 3.0.8 (Debian 12) writes it, trimmed.
LYNIS_REPORT = """\
# Lynis Report
report_version_major=1
report_version_minor=0
report_datetime_start=2026-11-21 22:40:01
lynis_version=3.0.8
os=Linux
os_name=Debian
hostname=osondb1
tests_executed=HRDN-7231|KRNL-6000|SSH-7408|
tests_skipped=MALW-3288|FILE-6310|KRNL-5788|
warning[]=PKGS-7388|Can't find any security repository in /etc/apt/sources.list or sources.list.d directory|-|-|
suggestion[]=DEB-0880|Install fail2ban to automatically ban hosts that commit multiple authentication errors.|-|-|
suggestion[]=KRNL-6000|One or more sysctl values differ from the scan profile and could be tweaked||Change sysctl value|
hardening_index=83
lynis_tests_done=252
report_datetime_end=2026-11-21 22:41:07
"""


def test_parse_lynis_report() -> None:
    report = parse_lynis_report(LYNIS_REPORT)
    assert report.hardening_index == 83
    assert report.lynis_version == "3.0.8"
    assert report.tests_performed == 252
    assert report.warnings == (
        LynisFinding(
            "PKGS-7388", "Can't find any security repository in /etc/apt/sources.list or sources.list.d directory"
        ),
    )
    assert [s.test_id for s in report.suggestions] == ["DEB-0880", "KRNL-6000"]
    assert report.skipped_tests == ("MALW-3288", "FILE-6310", "KRNL-5788")
    assert report.meets_goal()
    assert not report.meets_goal(84)


@pytest.mark.parametrize("text", ["", "lynis_version=3.0.8\n", "hardening_index=\n", "hardening_index=high\n"])
def test_a_report_without_an_index_is_refused(text: str) -> None:
    with pytest.raises(HardeningReportError, match="oson-lynis"):
        parse_lynis_report(text)


def check_settings() -> dict[str, Any]:
    """The role's check.json for a host whose deploy user is `ansible`, rendered from the role's own vars."""
    context: dict[str, Any] = {"ansible_user": "ansible", "base_admin_users": [{"name": "alice"}]}
    context.update(yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()))
    role_vars = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    env = jinja2.nativetypes.NativeEnvironment(undefined=jinja2.StrictUndefined)

    def render(value: Any) -> Any:
        if isinstance(value, str) and "{{" in value:
            return render(env.from_string(value).render(**context))
        if isinstance(value, dict):
            return {k: render(v) for k, v in value.items()}
        if isinstance(value, list):
            return [render(v) for v in value]
        return value

    # The check's settings refer to the other vars, so those come first.
    for name in sorted(role_vars, key=lambda n: n == "hardening_check_config"):
        context[name] = render(role_vars[name])
    return context["hardening_check_config"]


def test_the_role_settings_render() -> None:
    settings = check_settings()
    assert settings["ssh_users"] == ["ansible", "alice"]
    assert settings["sudo_users"] == ["ansible"]
    assert settings["login_defs"]["UMASK"] == "027"


def test_the_real_check_output_parses(tmp_path: Path) -> None:
    settings = check_settings()
    settings["waivers"] = [{"id": "HARD-AUDIT-03", "reason": "no kernel audit on this test machine"}]
    config = tmp_path / "check.json"
    config.write_text(json.dumps(settings))
    proc = subprocess.run(
        ["python3", str(CHECK_SCRIPT), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "OSON_HARDENING_CONFIG": str(config)},
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert data["format"] == CHECK_FORMAT
    check = parse_check_json(proc.stdout)
    ids = [c.id for c in check.controls]
    assert len(ids) == len(set(ids)) >= 25
    waived = check.with_status("waived")
    assert [(c.id, c.reason) for c in waived] == [("HARD-AUDIT-03", "no kernel audit on this test machine")]
    assert (proc.returncode == 0) == check.ok
    for control in check.with_status("fail"):
        assert control.evidence, f"{control.id} failed without saying why"
    assert sum(check.counts().values()) == len(ids)


def test_the_check_says_what_to_do_without_its_settings(tmp_path: Path) -> None:
    proc = subprocess.run(
        ["python3", str(CHECK_SCRIPT), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "OSON_HARDENING_CONFIG": str(tmp_path / "missing.json")},
    )
    assert proc.returncode == 2
    assert "converge the hardening role" in proc.stderr


def test_parse_check_json_refuses_other_documents() -> None:
    with pytest.raises(HardeningReportError, match="--json"):
        parse_check_json("1 pass, 0 fail")
    with pytest.raises(HardeningReportError, match="converge"):
        parse_check_json(json.dumps({"format": "something-else/1", "controls": []}))
    bad_status = {"format": CHECK_FORMAT, "controls": [{"id": "HARD-SSH-01", "status": "ok"}]}
    with pytest.raises(HardeningReportError, match="status"):
        parse_check_json(json.dumps(bad_status))
    with pytest.raises(HardeningReportError, match="no controls"):
        parse_check_json(json.dumps({"format": CHECK_FORMAT, "controls": []}))


def test_a_waiver_for_an_unknown_control_makes_the_check_not_ok() -> None:
    doc = {
        "format": CHECK_FORMAT,
        "host": "h",
        "checked_at": "2026-11-21T00:00:00+00:00",
        "container": True,
        "controls": [{"id": "HARD-SSH-01", "title": "t", "status": "pass", "evidence": ["x"], "reason": None}],
        "errors": ["waiver for unknown control HARD-NOPE-01"],
    }
    check = parse_check_json(json.dumps(doc))
    assert check.counts() == {"pass": 1, "fail": 0, "waived": 0}
    assert not check.ok
