"""Load generator and verdict against a real operator service on a throwaway local PostgreSQL.

One durable local cluster for the module; every test prepares its own wallets, so what one test adds
(an extra payment, a settled request) cannot change another test's verdict.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from appliance.drills.api import IDEMPOTENCY_HEADER, StaffSession, staff_session
from appliance.drills.load import DrillFiles, LoadConfig, LoadGenerator, LoadStats, World, prepare_world, read_journal
from appliance.drills.local import LocalCluster
from appliance.drills.verdict import run_verdict

pytestmark = pytest.mark.timeout(300)


@dataclass
class Desk:
    cluster: LocalCluster
    operator: StaffSession
    auditor: StaffSession


@dataclass
class Drill:
    files: DrillFiles
    world: World
    stats: LoadStats


@pytest.fixture(scope="module")
def desk() -> Iterator[Desk]:
    with LocalCluster(durable=True) as cluster:
        assert cluster.operator and cluster.auditor
        with cluster.endpoint.client() as http:
            operator, auditor = staff_session(http, cluster.operator), staff_session(http, cluster.auditor)
        yield Desk(cluster, operator, auditor)


def _drill(desk: Desk, directory: Path, count: int = 60) -> Drill:
    assert desk.cluster.client
    files = DrillFiles(directory).create()
    with desk.cluster.endpoint.client() as http:
        world = prepare_world(http, desk.operator, payers=3)
    world.save(files.world)
    stats = LoadGenerator(desk.cluster.endpoint, desk.cluster.client, world, files,
                          LoadConfig(concurrency=4, max_acknowledged=count, seconds=60), out=None).run()
    return Drill(files, world, stats)


@pytest.fixture()
def drill(desk: Desk, tmp_path: Path) -> Drill:
    return _drill(desk, tmp_path / "drill")


def _copy(drill: Drill, directory: Path) -> DrillFiles:
    shutil.copytree(drill.files.directory, directory)
    return DrillFiles(directory)


def _append(path: Path, *records: dict[str, object]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def test_every_acknowledged_payment_is_journaled_once_with_its_key(drill: Drill) -> None:
    journal = read_journal(drill.files.journal)
    assert drill.stats.acknowledged >= 60 and len(journal) == drill.stats.acknowledged == drill.stats.sent
    assert drill.stats.errors == {} and drill.stats.uncertain == 0 and not drill.files.uncertain.read_text()
    assert {tuple(sorted(r)) for r in journal} == {
        ("acknowledged_at", "amount", "idempotency_key", "operation_id", "payer")}
    assert len({r["operation_id"] for r in journal}) == len({r["idempotency_key"] for r in journal}) == len(journal)
    assert {r["payer"] for r in journal} == set(drill.world.payer_wallet_ids)
    summary = json.loads(drill.files.summary.read_text())
    assert summary["acknowledged"] == len(journal) and summary["rate_per_second"] > 0


def test_an_untouched_drill_passes(desk: Desk, drill: Drill) -> None:
    assert desk.cluster.client
    verdict = run_verdict(desk.cluster.endpoint, desk.auditor, desk.cluster.client, drill.files)
    assert verdict.ok, verdict
    assert (verdict.acknowledged, verdict.missing, verdict.duplicates, verdict.unexplained) == (
        drill.stats.acknowledged, 0, 0, 0)
    assert verdict.ledger_ok and verdict.events_ok


def test_small_pages_find_the_same_operations(desk: Desk, drill: Drill, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paging through operations and events (pages of 7 here, 500 in use) misses and repeats nothing."""
    from appliance.drills import verdict as module

    monkeypatch.setattr(module, "PAGE", 7)
    journal = read_journal(drill.files.journal)
    with desk.cluster.endpoint.client() as http:
        for payer in drill.world.payer_wallet_ids:
            found = module.completed_payments_of(http, desk.auditor.headers, payer)
            assert set(found) == {r["operation_id"] for r in journal if r["payer"] == payer}
        assert desk.cluster.client
        by_key = module.operations_by_key(http, desk.auditor.headers, desk.cluster.client.actor,
                                          drill.world.prepared_at)
    assert {k: v for k, v in by_key.items() if k in {r["idempotency_key"] for r in journal}} == {
        r["idempotency_key"]: {r["operation_id"]} for r in journal}


def test_a_missing_and_a_twice_acknowledged_operation_fail_the_verdict(desk: Desk, drill: Drill,
                                                                       tmp_path: Path) -> None:
    assert desk.cluster.client
    files = _copy(drill, tmp_path / "tampered")
    journal = read_journal(files.journal)
    ghost = {**journal[0], "operation_id": str(uuid.uuid4()), "idempotency_key": str(uuid.uuid4())}
    _append(files.journal, ghost, journal[1])
    verdict = run_verdict(desk.cluster.endpoint, desk.auditor, desk.cluster.client, files)
    assert not verdict.ok
    assert (verdict.missing, verdict.duplicates) == (1, 1)
    assert verdict.samples["missing"] == [ghost["operation_id"]]


def test_an_acknowledgement_that_does_not_match_the_operation_is_named(desk: Desk, drill: Drill,
                                                                       tmp_path: Path) -> None:
    assert desk.cluster.client
    files = DrillFiles(tmp_path / "edited").create()
    shutil.copy(drill.files.world, files.world)
    journal = read_journal(drill.files.journal)
    journal[0]["amount"] = "999.99"
    _append(files.journal, *journal)
    verdict = run_verdict(desk.cluster.endpoint, desk.auditor, desk.cluster.client, files)
    assert (verdict.mismatched, verdict.missing, verdict.ok) == (1, 0, False)


