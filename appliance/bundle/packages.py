"""Which Debian packages the roles install: read from the roles themselves, so nothing is listed twice.

Every `ansible.builtin.apt` (or `package`) task that installs (state present/latest) names its
packages either literally or through `<role>_*packages` variables of the role's defaults/vars; those
variables are resolved with the role's own defaults (e.g. `postgresql-{{ postgresql_version }}`).
Conditions are ignored on purpose: the bundle must hold every package a host of any kind may need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml

APT_MODULES = ("ansible.builtin.apt", "apt", "ansible.builtin.package", "package")
INSTALL_STATES = (None, "present", "latest", "installed", "fixed", "build-dep")
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
VARIABLE = re.compile(r"\b([a-z][a-z0-9_]*packages)\b")


class PackageCollectionError(ValueError):
    """A role's package list cannot be read; the message names the role and file."""


@dataclass
class RolePackages:
    role: str
    packages: set[str] = field(default_factory=set)
    # "tasks/main.yml: Install Apache" -> names, to show where each package comes from.
    sources: dict[str, list[str]] = field(default_factory=dict)


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PackageCollectionError(f"{path}: not valid YAML: {err}") from None


def _role_variables(role_dir: Path) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for name in ("defaults/main.yml", "vars/main.yml"):
        path = role_dir / name
        if path.is_file():
            data = _load_yaml(path) or {}
            if isinstance(data, dict):
                variables.update(data)
    return variables


def _render(value: Any, variables: dict[str, Any], where: str, depth: int = 0) -> Any:
    """Resolve the Jinja in a variable's value with the role's other variables (a few levels deep)."""
    if depth > 5:
        raise PackageCollectionError(f"{where}: variables refer to each other too deeply")
    if isinstance(value, list):
        return [_render(v, variables, where, depth) for v in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    context = {k: _render(v, variables, where, depth + 1) for k, v in variables.items()
               if isinstance(v, str | int | float | list) and k in value}
    try:
        return env.from_string(value).render(**context)
    except jinja2.UndefinedError as err:
        raise PackageCollectionError(f"{where}: {value!r} needs a variable the role does not define: {err}") from None


def _task_files(role_dir: Path) -> list[Path]:
    return sorted((role_dir / "tasks").glob("*.yml")) if (role_dir / "tasks").is_dir() else []


def _walk_tasks(tasks: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for task in tasks if isinstance(tasks, list) else []:
        if not isinstance(task, dict):
            continue
        found.append(task)
        for key in ("block", "rescue", "always"):
            found += _walk_tasks(task.get(key))
    return found


def _names(spec: Any, variables: dict[str, Any], where: str) -> list[str]:
    """Package names of an apt task's `name:` (a literal, a list, or a template of *packages variables)."""
    if isinstance(spec, list):
        return [n for item in spec for n in _names(item, variables, where)]
    if not isinstance(spec, str):
        return []
    if "{{" not in spec:
        return [spec.split("=")[0]]
    referenced = VARIABLE.findall(spec)
    if not referenced:
        raise PackageCollectionError(f"{where}: `name: {spec}` names no <role>_packages variable; list the "
                                     "packages in a `<role>_packages` default so the bundle can find them")
    names: list[str] = []
    for var in referenced:
        if var not in variables:
            raise PackageCollectionError(f"{where}: {var} is not in the role's defaults or vars")
        value = _render(variables[var], variables, f"{where} ({var})")
        names += _names(value if isinstance(value, list) else [value], variables, where)
    return names


def role_packages(role_dir: Path) -> RolePackages:
    result = RolePackages(role_dir.name)
    variables = _role_variables(role_dir)
    for path in _task_files(role_dir):
        for task in _walk_tasks(_load_yaml(path)):
            module = next((m for m in APT_MODULES if m in task), None)
            if module is None or not isinstance(task[module], dict):
                continue
            args = task[module]
            if args.get("state") not in INSTALL_STATES or "name" not in args:
                continue
            where = f"roles/{role_dir.name}/{path.relative_to(role_dir)}: {task.get('name', module)}"
            names = _names(args["name"], variables, where)
            bad = [n for n in names if not PACKAGE_NAME.match(n)]
            if bad:
                raise PackageCollectionError(f"{where}: not Debian package names: {bad}")
            result.packages.update(names)
            result.sources[where] = sorted(set(names))
    return result


def collect_packages(roles_dir: Path, roles: list[str] | None = None) -> dict[str, RolePackages]:
    """Role name -> the packages its tasks install, for every role (or those named)."""
    dirs = sorted(d for d in roles_dir.iterdir() if (d / "tasks").is_dir())
    if roles is not None:
        unknown = sorted(set(roles) - {d.name for d in dirs})
        if unknown:
            raise PackageCollectionError(f"no such role(s) under {roles_dir}: {', '.join(unknown)}")
        dirs = [d for d in dirs if d.name in roles]
    return {d.name: role_packages(d) for d in dirs}


def all_packages(collected: dict[str, RolePackages]) -> list[str]:
    return sorted(set().union(*(r.packages for r in collected.values()))) if collected else []


def playbook_roles(playbook: Path, roles_dir: Path) -> list[str]:
    """The roles a playbook applies (roles:, include_role, import_role), with their meta dependencies."""
    found: list[str] = []

    def add(name: str) -> None:
        if name in found:
            return
        found.append(name)
        meta = roles_dir / name / "meta/main.yml"
        for dep in ((_load_yaml(meta) or {}).get("dependencies") or []) if meta.is_file() else []:
            add(dep if isinstance(dep, str) else str(dep.get("role") or dep.get("name")))

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for role in node.get("roles") or []:
                add(role if isinstance(role, str) else str(role.get("role") or role.get("name")))
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if isinstance(node.get(key), dict) and "name" in node[key]:
                    add(str(node[key]["name"]))
            for key in ("tasks", "pre_tasks", "post_tasks", "handlers", "block", "rescue", "always"):
                walk(node.get(key))

    walk(_load_yaml(playbook))
    return found
