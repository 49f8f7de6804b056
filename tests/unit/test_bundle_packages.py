"""The bundle's package list comes from the roles themselves: their apt tasks and <role>_packages defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.bundle import default_playbooks
from appliance.bundle.build import requested_packages
from appliance.bundle.packages import PackageCollectionError, collect_packages, playbook_roles, role_packages
from appliance.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def _role(tmp: Path, name: str, defaults: str, tasks: str, meta: str = "") -> Path:
    role = tmp / "roles" / name
    (role / "defaults").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "defaults/main.yml").write_text(defaults)
    (role / "tasks/main.yml").write_text(tasks)
    if meta:
        (role / "meta").mkdir()
        (role / "meta/main.yml").write_text(meta)
    return role


def test_literals_templated_defaults_and_conditional_lists(tmp_path: Path) -> None:
    role = _role(tmp_path, "db", """
db_version: 15
db_packages: ["postgresql-{{ db_version }}", acl]
db_extra_packages: [pgbackrest]
db_absent_packages: [telnet]
""", """
- name: Install
  ansible.builtin.apt:
    name: "{{ db_packages + (db_extra_packages if db_is_repo else []) }}"
    state: present
- name: Tools
  block:
    - name: Literal list inside a block
      ansible.builtin.apt:
        name: [procps, psmisc=2:23.6-1]
- name: Removed packages are not bundled
  ansible.builtin.apt:
    name: "{{ db_absent_packages }}"
    state: absent
- name: Only a cache refresh
  ansible.builtin.apt:
    update_cache: true
""")
    found = role_packages(role)
    assert found.packages == {"postgresql-15", "acl", "pgbackrest", "procps", "psmisc"}
    assert any("Install" in where for where in found.sources)


def test_a_template_without_a_packages_variable_is_refused(tmp_path: Path) -> None:
    role = _role(tmp_path, "web", "web_name: apache2\n", """
- name: Install
  ansible.builtin.apt:
    name: "{{ web_name }}"
""")
    with pytest.raises(PackageCollectionError, match="list the packages in a `<role>_packages` default"):
        role_packages(role)


def test_an_undefined_variable_in_a_package_name_is_refused(tmp_path: Path) -> None:
    role = _role(tmp_path, "db", 'db_packages: ["postgresql-{{ db_version }}"]\n', """
- name: Install
  ansible.builtin.apt:
    name: "{{ db_packages }}"
""")
    with pytest.raises(PackageCollectionError, match="db_version"):
        role_packages(role)


def test_playbook_roles_follow_include_role_and_meta_dependencies(tmp_path: Path) -> None:
    _role(tmp_path, "a", "", "[]\n", meta="dependencies: [c]\n")
    _role(tmp_path, "b", "", "[]\n")
    _role(tmp_path, "c", "", "[]\n")
    playbook = tmp_path / "site.yml"
    playbook.write_text("""
- hosts: all
  roles: [{role: a}]
  tasks:
    - ansible.builtin.include_role: {name: b}
""")
    assert playbook_roles(playbook, tmp_path / "roles") == ["a", "c", "b"]
    assert sorted(collect_packages(tmp_path / "roles", ["a", "b"])) == ["a", "b"]


def test_the_site_playbook_asks_for_the_roles_packages() -> None:
    by_role = requested_packages(["site.yml"])
    assert "apache2" in by_role["apache"] and "python3-venv" in by_role["operator"]
    # Resolved from the role's defaults (postgresql_version), not written twice.
    assert "postgresql-15" in by_role["postgresql"] and "patroni" in by_role["postgresql"]
    assert "chrony" in by_role["base"] and "haproxy" in by_role["haproxy"]


def test_a_rack_bundle_carries_the_hypervisors_packages_too() -> None:
    """A topology with a san section has hypervisors to install: its bundle adds rack.yml's roles."""
    production = load_topology(ROOT / "inventory" / "production")
    assert default_playbooks(production) == ["site.yml", "rack.yml"]
    assert default_playbooks(load_topology(ROOT / "inventory" / "lab")) == ["site.yml"]
    by_role = requested_packages(default_playbooks(production))
    assert "qemu-system-x86" in by_role["hypervisor"] and "multipath-tools" in by_role["san"]
    assert "haproxy" in by_role["haproxy"]