def test_a_payment_nobody_was_told_about_is_unexplained(desk: Desk, drill: Drill) -> None:
    assert desk.cluster.client
    with desk.cluster.endpoint.client() as http:
        response = http.post("/api/payments", json={
            "payer_wallet_id": drill.world.payer_wallet_ids[0], "payee_wallet_id": drill.world.payee_wallet_id,
            "amount": "3.00", "purpose": "not journaled"},
            headers={**desk.cluster.client.headers(), IDEMPOTENCY_HEADER: str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    verdict = run_verdict(desk.cluster.endpoint, desk.auditor, desk.cluster.client, drill.files)
    assert (verdict.unexplained, verdict.missing, verdict.ok) == (1, 0, False)
    assert verdict.samples["unexplained"] == [response.json()["operation"]["id"]]


def test_uncertain_requests_are_settled_by_retrying_their_keys(desk: Desk, drill: Drill) -> None:
    """One request that committed but whose answer was lost (replayed), one that never arrived (runs now),
    one the service refuses (settled as refused): none is missing, nothing is counted twice."""
    assert desk.cluster.client
    world = drill.world
    committed = {"payer_wallet_id": world.payer_wallet_ids[1], "payee_wallet_id": world.payee_wallet_id,
                 "amount": "2.00", "purpose": "answer lost"}
    committed_key = str(uuid.uuid4())
    with desk.cluster.endpoint.client() as http:
        first = http.post("/api/payments", json=committed,
                          headers={**desk.cluster.client.headers(), IDEMPOTENCY_HEADER: committed_key})
    assert first.status_code == 201  # the client "never heard" this answer: only its key is kept as uncertain
    never_arrived = {**committed, "amount": "2.50", "purpose": "never arrived"}
    refused = {**committed, "amount": "5000000.00", "purpose": "more than the wallet holds"}
    _append(drill.files.uncertain,
            {"idempotency_key": committed_key, "kind": "transport", "at": "", "request": committed},
            {"idempotency_key": str(uuid.uuid4()), "kind": "outcome_unknown", "at": "", "request": never_arrived},
            {"idempotency_key": str(uuid.uuid4()), "kind": "timeout", "at": "", "request": refused})
    verdict = run_verdict(desk.cluster.endpoint, desk.auditor, desk.cluster.client, drill.files)
    assert verdict.ok, verdict
    assert (verdict.uncertain, verdict.uncertain_settled, verdict.uncertain_completed,
            verdict.uncertain_replayed, verdict.unsettled) == (3, 3, 2, 1, 0)
    assert (verdict.missing, verdict.duplicates, verdict.unexplained) == (0, 0, 0)


def test_a_request_that_never_left_is_counted_not_journaled(desk: Desk, tmp_path: Path) -> None:
    """Against a port nothing listens on: every request fails to connect, nothing is acknowledged or uncertain."""
    assert desk.cluster.client
    files = DrillFiles(tmp_path / "nowhere").create()
    world = World("i", "payee", ("payer",), "1.00", "2026-01-01T00:00:00+00:00")
    dead = type(desk.cluster.endpoint)("http://127.0.0.1:9")
    stats = LoadGenerator(dead, desk.cluster.client, world, files, LoadConfig(concurrency=2, seconds=0.5),
                          out=None).run()
    assert stats.acknowledged == 0 and stats.uncertain == 0 and stats.errors.get("connect", 0) == stats.sent > 0
    assert read_journal(files.journal) == [] and read_journal(files.uncertain) == []


def test_answers_are_classified_by_what_the_client_can_know() -> None:
    from appliance.drills.load import classify

    request = httpx.Request("POST", "http://service/api/payments")

    def answer(status: int, body: object) -> httpx.Response:
        return httpx.Response(status, json=body, request=request)

    assert classify(answer(201, {"operation": {"id": "op-1"}}), None).operation_id == "op-1"
    assert classify(answer(503, {"error": {"code": "OUTCOME_UNKNOWN"}}), None).uncertain
    assert classify(answer(502, {}), None).uncertain
    refused = classify(answer(422, {"error": {"code": "INSUFFICIENT_FUNDS"}}), None)
    assert (refused.kind, refused.uncertain) == ("refused:INSUFFICIENT_FUNDS", False)
    assert not classify(None, httpx.ConnectError("refused", request=request)).uncertain
    assert classify(None, httpx.ReadTimeout("slow", request=request)).uncertain
    assert classify(None, httpx.RemoteProtocolError("closed", request=request)).uncertain


def test_a_torn_last_journal_line_is_skipped_and_a_damaged_one_is_an_error(tmp_path: Path) -> None:
    from appliance.drills.api import DrillApiError

    path = tmp_path / "acknowledged.jsonl"
    path.write_text('{"operation_id": "a"}\n{"operation_id": "b"}\n{"operation_', encoding="utf-8")
    assert [r["operation_id"] for r in read_journal(path)] == ["a", "b"]
    path.write_text('{"operation_id": "a"}\n{"operation_\n{"operation_id": "b"}\n', encoding="utf-8")
    with pytest.raises(DrillApiError, match=":2 is not a JSON line"):
        read_journal(path)
