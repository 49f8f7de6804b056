"""A transfer between two wallets in two round trips: an unlocked read, then one guarded statement.

``read_transfer`` reads both wallets (and the payer's debits of the day) without locks or a
transaction. The domain decides on those values; ``post_transfer`` then calls ``oson.post_transfer``
(migration 0007), which claims the key, locks the wallets, re-checks the decision's facts and bounds,
and writes the operation, entries, balances, event and answer, committed with that one statement.
It raises ``Declined`` (nothing written) when the key is taken or the wallets changed: the caller
then runs the full transaction, which gives the exact answer (replay, refusal) for the locked state.
Both have an async twin for the event loop's connections (``storage.money_pool``): same statements,
same parameters.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Any

import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from oson_operator.domain.events import EventDraft
from oson_operator.domain.postings import Posting
from oson_operator.domain.rules import DebitBounds, WalletState
from oson_operator.storage import money_pool
from oson_operator.storage.driver import fetch
from oson_operator.storage.events import event_parameters
from oson_operator.storage.ledger import AML_IN_FORCE, WALLET_COLUMNS, wallet_state
from oson_operator.storage.money_pool import MoneyConnection

STALE, KEY_TAKEN = "OSN01", "OSN02"


class Declined(Exception):
    """The one-statement write did not happen (key taken, wallets changed); run the full transaction."""


@dataclass(frozen=True)
class Snapshot:
    payer: WalletState
    payee: WalletState
    payer_facts: str
    payee_facts: str
    debited_today: int


# Run on the driver's cursor (storage.driver): psycopg placeholders.
_READ = f"""
    SELECT {WALLET_COLUMNS}, oson.wallet_facts(a, p, {AML_IN_FORCE}),
        CASE WHEN a.id = CAST(%(payer)s AS uuid) THEN (
            SELECT coalesce(sum(o.amount), 0) FROM oson.operation o WHERE o.payer_account = a.id
            AND o.operational_day = %(day)s AND o.status = 'completed'
            AND o.kind IN ('payment', 'transfer', 'redemption')
        ) END
    FROM oson.account a JOIN oson.participant p ON p.id = a.participant_id
    WHERE a.id IN (CAST(%(payer)s AS uuid), CAST(%(payee)s AS uuid)) AND a.kind = 'wallet'
