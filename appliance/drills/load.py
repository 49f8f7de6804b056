"""Load generator: real payments through the operator API, each acknowledged one journaled durably.

A payment is ACKNOWLEDGED only when the service answered HTTP 201 with an operation id. Each one is
appended to ``acknowledged.jsonl`` as one JSON line and fsync'd before it is counted, so the journal
is the client's durable memory of what the service promised, whatever happens to the service.

Every request carries a fresh Idempotency-Key. A request whose outcome the client cannot know (the
connection broke after sending, a timeout, any 5xx, 503 OUTCOME_UNKNOWN) is written to
``uncertain.jsonl`` with its key and body: after the drill the verdict retries exactly that request,
and the service either replays the answer it committed or runs it now. Refusals (4xx) and requests
that never left (connection refused) are only counted.

    python -m appliance.drills.load --url URL [--ca-file CA] --dir DRILL_DIR --operator-login L \
        --client-id ID [--payers 8] [--concurrency 8] [--seconds 60 | --count N]

Passwords and the client secret come from the environment (OSON_DRILL_OPERATOR_PASSWORD,
OSON_DRILL_CLIENT_SECRET), never from the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from appliance.drills.api import (
    IDEMPOTENCY_HEADER,
    ClientCredentials,
    DrillApiError,
    Endpoint,
    StaffCredentials,
    StaffSession,
    error_code,
    new_key,
    post_command,
    staff_session,
)

OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_durably(path: Path, text: str) -> None:
    """Write a small file so that it survives a crash: temporary file, fsync, rename, fsync the directory."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    _fsync_directory(path.parent)


@dataclass(frozen=True)
class DrillFiles:
    """The files of one drill, all in one directory."""

    directory: Path

    @property
    def world(self) -> Path:
        return self.directory / "world.json"

    @property
    def journal(self) -> Path:
        return self.directory / "acknowledged.jsonl"

    @property
    def uncertain(self) -> Path:
        return self.directory / "uncertain.jsonl"

    @property
    def summary(self) -> Path:
        return self.directory / "load-summary.json"

    def create(self) -> DrillFiles:
        self.directory.mkdir(parents=True, exist_ok=True)
        return self


