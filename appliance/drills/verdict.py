"""The verdict of a drill: did the service keep every promise it made while the drill broke things?

From the load generator's files (world, acknowledged journal, uncertain requests) and the API:

1. Uncertain requests are settled by sending each one again with its own idempotency key: the
   service replays the answer of a request it committed, or runs it now if it never committed.
2. Every acknowledged operation is fetched (GET /api/operations/{id}, concurrently). MISSING: the
   service does not know it. MISMATCHED: it exists but is not the completed payment that was
   acknowledged (status, amount or payer differ).
3. DUPLICATES: one journal operation id acknowledged twice, or more than one completed operation for
   one idempotency key (from the payment events of the drill's API client since the drill started).
   UNEXPLAINED: completed payments from the drill's payer wallets (which only the drill uses) that
   neither the journal nor a settled request accounts for: an operation nobody was told about.
4. The ledger invariants (GET /api/ledger/check) and the event chain (GET /api/events/verify).

The drill passes only if everything is zero or ok, and every uncertain request was settled.

    python -m appliance.drills.verdict --url URL [--ca-file CA] --dir DRILL_DIR --auditor-login L \
        --client-id ID      (passwords: OSON_DRILL_AUDITOR_PASSWORD, OSON_DRILL_CLIENT_SECRET)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

import httpx

from appliance.drills.api import (
    IDEMPOTENCY_HEADER,
    ClientCredentials,
    DrillApiError,
    Endpoint,
    StaffCredentials,
    StaffSession,
    describe,
    error_code,
    get_json,
    staff_session,
)
from appliance.drills.load import DrillFiles, World, read_journal

PAGE = 500
SAMPLES = 10  # ids named in the verdict per kind of problem
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Settlement:
    key: str
    payer: str
    status: str  # "completed", "refused:<CODE>" or "unsettled"
    operation_id: str | None = None
    replayed: bool = False  # the service had committed it before: it answered from the stored answer
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    acknowledged: int
    missing: int
    duplicates: int
    mismatched: int
    unexplained: int
    uncertain: int
    uncertain_settled: int
    uncertain_completed: int
    uncertain_replayed: int
    unsettled: int
    ledger_ok: bool
    events_ok: bool
    ok: bool
    seconds: float
    problems: tuple[str, ...] = ()
    samples: dict[str, list[str]] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("problems", "samples")}

    def checks(self) -> list[dict[str, Any]]:
        """The verdict as named checks, for reports."""
        return [
            {"name": "every acknowledged operation is in the ledger",
             "ok": self.missing == 0 and self.mismatched == 0,
             "detail": f"{self.acknowledged} acknowledged, {self.missing} missing, "
                       f"{self.mismatched} not as acknowledged"},
            {"name": "no operation twice", "ok": self.duplicates == 0 and self.unexplained == 0,
             "detail": f"{self.duplicates} duplicates, {self.unexplained} operations nobody was told about"},
            {"name": "every uncertain request settled", "ok": self.unsettled == 0,
             "detail": f"{self.uncertain} uncertain: {self.uncertain_completed} completed "
                       f"({self.uncertain_replayed} had committed before), "
                       f"{self.uncertain_settled - self.uncertain_completed} refused, {self.unsettled} unsettled"},
            {"name": "ledger invariants hold", "ok": self.ledger_ok, "detail": "GET /api/ledger/check"},
            {"name": "event chain verifies", "ok": self.events_ok, "detail": "GET /api/events/verify"},
        ]


def _parallel(work: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="drill-verdict") as pool:
        return list(pool.map(work, items))


def _get(http: httpx.Client, path: str, headers: dict[str, str], attempts: int = 4, **params: Any) -> httpx.Response:
    """GET with a few retries on transport errors and 5xx (the service may still be settling after a drill)."""
    last: Exception | httpx.Response | None = None
    for attempt in range(attempts):
        try:
            response = http.get(path, headers=headers, params={k: v for k, v in params.items() if v is not None})
            if response.status_code < 500:
                return response
            last = response
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.5 * (attempt + 1))
    if isinstance(last, httpx.Response):
        return last
    raise DrillApiError(f"GET {path} failed {attempts} times: {last}")


def settle(http: httpx.Client, client: ClientCredentials, records: list[dict[str, Any]], *, attempts: int = 6,
           workers: int = 8) -> list[Settlement]:
    """Send each uncertain request again, same key and body, until the service gives a definite answer."""
    unique = list({record["idempotency_key"]: record for record in records}.values())

    def one(record: dict[str, Any]) -> Settlement:
        key, body = record["idempotency_key"], record["request"]
        payer = str(body["payer_wallet_id"])
        detail = ""
        for attempt in range(attempts):
            try:
                response = http.post("/api/payments", json=body,
                                     headers={**client.headers(), IDEMPOTENCY_HEADER: key})
            except httpx.TransportError as exc:
                detail = f"{type(exc).__name__}: {exc}"
            else:
                code = error_code(response)
                if response.status_code == 201:
                    return Settlement(key, payer, "completed", str(response.json()["operation"]["id"]),
                                      replayed=response.headers.get("Idempotent-Replayed") == "true")
                if code == "IDEMPOTENCY_KEY_REUSED":
                    return Settlement(key, payer, "unsettled", detail="the key was stored with another request")
                if response.status_code < 500:
                    return Settlement(key, payer, f"refused:{code or response.status_code}")
                detail = describe(response)
            time.sleep(min(0.5 * 2**attempt, 5.0))
        return Settlement(key, payer, "unsettled", detail=detail)

    return _parallel(one, unique, workers)


def completed_payments_of(http: httpx.Client, headers: dict[str, str], wallet_id: str) -> dict[str, dict[str, Any]]:
    """Every completed payment paid from ``wallet_id``, by id (pages newest first, keyed on created_at)."""
    found: dict[str, dict[str, Any]] = {}
    before: str | None = None
    while True:
        page = get_json(http, "/api/operations", headers, wallet_id=wallet_id, kind="payment", status="completed",
                        limit=PAGE, before=before)["operations"]
        fresh = [op for op in page if op["id"] not in found]
        found.update({op["id"]: op for op in page if op.get("payer_wallet_id") == wallet_id})
        if len(page) < PAGE:
            return found
        if not fresh:
            raise DrillApiError(f"paging the operations of wallet {wallet_id} made no progress: more than {PAGE} "
                                "operations share one creation time")
        # ``before`` is exclusive: ask again from just after the oldest time seen, so operations that share
        # that time are not skipped; the ones already seen come back and are ignored.
        oldest = datetime.fromisoformat(page[-1]["created_at"])
        before = (oldest + timedelta(microseconds=1)).isoformat()


def operations_by_key(http: httpx.Client, headers: dict[str, str], actor: str, since: str) -> dict[str, set[str]]:
    """From the event log: idempotency key -> ids of the completed payments made under it, since ``since``."""
    by_key: dict[str, set[str]] = defaultdict(set)
    cursor: str | None = None
    while True:
        body = get_json(http, "/api/events", headers, actor=actor, action="payment.create", result="ok",
                        limit=PAGE, cursor=cursor, **{"from": since})
        for event in body["events"]:
            key = (event.get("details") or {}).get("idempotency_key")
            if key and event.get("record_id"):
                by_key[str(key)].add(str(event["record_id"]))
        cursor = body.get("next_cursor")
        if not cursor:
            return by_key


def run_verdict(endpoint: Endpoint, auditor: StaffCredentials | StaffSession, client: ClientCredentials,
                files: DrillFiles, *, workers: int = 16, settle_attempts: int = 6,
                out: TextIO | None = None) -> Verdict:
    """Judge the drill whose files are ``files``; see the module docstring. ``auditor``: an auditor (or
    administrator) staff user, or a session of one; ``client``: the API client the load generator used."""
    started = time.monotonic()

    def say(line: str) -> None:
        if out is not None:
            print(f"verdict: {line}", file=out, flush=True)

    world = World.load(files.world)
    journal = read_journal(files.journal)
    uncertain_records = read_journal(files.uncertain)
    problems: list[str] = []
    samples: dict[str, list[str]] = {}

    with endpoint.client(connections=workers, timeout=60) as http:
        session = auditor if isinstance(auditor, StaffSession) else staff_session(http, auditor)
        headers = session.headers

        # 1. Settle the uncertain requests.
        settlements = settle(http, client, uncertain_records, attempts=settle_attempts, workers=min(workers, 8))
        completed_later = {s.operation_id: s for s in settlements if s.status == "completed" and s.operation_id}
        unsettled = [s for s in settlements if s.status == "unsettled"]
        if unsettled:
            samples["unsettled"] = [f"{s.key}: {s.detail}" for s in unsettled[:SAMPLES]]
            problems.append(f"{len(unsettled)} uncertain requests could not be settled (the service kept failing)")
        replayed = sum(1 for s in settlements if s.replayed)
        say(f"{len(settlements)} uncertain requests: {len(completed_later)} completed ({replayed} had committed "
            f"before), {len(unsettled)} could not be settled")

        # 2. Every acknowledged operation, fetched.
        by_id: dict[str, dict[str, Any]] = {}
        for record in journal:
            by_id.setdefault(record["operation_id"], record)

        def fetch(operation_id: str) -> tuple[str, int, dict[str, Any] | None]:
            response = _get(http, f"/api/operations/{operation_id}", headers)
            return operation_id, response.status_code, response.json() if response.status_code == 200 else None

        missing: list[str] = []
        mismatched: list[str] = []
        for operation_id, status, body in _parallel(fetch, list(by_id), workers):
            record = by_id[operation_id]
            if status == 404:
                missing.append(operation_id)
            elif status != 200 or body is None:
                problems.append(f"operation {operation_id} could not be read (HTTP {status})")
                mismatched.append(operation_id)
            else:
                op = body["operation"]
                if (op["status"], op["kind"], op["amount"], op["payer_wallet_id"]) != (
                        "completed", "payment", record["amount"], record["payer"]):
                    mismatched.append(operation_id)
        say(f"{len(by_id)} acknowledged operations fetched: {len(missing)} missing, {len(mismatched)} not as "
            "acknowledged")

        # 3. Duplicates and operations nobody was told about.
        repeated_ids = sum(n - 1 for n in Counter(r["operation_id"] for r in journal).values() if n > 1)
        per_key = operations_by_key(http, headers, client.actor, world.prepared_at)
        extra_per_key = {key: ids for key, ids in per_key.items() if len(ids) > 1}
        duplicates = repeated_ids + sum(len(ids) - 1 for ids in extra_per_key.values())
        for record in journal:
            made = per_key.get(record["idempotency_key"])
            if made is not None and record["operation_id"] not in made and record["operation_id"] not in mismatched:
                mismatched.append(record["operation_id"])  # the key made another operation than the one answered
        expected = set(by_id) | set(completed_later)
        listed = _parallel(lambda wallet: completed_payments_of(http, headers, wallet), world.payer_wallet_ids,
                           min(workers, len(world.payer_wallet_ids)))
        unexplained = sorted({op_id for ops in listed for op_id in ops} - expected)
        say(f"{duplicates} duplicates, {len(unexplained)} operations nobody was told about")

        # 4. Ledger and event log.
        ledger = get_json(http, "/api/ledger/check", headers)
        ledger_ok = bool(ledger.get("ok"))
        if not ledger_ok:
            problems.append(f"ledger check failed: {json.dumps(ledger)[:500]}")
        verify = http.get("/api/events/verify", headers=headers, timeout=600)
        events_ok = verify.status_code == 200 and bool(verify.json().get("ok"))
        if not events_ok:
            problems.append(f"event log verification failed: {verify.text[:500]}")
        say(f"ledger {'ok' if ledger_ok else 'FAILED'}, event log {'ok' if events_ok else 'FAILED'}")

    for name, ids in (("missing", missing), ("mismatched", mismatched), ("unexplained", unexplained),
                      ("duplicate_keys", sorted(extra_per_key))):
        if ids:
            samples[name] = sorted(ids)[:SAMPLES]
    if missing:
        problems.append(f"{len(missing)} acknowledged operations are missing")
    if mismatched:
        problems.append(f"{len(mismatched)} acknowledged operations are not what was acknowledged")
    if duplicates:
        problems.append(f"{duplicates} duplicate operations")
    if unexplained:
        problems.append(f"{len(unexplained)} completed payments that no acknowledgement or settled request explains")
    ok = not (missing or mismatched or duplicates or unexplained or unsettled) and ledger_ok and events_ok
    return Verdict(
        acknowledged=len(by_id), missing=len(missing), duplicates=duplicates, mismatched=len(mismatched),
        unexplained=len(unexplained), uncertain=len(settlements),
        uncertain_settled=len(settlements) - len(unsettled), uncertain_completed=len(completed_later),
        uncertain_replayed=replayed, unsettled=len(unsettled), ledger_ok=ledger_ok, events_ok=events_ok, ok=ok,
        seconds=round(time.monotonic() - started, 2), problems=tuple(problems), samples=samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drill-verdict", description="judge a drill from its journal")
    parser.add_argument("--url", required=True, help="the operator API, e.g. https://<public VIP>")
    parser.add_argument("--ca-file", type=Path, help="CA certificate for https")
    parser.add_argument("--dir", type=Path, required=True, help="the drill directory the load generator wrote")
    parser.add_argument("--auditor-login", required=True, help="auditor (password: $OSON_DRILL_AUDITOR_PASSWORD)")
    parser.add_argument("--client-id", required=True, help="the load's API client (secret: $OSON_DRILL_CLIENT_SECRET)")
    parser.add_argument("--json", action="store_true", help="print the verdict as one JSON object")
    args = parser.parse_args(argv)
    password, secret = os.environ.get("OSON_DRILL_AUDITOR_PASSWORD"), os.environ.get("OSON_DRILL_CLIENT_SECRET")
    if not password or not secret:
        print("drill-verdict: set OSON_DRILL_AUDITOR_PASSWORD and OSON_DRILL_CLIENT_SECRET", file=sys.stderr)
        return 2
    try:
        verdict = run_verdict(Endpoint(args.url, args.ca_file), StaffCredentials(args.auditor_login, password),
                              ClientCredentials(args.client_id, secret), DrillFiles(args.dir),
                              out=None if args.json else sys.stderr)
    except (DrillApiError, httpx.HTTPError) as exc:
        print(f"drill-verdict: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({**verdict.figures(), "problems": list(verdict.problems), "samples": verdict.samples}))
    else:
        for name, value in verdict.figures().items():
            print(f"{name}: {value}")
        for problem in verdict.problems:
            print(f"problem: {problem}")
        print("PASS" if verdict.ok else "FAIL")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    sys.exit(main())
