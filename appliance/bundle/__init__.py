"""`osonctl bundle`: the offline install bundle (see build.py for its layout, docs/offline-install.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from appliance.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from appliance.bundle.build import BundleResult
    from appliance.topology import Topology

DEFAULT_PLAYBOOKS = ["site.yml"]
# A rack's hypervisors install the rack playbook's packages (KVM, libvirt, multipath, ...) from it too.
RACK_PLAYBOOK = "rack.yml"


def default_playbooks(topology: Topology) -> list[str]:
    """The VMs' playbook, and the rack's where the topology has hypervisors to install (a `san` section)."""
    return DEFAULT_PLAYBOOKS + ([RACK_PLAYBOOK] if topology.san is not None else [])


def default_output(topology_name: str) -> Path:
    return PROJECT_ROOT / ".build" / f"oson-bundle-{topology_name}.tar"


def build_for(topology: Topology, output: Path | None = None, *, image: str | None = None,
              playbooks: list[str] | None = None) -> BundleResult:
    """The bundle of `topology` with the defaults of `osonctl bundle` (archive under .build/, the lab's base
    image, the topology's playbooks). Raises BundleError or PackageCollectionError."""
    from appliance.bundle.build import build
    from appliance.lab import image_name

    target = output or default_output(topology.name)
    return build(topology.name, target.resolve(), image=image or image_name(),
                 playbooks=playbooks or default_playbooks(topology))


def run(inventory: Path, output: Path | None, playbooks: list[str] | None, image: str | None) -> int:
    from appliance.bundle.build import BundleError
    from appliance.bundle.packages import PackageCollectionError
    from appliance.topology import load_topology

    topology = load_topology(inventory)
    try:
        result = build_for(topology, output, image=image, playbooks=playbooks)
    except (BundleError, PackageCollectionError) as err:
        print(f"osonctl bundle: {err}", file=sys.stderr)
        return 1
    print(f"\nbundle ready in {result.seconds:.0f}s: {result.archive} ({result.size / 1e6:.1f} MB, sha256 "
          f"{result.sha256})")
    print(f"  {len(result.packages_in_repo)} Debian packages ({len(result.packages_requested)} asked for by the "
          f"roles), {len(result.wheels)} wheels")
    print("  to deploy from it, in the inventory's group_vars/all:\n"
          "    oson_package_source: bundle\n"
          f"    oson_bundle_file: {result.archive}")
    return 0


def _cmd(args: argparse.Namespace) -> int:
    return run(Path(args.inventory), Path(args.output) if args.output else None, args.playbook, args.image)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `osonctl bundle -i INV [-o FILE] [--playbook P ...] [--image IMAGE]`."""
    p = sub.add_parser("bundle", help="one archive with everything the VMs install (Debian packages as a local "
                       "apt repository, the operator wheels), for a rack without Internet access",
                       description="Collect the Debian packages the roles install, resolve their dependencies for "
                       "Debian 12 in a throwaway container of the VMs' base image, index them as an apt "
                       "repository, add the operator service's wheels and a sha256 manifest, and write one tar. "
                       "Needs podman and the Debian mirror on this machine; the rack needs neither.")
    p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
    p.add_argument("-o", "--output", help="archive to write (default: .build/oson-bundle-<topology>.tar)")
    p.add_argument("--playbook", action="append", metavar="P",
                   help="collect the roles of this playbook under playbooks/ (default: site.yml, and rack.yml "
                   "for the hypervisors' packages when the topology has a san section; repeat to name several)")
    p.add_argument("--image", help="base image to resolve packages in (default: the lab's Debian 12 base image)")
    p.set_defaults(func=_cmd)
