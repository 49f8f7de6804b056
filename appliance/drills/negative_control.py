"""The negative control: proof that the drill verdict can fail.

A verdict that has only ever said "nothing lost" proves little until it has been seen to say "lost"
when something was. So on a throwaway cluster on this machine (never the lab) PostgreSQL runs with
durability switched off (``synchronous_commit=off``: a commit is answered before its WAL is written,
the WAL writer waits up to 10 s), payments are sent for a few seconds, and then PostgreSQL and the
service are SIGKILLed together, as a power cut would. The last commits were acknowledged to the client
yet never written: after a restart the verdict MUST report missing > 0.

The positive control runs the same drill with the durable settings an appliance uses (a commit is
answered only once its WAL is flushed): the verdict must report missing == 0 and pass.

By default the load is stopped (requests in flight answered and journaled) just before the cut, well
inside the WAL writer's 10-second window; ``cut_under_load`` cuts while requests are still in flight,
which also exercises the settling of uncertain requests.

    python -m appliance.drills.negative_control [--durable] [--seconds 4] [--report-dir DIR --key KEY.pem]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.drills.api import staff_session
from appliance.drills.load import DrillFiles, LoadConfig, LoadGenerator, LoadStats, prepare_world
from appliance.drills.local import DURABLE, WEAK, LocalCluster
from appliance.drills.report import Timeline, build_report, now_iso, private_key_from_pem, write_report
from appliance.drills.verdict import Verdict, run_verdict


@dataclass(frozen=True)
class ControlResult:
    name: str
    durable: bool
    verdict: Verdict
    load: LoadStats
    figures: dict[str, Any]
    timeline: list[dict[str, Any]]
    report: tuple[Path, Path] | None = None

    @property
    def as_expected(self) -> bool:
        """The positive control passes its verdict; the negative control's verdict detects the loss (and only
        a loss: nothing doubled, ledger and event chain intact)."""
        return all(check["ok"] for check in control_checks(self.durable, self.verdict))


def run_control(*, durable: bool, load_seconds: float = 4.0, concurrency: int = 8, payers: int = 4,
                cut_under_load: bool = False, signing_key: Ed25519PrivateKey | None = None,
                report_dir: Path | None = None, keep: bool = False, out: TextIO | None = sys.stderr) -> ControlResult:
    """One power-cut drill on a local cluster; see the module docstring. Writes a signed report into
    ``report_dir`` only when ``signing_key`` is given."""
    name = "positive-control" if durable else "negative-control"
    timeline = Timeline()
    started_at = now_iso()

    def say(line: str) -> None:
        if out is not None:
            print(f"{name}: {line}", file=out, flush=True)

    with LocalCluster(durable=durable, keep=keep) as cluster:
        assert cluster.operator and cluster.auditor and cluster.client
        timeline.step("local cluster started", database=DURABLE if durable else WEAK)
        say(f"cluster in {cluster.root}, PostgreSQL {'durable' if durable else 'WEAK'}")
        files = DrillFiles(cluster.root / "drill").create()
        with cluster.endpoint.client() as http:
            world = prepare_world(http, staff_session(http, cluster.operator), payers=payers)
            auditor = staff_session(http, cluster.auditor)
        world.save(files.world)
        timeline.step("wallets prepared", payers=payers)

        generator = LoadGenerator(cluster.endpoint, cluster.client, world, files,
                                  LoadConfig(concurrency=concurrency, request_timeout=5.0, progress_every=2.0),
                                  out=out).start()
        timeline.step("load started", concurrency=concurrency)
        time.sleep(load_seconds)
        if cut_under_load:
            cut = time.monotonic()
            cluster.power_cut()
            timeline.step("power cut: PostgreSQL and the service SIGKILLed under load")
            load = generator.stop()
            timeline.step("load stopped", acknowledged=load.acknowledged, uncertain=load.uncertain)
        else:
            load = generator.stop()
            timeline.step("load stopped", acknowledged=load.acknowledged, uncertain=load.uncertain)
            cut = time.monotonic()
            cluster.power_cut()
            timeline.step("power cut: PostgreSQL and the service SIGKILLed")
        say(f"power cut after {load.acknowledged} acknowledged payments")

        ready = cluster.restart()
        figures: dict[str, Any] = {**ready, "power_cut_to_service_healthy_seconds": round(time.monotonic() - cut, 2),
                                   "load": load.as_dict(), "database_settings": DURABLE if durable else WEAK}
        timeline.step("PostgreSQL recovered and the service restarted", **ready)
        verdict = run_verdict(cluster.endpoint, auditor, cluster.client, files, out=out)
        timeline.step("verdict", ok=verdict.ok, missing=verdict.missing)
        say(f"verdict: {verdict.acknowledged} acknowledged, {verdict.missing} missing, "
            f"{verdict.duplicates} duplicates, ok={verdict.ok}")

    report = None
    if signing_key is not None:
        report = write_report(report_dir or Path(tempfile.gettempdir()),
                              control_report(name, durable, started_at, timeline, figures, verdict), signing_key)
        say(f"report: {report[0]} and {report[1]}")
    return ControlResult(name, durable, verdict, load, figures, timeline.steps, report)


def control_checks(durable: bool, verdict: Verdict) -> list[dict[str, Any]]:
    """What a control must show: the positive one the verdict's own checks; the negative one that the
    verdict saw the loss, and that the loss was a clean tail (nothing doubled, ledger and chain intact)."""
    if durable:
        return verdict.checks()
    by_name = {check["name"]: check for check in verdict.checks()}
    return [
        {"name": "the verdict detected acknowledged payments missing", "ok": verdict.missing > 0,
         "detail": f"{verdict.acknowledged} acknowledged, {verdict.missing} missing after the power cut "
                   "(weak durability must lose some)"},
        by_name["no operation twice"], by_name["every uncertain request settled"],
        by_name["ledger invariants hold"], by_name["event chain verifies"],
    ]


def control_report(name: str, durable: bool, started_at: str, timeline: Timeline, figures: dict[str, Any],
                   verdict: Verdict) -> dict[str, Any]:
    checks = control_checks(durable, verdict)
    notes = ("Positive control: the power-cut drill on a local cluster with the durable settings of an appliance; "
             "the verdict must pass." if durable else
             "Negative control: the power-cut drill on a local cluster with durability deliberately switched off. "
             "The verdict itself fails (acknowledged payments are missing); the control PASSES because the "
             "verdict detected that loss.")
    return build_report(name=name, environment="local throwaway cluster", started_at=started_at,
                        ended_at=now_iso(), timeline=timeline.steps, figures=figures,
                        verdict={**verdict.figures(), "samples": verdict.samples}, checks=checks,
                        problems=verdict.problems, notes=notes, passed=all(check["ok"] for check in checks))


def negative_control(**options: Any) -> ControlResult:
    """The weak cluster: the verdict must find missing acknowledged payments (``missing > 0``)."""
    return run_control(durable=False, **options)


def positive_control(**options: Any) -> ControlResult:
    """The durable cluster: the verdict must pass (``missing == 0``)."""
    return run_control(durable=True, **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drill-negative-control", description=__doc__.split("\n\n")[0])
    parser.add_argument("--durable", action="store_true", help="the positive control (durable settings)")
    parser.add_argument("--seconds", type=float, default=4.0, help="load before the power cut")
    parser.add_argument("--cut-under-load", action="store_true", help="cut while requests are in flight")
    parser.add_argument("--report-dir", type=Path, help="where to write the signed report")
    parser.add_argument("--key", type=Path, help="PEM Ed25519 private key that signs the report")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory for inspection")
    args = parser.parse_args(argv)
    key = private_key_from_pem(args.key.read_text(encoding="ascii")) if args.key else None
    result = run_control(durable=args.durable, load_seconds=args.seconds, cut_under_load=args.cut_under_load,
                         signing_key=key, report_dir=args.report_dir, keep=args.keep)
    for name, value in result.verdict.figures().items():
        print(f"{name}: {value}")
    print(f"{result.name}: {'as expected' if result.as_expected else 'NOT as expected'}")
    return 0 if result.as_expected else 1


if __name__ == "__main__":
    sys.exit(main())