@dataclass(frozen=True)
class World:
    """The wallets a drill pays from and to; payers are new, so all their payments belong to the drill."""

    issuer_id: str
    payee_wallet_id: str
    payer_wallet_ids: tuple[str, ...]
    funding: str
    prepared_at: str

    def save(self, path: Path) -> None:
        write_durably(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> World:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DrillApiError(f"{path} not found: prepare the drill's wallets first (prepare_world)") from None
        data["payer_wallet_ids"] = tuple(data["payer_wallet_ids"])
        return cls(**data)


def _iin() -> str:
    return str(uuid.uuid4().int)[:12]


def prepare_world(http: httpx.Client, staff: StaffSession, *, payers: int = 8, funding: str = "1000000.00",
                  tariff: str = "kz_mobile", label: str | None = None) -> World:
    """Through the API as an operator: an issuer, a partner payee (``tariff``: its commission applies to
    every payment; kz_mobile is 1% with no fixed part) and ``payers`` identified clients' wallets, each
    funded by an issuance of ``funding`` tenge."""
    if payers < 1:
        raise ValueError("a drill needs at least one payer wallet")
    suffix = label or uuid.uuid4().hex[:8]
    desk = staff.headers

    def register(body: dict[str, Any]) -> str:
        return str(post_command(http, "/api/participants", body, desk)["participant"]["id"])

    issuer = register({"kind": "issuer", "name": f"Drill bank {suffix}", "iin_bin": _iin(), "issuer_type": "bank",
                       "license_number": "DRILL-L", "agreement_number": "DRILL-A"})
    shop = register({"kind": "partner", "legal_form": "legal_entity", "name": f"Drill shop {suffix}",
                     "iin_bin": _iin(), "phone": "+77010000001", "legal_address": "Almaty", "tariff": tariff,
                     "bank_account": {"iban": "KZ123456789012345678", "bik": "HSBKKZKX"},
                     "agreement_number": "DRILL-P", "kyc_questionnaire": "DRILL-KYC"})
    payee = str(post_command(http, "/api/wallets", {"participant_id": shop, "issuer_id": issuer}, desk)["wallet"]["id"])
    payer_ids: list[str] = []
    for number in range(payers):
        person = register({"kind": "individual", "name": f"Drill client {suffix}-{number}", "iin_bin": _iin(),
                           "phone": "+77010000000", "birth_date": "1990-01-01", "resident": True,
                           "public_offer_accepted": True, "personal_data_consent": True})
        # Identified clients have no balance or daily limits (§6.1), so a long drill is never refused by them.
        post_command(http, f"/api/participants/{person}/identification",
                     {"level": "identified", "method": "in_person", "evidence": f"drill {suffix}"}, desk)
        wallet = str(post_command(http, "/api/wallets", {"participant_id": person, "issuer_id": issuer},
                                  desk)["wallet"]["id"])
        post_command(http, "/api/issuances", {"wallet_id": wallet, "amount": funding,
                                              "money_reference": f"drill {suffix}"}, desk)
        payer_ids.append(wallet)
    return World(issuer, payee, tuple(payer_ids), funding, now_iso())


class Journal:
    """Append-only JSON lines; each line is flushed and fsync'd before ``append`` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        existed = path.exists()
        self._handle = path.open("a", encoding="utf-8")
        if not existed:
            _fsync_directory(path.parent)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
        with self._lock:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        with self._lock:
            self._handle.close()


def read_journal(path: Path) -> list[dict[str, Any]]:
    """Every complete line; a torn last line (the writer died mid-line) is skipped, any other bad line is an error."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    records: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: written partly when the writer stopped
                continue
            raise DrillApiError(f"{path}:{number} is not a JSON line; the journal was damaged") from None
    return records


@dataclass(frozen=True)
class LoadConfig:
    concurrency: int = 8
    seconds: float | None = None  # stop after this long
    max_acknowledged: int | None = None  # stop once this many are acknowledged
    purpose: str = "drill payment"
    request_timeout: float = 10.0
    progress_every: float = 5.0
    error_pause: float = 0.05  # a worker pauses this long after a failure, so a dead service is not hammered


@dataclass
class LoadStats:
    started_at: str = ""
    ended_at: str = ""
    seconds: float = 0.0
    sent: int = 0
    acknowledged: int = 0
    uncertain: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.acknowledged / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "rate_per_second": round(self.rate, 1)}


@dataclass(frozen=True)
class Answer:
    """How one payment request ended, from the client's side."""

    kind: str  # "acknowledged", or the failure kind counted in LoadStats.errors
    operation_id: str | None = None
    uncertain: bool = False  # the service may have committed it: the verdict must settle the key


def classify(response: httpx.Response | None, error: Exception | None) -> Answer:
    if error is not None:
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
            return Answer("connect")  # never left this machine
        if isinstance(error, httpx.TimeoutException):
            return Answer("timeout", uncertain=True)
        return Answer("transport", uncertain=True)  # sent, then the connection broke
    assert response is not None
    if response.status_code == 201:
        try:
            operation_id = response.json()["operation"]["id"]
        except (ValueError, KeyError, TypeError):
            operation_id = None
        if isinstance(operation_id, str) and operation_id:
            return Answer("acknowledged", operation_id)
        return Answer("bad_answer", uncertain=True)
    code = error_code(response)
    if code == OUTCOME_UNKNOWN:
        return Answer("outcome_unknown", uncertain=True)
    if response.status_code >= 500:
        return Answer(f"http_{response.status_code}", uncertain=True)
    return Answer(f"refused:{code}" if code else f"http_{response.status_code}")