"""


def read_transfer(conn: Connection, payer_id: str, payee_id: str, day: date) -> Snapshot | None:
    """Both wallets as they are now (unlocked), or None if either is missing, they are the same, or
    an id is malformed (the full transaction then gives the precise answer)."""
    try:
        rows = fetch(conn, _READ, {"payer": payer_id, "payee": payee_id, "day": day})
    except DBAPIError:
        if conn.invalidated:
            raise
        return None
    return _snapshot(rows)


async def read_transfer_async(conn: MoneyConnection, payer_id: str, payee_id: str, day: date) -> Snapshot | None:
    """``read_transfer`` on an async connection; None also when the read fails (the caller then takes
    the full transaction, which answers whatever the failure was)."""
    try:
        rows = await money_pool.fetch(conn, _READ, {"payer": payer_id, "payee": payee_id, "day": day})
    except psycopg.Error:
        return None
    return _snapshot(rows)


def _snapshot(rows: list[tuple[Any, ...]]) -> Snapshot | None:
    if len(rows) != 2:
        return None
    first, second = rows
    payer, payee = (first, second) if first[-1] is not None else (second, first)
    return Snapshot(wallet_state(payer[:-2]), wallet_state(payee[:-2]), payer[-2], payee[-2], int(payer[-1]))


# oson.post_transfer's arguments in order, with the casts the untyped parameters need.
_POST_ARGUMENTS = (
    "actor", "key", "request_hash", "payer:uuid", "payer_facts", "payer_min_balance", "payer_max_debited",
    "payee:uuid", "payee_facts", "payee_max_balance", "operation:uuid", "kind", "amount", "commission",
    "details:jsonb", "request_id", "created_at", "day", "accounts:uuid[]", "amounts:bigint[]", "started_at",
    "ended_at", "action", "record_type", "record_id", "result", "source_address", "event_details:jsonb", "status",
    "response", "marker",
)
_POST = "SELECT oson.post_transfer({})".format(", ".join(
    f"CAST(%({name})s AS {cast})" if cast else f"%({name})s"
    for name, _, cast in (argument.partition(":") for argument in _POST_ARGUMENTS)))


def receipt_marker() -> int:
    """A stand-in receipt number for an answer built before the number exists (random: no text of the
    request can imitate it)."""
    return -(10**18 + secrets.randbelow(8 * 10**18))


@dataclass(frozen=True)
class TransferWrite:
    """What ``oson.post_transfer`` writes: the decision, and the answer to store (``marker`` in ``answer``
    becomes the receipt number). ``key`` is (actor, idempotency key, request hash)."""

    snapshot: Snapshot
    bounds: DebitBounds
    key: tuple[str, str, str]
    operation_id: str
    kind: str
    amount: int
    commission: int
    details: dict[str, Any]
    request_id: str | None
    now: datetime
    day: date
    postings: list[Posting]
    event: EventDraft
    status: int
    answer: dict[str, Any]
    marker: int

    @cached_property
    def response(self) -> str:
        """The answer as JSON text, rendered as the HTTP answer is (Starlette's ``JSONResponse``), so that
        once the marker is replaced it is the answer's body as well."""
        return json.dumps(self.answer, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def rendered(self, receipt: int) -> bytes:
        """The answer's body with its receipt number, as the database stores it."""
        return self.response.replace(str(self.marker), str(receipt)).encode()

    def parameters(self) -> dict[str, Any]:
        """The statement's parameters; ``Declined`` if the answer holds no receipt number to fill in."""
        response = self.response
        if str(self.marker) not in response:
            raise Declined("the answer holds no receipt number to fill in")
        actor, idempotency_key, request_hash = self.key
        params = event_parameters(self.event)
        snapshot, bounds, postings = self.snapshot, self.bounds, self.postings
        return {
            "actor": actor, "key": idempotency_key, "request_hash": request_hash,
            "payer": snapshot.payer.id, "payer_facts": snapshot.payer_facts,
            "payer_min_balance": bounds.payer_min_balance, "payer_max_debited": bounds.payer_max_debited_today,
            "payee": snapshot.payee.id, "payee_facts": snapshot.payee_facts,
            "payee_max_balance": bounds.payee_max_balance, "operation": self.operation_id, "kind": self.kind,
            "amount": self.amount, "commission": self.commission, "details": json.dumps(self.details),
            "request_id": self.request_id, "created_at": self.now, "day": self.day,
            # Array literals, not lists: the driver's list adaptation costs more than the rest of the call.
            "accounts": "{" + ",".join(p.account_id for p in postings) + "}",
            "amounts": "{" + ",".join(str(p.amount) for p in postings) + "}", "started_at": params["started_at"],
            "ended_at": params["ended_at"], "action": params["action"], "record_type": params["record_type"],
            "record_id": params["record_id"], "result": params["result"],
            "source_address": params["source_address"], "event_details": params["details"],
            "status": self.status, "response": response, "marker": str(self.marker),
        }


def post_transfer(conn: Connection, write: TransferWrite) -> int:
    """Write the transfer with its event and answer; returns the receipt number. ``Declined`` when the
    key is taken or the wallets changed (nothing written)."""
    params = write.parameters()
    try:
        rows = fetch(conn, _POST, params)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in (STALE, KEY_TAKEN):
            raise Declined(str(exc.orig)) from None
        raise
    return int(rows[0][0])


async def post_transfer_async(conn: MoneyConnection, write: TransferWrite) -> int:
    """``post_transfer`` on an async connection; other errors are psycopg's, as they are."""
    params = write.parameters()
    try:
        rows = await money_pool.fetch(conn, _POST, params)
    except psycopg.Error as exc:
        if exc.sqlstate in (STALE, KEY_TAKEN):
            raise Declined(str(exc)) from None
        raise
    return int(rows[0][0])


def jsonb_order(value: Any) -> Any:
    """``value`` with its keys in the order PostgreSQL's jsonb gives them back (shorter keys first, then
    bytewise): an answer built before the write then reads exactly like one built from the stored row."""
    if isinstance(value, dict):
        ordered = sorted(value.items(), key=lambda item: (len(item[0].encode()), item[0].encode()))
        return {key: jsonb_order(item) for key, item in ordered}
    if isinstance(value, list):
        return [jsonb_order(item) for item in value]
    return value
