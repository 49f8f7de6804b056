"""Ansible inventory plugin: reads an OSON `topology.yml` through `appliance.topology`.

The topology file is the only description of the hosts; this plugin turns it into groups and host
variables so that the inventories of production, Vagrant and the lab cannot drift apart.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: oson_topology
short_description: OSON appliance topology as an inventory
description:
  - Reads a C(topology.yml) validated by the appliance's topology model and builds the groups
    lb, web, app, db, witness, etcd and backup with their host variables.
  - A topology with a C(san) section (the physical rack) also gets the group hypervisors with the two
    DL360 hosts, each with its rack plan in C(oson_rack) (bridges, volume groups, guests).
options:
  plugin:
    description: Marks the file as an OSON topology.
    required: true
    choices: ["oson_topology"]
"""

from pathlib import Path

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin

try:
    from appliance.rack.placement import PlacementError
    from appliance.rack.plan import RackPlanError, hypervisor_plan
    from appliance.topology import TopologyError, load_topology
except ImportError as exc:  # the control-node package is not installed in this Python
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None


class InventoryModule(BaseInventoryPlugin):
    NAME = "oson_topology"

    def verify_file(self, path: str) -> bool:
        return super().verify_file(path) and path.endswith(("topology.yml", "topology.yaml"))

    def parse(self, inventory, loader, path, cache=True):  # type: ignore[no-untyped-def]
        super().parse(inventory, loader, path, cache)
        if _IMPORT_ERROR is not None:
            raise AnsibleParserError(
                f"the oson_topology plugin needs the appliance package (run `make venv`): {_IMPORT_ERROR}"
            )
        try:
            topology = load_topology(path)
        except TopologyError as err:
            raise AnsibleParserError(str(err)) from None
        self.inventory.add_group("oson")
        # The appliance's VMs run Debian's Python; the control node keeps its own for localhost.
        self.inventory.set_variable("oson", "ansible_python_interpreter", "/usr/bin/python3")
        for key, value in topology.common_vars().items():
            self.inventory.set_variable("oson", key, value)
        for group, members in topology.groups().items():
            self.inventory.add_group(group)
            self.inventory.add_child("oson", group)
            for host in members:
                self.inventory.add_host(host, group=group)
        for host in topology.hosts:
            for key, value in topology.host_vars(host).items():
                self.inventory.set_variable(host, key, value)
            self.inventory.set_variable(host, "ansible_user", topology.ssh_user)
            if topology.platform == "container":
                # The lab's throwaway key and host keys: see appliance/lab.py.
                key = Path(path).resolve().parent.parent.parent / ".lab" / "ssh" / "id_ed25519"
                self.inventory.set_variable(host, "ansible_ssh_private_key_file", str(key))
                self.inventory.set_variable(
                    host, "ansible_ssh_common_args", "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
                )
        if topology.san is not None:
            self._add_hypervisors(topology)

    def _add_hypervisors(self, topology) -> None:  # type: ignore[no-untyped-def]
        """The physical hosts of the rack (playbooks/rack.yml), outside the `oson` group of VMs."""
        self.inventory.add_group("hypervisors")
        self.inventory.set_variable("hypervisors", "ansible_python_interpreter", "/usr/bin/python3")
        for key, value in topology.common_vars().items():
            self.inventory.set_variable("hypervisors", key, value)
        self.inventory.set_variable("hypervisors", "oson_san", topology.san.model_dump(mode="json"))
        self.inventory.set_variable("hypervisors", "oson_guest_image", topology.guest_image.model_dump(mode="json"))
        self.inventory.set_variable("hypervisors", "oson_ssh_user", topology.ssh_user)
        for hv in topology.hypervisors:
            try:
                plan = hypervisor_plan(topology, hv.name)
            except (PlacementError, RackPlanError) as err:
                raise AnsibleParserError(str(err)) from None
            self.inventory.add_host(hv.name, group="hypervisors")
            for key, value in topology.hypervisor_vars(hv.name).items():
                self.inventory.set_variable(hv.name, key, value)
            self.inventory.set_variable(hv.name, "ansible_user", topology.ssh_user)
            self.inventory.set_variable(hv.name, "oson_rack", plan)