class LoadGenerator:
    """Sends payments from the world's payers to its payee until stopped; see the module docstring."""

    def __init__(self, endpoint: Endpoint, client: ClientCredentials, world: World, files: DrillFiles,
                 config: LoadConfig | None = None, *, out: TextIO | None = None) -> None:
        self.endpoint = endpoint
        self.client = client
        self.world = world
        self.files = files.create()
        self.config = config or LoadConfig()
        self.out = out
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._stats = LoadStats()
        self._errors: Counter[str] = Counter()
        self._started = 0.0
        self._thread: threading.Thread | None = None
        self._result: LoadStats | None = None

    # -- control -------------------------------------------------------------------------------------
    def run(self) -> LoadStats:
        """Run in this thread until the stop event, the time limit or the count; returns the figures."""
        config = self.config
        journal, uncertain = Journal(self.files.journal), Journal(self.files.uncertain)
        self._started = time.monotonic()
        self._stats.started_at = now_iso()
        deadline = self._started + config.seconds if config.seconds is not None else None
        with self.endpoint.client(connections=config.concurrency, timeout=config.request_timeout) as http:
            workers = [threading.Thread(target=self._work, args=(index, http, journal, uncertain, deadline),
                                        name=f"drill-load-{index}", daemon=True)
                       for index in range(config.concurrency)]
            for worker in workers:
                worker.start()
            next_progress = time.monotonic() + config.progress_every
            try:
                while any(worker.is_alive() for worker in workers):
                    if deadline is not None and time.monotonic() >= deadline:
                        self.stop_event.set()
                    if time.monotonic() >= next_progress:
                        self._print(self.progress_line())
                        next_progress += config.progress_every
                    time.sleep(0.05)
            except KeyboardInterrupt:  # Ctrl-C: stop sending, let the requests in flight finish and be journaled
                self.stop_event.set()
            for worker in workers:
                worker.join(timeout=config.request_timeout + 5)
        journal.close()
        uncertain.close()
        stats = self.snapshot()
        stats.ended_at = now_iso()
        self._print(self.progress_line(stats, final=True))
        write_durably(self.files.summary, json.dumps(stats.as_dict(), indent=2) + "\n")
        return stats

    def start(self) -> LoadGenerator:
        """Run in a background thread; ``stop()`` ends it and returns the figures."""
        def target() -> None:
            self._result = self.run()

        self._thread = threading.Thread(target=target, name="drill-load", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> LoadStats:
        """Ask the workers to stop, wait for the requests in flight to end, and return the figures."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                raise DrillApiError(f"the load generator did not stop within {timeout} s")
        return self._result if self._result is not None else self.snapshot()

    def snapshot(self) -> LoadStats:
        with self._lock:
            stats = LoadStats(**{**asdict(self._stats), "errors": dict(self._errors)})
        stats.seconds = round(time.monotonic() - self._started, 3) if self._started else 0.0
        return stats

    def progress_line(self, stats: LoadStats | None = None, *, final: bool = False) -> str:
        stats = stats or self.snapshot()
        errors = ", ".join(f"{kind}={count}" for kind, count in sorted(stats.errors.items())) or "none"
        head = "load done" if final else "load"
        return (f"{head}: {stats.seconds:.0f} s, {stats.acknowledged} acknowledged ({stats.rate:.1f}/s), "
                f"{stats.uncertain} uncertain, errors: {errors}")

    # -- workers -------------------------------------------------------------------------------------
    def _should_stop(self, deadline: float | None) -> bool:
        if self.stop_event.is_set():
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return True
        limit = self.config.max_acknowledged
        if limit is not None:
            with self._lock:
                if self._stats.acknowledged >= limit:
                    self.stop_event.set()
                    return True
        return False

    def _work(self, index: int, http: httpx.Client, journal: Journal, uncertain: Journal,
              deadline: float | None) -> None:
        payers = self.world.payer_wallet_ids
        headers = self.client.headers()
        sent = 0
        while not self._should_stop(deadline):
            payer = payers[(index + sent * self.config.concurrency) % len(payers)]
            body = {"payer_wallet_id": payer, "payee_wallet_id": self.world.payee_wallet_id,
                    "amount": f"1.{(index + sent) % 100:02d}", "purpose": self.config.purpose}
            sent += 1
            key = new_key()
            response: httpx.Response | None = None
            failure: Exception | None = None
            try:
                response = http.post("/api/payments", json=body, headers={**headers, IDEMPOTENCY_HEADER: key})
            except httpx.HTTPError as exc:
                failure = exc
            answer = classify(response, failure)
            self._record(answer, key, body, journal, uncertain)
            if answer.kind != "acknowledged":
                time.sleep(self.config.error_pause)

    def _record(self, answer: Answer, key: str, body: dict[str, str], journal: Journal, uncertain: Journal) -> None:
        if answer.kind == "acknowledged":
            # Durable first, counted second: a counted payment is always in the journal.
            journal.append({"operation_id": answer.operation_id, "idempotency_key": key,
                            "acknowledged_at": now_iso(), "amount": body["amount"], "payer": body["payer_wallet_id"]})
        elif answer.uncertain:
            uncertain.append({"idempotency_key": key, "kind": answer.kind, "at": now_iso(), "request": body})
        with self._lock:
            self._stats.sent += 1
            if answer.kind == "acknowledged":
                self._stats.acknowledged += 1
            else:
                self._errors[answer.kind] += 1
                if answer.uncertain:
                    self._stats.uncertain += 1

    def _print(self, line: str) -> None:
        if self.out is not None:
            print(line, file=self.out, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drill-load", description="payments through the operator API, journaled")
    parser.add_argument("--url", required=True, help="the operator API, e.g. https://<public VIP>")
    parser.add_argument("--ca-file", type=Path, help="CA certificate for https")
    parser.add_argument("--dir", type=Path, required=True, help="drill directory (journal, world, summary)")
    parser.add_argument("--operator-login", required=True,
                        help="staff operator (password: $OSON_DRILL_OPERATOR_PASSWORD)")
    parser.add_argument("--client-id", required=True, help="API client (secret: $OSON_DRILL_CLIENT_SECRET)")
    parser.add_argument("--payers", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, help="stop after this long")
    parser.add_argument("--count", type=int, help="stop after this many acknowledged payments")
    args = parser.parse_args(argv)
    password, secret = os.environ.get("OSON_DRILL_OPERATOR_PASSWORD"), os.environ.get("OSON_DRILL_CLIENT_SECRET")
    if not password or not secret:
        print("drill-load: set OSON_DRILL_OPERATOR_PASSWORD and OSON_DRILL_CLIENT_SECRET", file=sys.stderr)
        return 2
    if args.seconds is None and args.count is None:
        print("drill-load: give --seconds or --count (or both) so the load stops by itself", file=sys.stderr)
        return 2
    endpoint = Endpoint(args.url, args.ca_file)
    files = DrillFiles(args.dir).create()
    try:
        if files.world.exists():
            world = World.load(files.world)
        else:
            with endpoint.client() as http:
                session = staff_session(http, StaffCredentials(args.operator_login, password))
                if session.credentials.password != password:
                    print(f"drill-load: the temporary password was changed; the new one is "
                          f"{session.credentials.password}", file=sys.stderr)
                world = prepare_world(http, session, payers=args.payers)
            world.save(files.world)
        generator = LoadGenerator(endpoint, ClientCredentials(args.client_id, secret), world, files,
                                  LoadConfig(concurrency=args.concurrency, seconds=args.seconds,
                                             max_acknowledged=args.count), out=sys.stdout)
        generator.run()
    except (DrillApiError, httpx.HTTPError) as exc:
        print(f"drill-load: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
