"""`osonctl firewall render | show | test -i INV`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from appliance.cli_errors import reported
from appliance.firewall.flowtest import format_report, lab_runner, plan_probes, run_probes, ssh_runner
from appliance.firewall.labnet import LabFirewallError
from appliance.firewall.model import PolicyError
from appliance.firewall.render import render_all
from appliance.firewall.resolve import load_resolved
from appliance.firewall.show import flows_markdown
from appliance.secrets import state_dir
from appliance.topology import TopologyError, load_topology


def _policy_file(args: argparse.Namespace) -> Path | None:
    return Path(args.policy) if args.policy else None


def _cmd_render(args: argparse.Namespace) -> int:
    topology = load_topology(Path(args.inventory))
    rendered = render_all(topology, policy_file=_policy_file(args),
                          out_dir=Path(args.out) if args.out else None)
    print(f"rendered {len(rendered.files)} files into {rendered.directory}:")
    for path in rendered.files:
        print(f"  {path.relative_to(rendered.directory)}")
    for note in rendered.notes:
        print(f"note: {note}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    topology = load_topology(Path(args.inventory))
    print(flows_markdown(load_resolved(topology, _policy_file(args))), end="")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    topology = load_topology(Path(args.inventory))
    resolved = load_resolved(topology, _policy_file(args))
    probes, skipped = plan_probes(resolved)
    runner = lab_runner(topology) if topology.platform == "container" else ssh_runner(topology)
    report = run_probes(resolved, probes, runner, skipped, timeout=args.timeout)
    out = Path(args.report) if args.report else state_dir(topology) / "firewall" / "flowtest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(format_report(report))
        print(f"flow test {'passed' if report.ok else 'FAILED'}; report: {out}")
    return 0 if report.ok else 1


_guarded = reported("osonctl", PolicyError, TopologyError, LabFirewallError, ValueError)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `firewall render | show | test` on osonctl's subcommands."""
    fw = sub.add_parser("firewall", help="the firewall policy: render it, show its flows, test it with real packets",
                        description="The flow policy of firewall/policy.yml rendered for the FortiGate pair, the "
                                    "VMs' nftables and the lab, and tested with TCP connects.")
    fw_sub = fw.add_subparsers(dest="firewall_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-i", "--inventory", required=True, help="inventory directory (holding topology.yml)")
        p.add_argument("--policy", metavar="FILE", help="policy file (default: firewall/policy.yml)")

    render_p = fw_sub.add_parser("render", help="write fortigate.conf, fortios-vars.yml, nftables/<host>.nft "
                                 "(and lab-forward.nft for the lab) into <state dir>/firewall/")
    common(render_p)
    render_p.add_argument("--out", metavar="DIR", help="write here instead of the state directory")
    render_p.set_defaults(func=_guarded(_cmd_render))

    show_p = fw_sub.add_parser("show", help="the zones and allowed flows as Markdown tables")
    common(show_p)
    show_p.set_defaults(func=_guarded(_cmd_show))

    test_p = fw_sub.add_parser("test", help="connect every allowed TCP flow and a sample of denied ones from inside "
                               "the VMs; exits 1 when one is not as the policy says")
    common(test_p)
    test_p.add_argument("--timeout", type=float, default=3.0, help="seconds a connect may take (default 3)")
    test_p.add_argument("--report", metavar="FILE", help="JSON report (default <state dir>/firewall/flowtest.json)")
    test_p.add_argument("--json", action="store_true", help="print the JSON report")
    test_p.set_defaults(func=_guarded(_cmd_test))
