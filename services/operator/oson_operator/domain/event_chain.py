"""The event log's hash chains: canonical bytes of a stored event, and the chain rules (pure).

The database computes ``hash = sha256(prev_hash || canonical)`` in the insert trigger
(``oson.event_canonical``, migration 0002). This module mirrors that canonical form byte for
byte so that the verifier recomputes every hash from the stored fields alone:

    'oson.event.v1' US id US chain US chain_seq US started US ended US recorded
                    US actor US action US record_type US record_id US result
                    US source_address US request_id US details

with US = U+001F, timestamps as integer microseconds since the Unix epoch, and every text field
written as ``-`` (NULL) or ``<number of characters>:<value>`` so that NULL differs from '' and a
value cannot imitate a separator. ``details`` is PostgreSQL's normalized ``jsonb::text``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CANONICAL_VERSION = "oson.event.v1"
CHAINS = 16
GENESIS_HASH = bytes(32)
_SEPARATOR = "\x1f"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``oson.event`` as the verifier reads it (``details`` as ``details::text``)."""

    id: int
    chain: int
    chain_seq: int
    started_at: datetime
    ended_at: datetime
    recorded_at: datetime
    actor: str
    action: str
    record_type: str | None
    record_id: str | None
    result: str
    source_address: str | None
    request_id: str | None
    details_text: str
    prev_hash: bytes
    hash: bytes

    @property
    def where(self) -> str:
        return f"event id {self.id} (chain {self.chain} seq {self.chain_seq})"


def epoch_micros(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    if value.tzinfo is None:
        raise ValueError("stored event timestamps are timezone-aware")
    return (value - _EPOCH) // timedelta(microseconds=1)


def _field(value: str | None) -> str:
    return "-" if value is None else f"{len(value)}:{value}"


def canonical_bytes(event: StoredEvent) -> bytes:
    """The bytes the insert trigger hashed for this row (see the module docstring)."""
    parts = [
        CANONICAL_VERSION,
        str(event.id),
        str(event.chain),
        str(event.chain_seq),
        str(epoch_micros(event.started_at)),
        str(epoch_micros(event.ended_at)),
        str(epoch_micros(event.recorded_at)),
        _field(event.actor),
        _field(event.action),
        _field(event.record_type),
        _field(event.record_id),
        _field(event.result),
        _field(event.source_address),
        _field(event.request_id),
        _field(event.details_text),
    ]
    return _SEPARATOR.join(parts).encode("utf-8")


def chain_hash(prev_hash: bytes, event: StoredEvent) -> bytes:
    """``sha256(prev_hash || canonical)``: the hash the row must carry."""
    return hashlib.sha256(prev_hash + canonical_bytes(event)).digest()


# --- Checkpoints -------------------------------------------------------------------------------

CHECKPOINT_FORMAT = "oson.event-checkpoint.v1"


@dataclass(frozen=True)
class ChainHead:
    """The last event of a chain: its seq (0 for an empty chain) and hash (GENESIS_HASH if empty)."""

    seq: int
    hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement "chain c had reached (seq, hash)" for every chain, at ``created_at``.

    ``source`` says where it was read: ``database`` or the path of an exported file.
    """

    id: int
    created_at: datetime
    heads: Mapping[int, ChainHead]
    key_id: str
    signature: bytes
    source: str = "database"

    @property
    def name(self) -> str:
        where = "" if self.source == "database" else f" (file {self.source})"
        return f"checkpoint {self.id} of {self.created_at.isoformat()}{where}"


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of the public key: the first 32 hex digits of sha256(raw key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def heads_document(heads: Mapping[int, ChainHead]) -> dict[str, dict[str, object]]:
    """Heads as JSON: ``{"<chain>": {"seq": n, "hash": "<hex>"}}`` (stored in event_checkpoint.heads)."""
    return {str(chain): {"seq": head.seq, "hash": head.hash.hex()} for chain, head in sorted(heads.items())}


def heads_from_document(document: Mapping[str, Any]) -> dict[int, ChainHead]:
    """The inverse of heads_document; ValueError if the document is not heads."""
    heads: dict[int, ChainHead] = {}
    for chain, head in document.items():
        seq, digest = head["seq"], bytes.fromhex(head["hash"])
        if not isinstance(seq, int) or seq < 0 or len(digest) != 32:
            raise ValueError(f"chain {chain}: seq must be a count and hash 32 bytes")
        heads[int(chain)] = ChainHead(seq, digest)
    return heads


def signed_document(created_at: datetime, heads: Mapping[int, ChainHead], signer_key_id: str) -> dict[str, object]:
    """What a checkpoint signs (and what its exported file holds under ``signed``)."""
    return {
        "format": CHECKPOINT_FORMAT,
        "created_at_us": epoch_micros(created_at),
        "created_at": created_at.astimezone(UTC).isoformat(),
        "key_id": signer_key_id,
        "heads": heads_document(heads),
    }


def signed_bytes(document: Mapping[str, object]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, ASCII."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_checkpoint(private_key: Ed25519PrivateKey, created_at: datetime,
                    heads: Mapping[int, ChainHead]) -> tuple[str, bytes]:
    """(key id, signature) for a checkpoint of ``heads`` taken at ``created_at``."""
    signer = key_id(private_key.public_key())
    return signer, private_key.sign(signed_bytes(signed_document(created_at, heads, signer)))


def export_document(checkpoint: Checkpoint) -> dict[str, object]:
    """The JSON written to the export directory: the signed document, the signature, the row id."""
    return {
        "checkpoint_id": checkpoint.id,
        "signed": signed_document(checkpoint.created_at, checkpoint.heads, checkpoint.key_id),
        "signature": checkpoint.signature.hex(),
    }


def checkpoint_from_export(document: Mapping[str, Any], source: str) -> Checkpoint:
    """Parse an exported file's JSON; ValueError says what is wrong with it."""
    try:
        signed = document["signed"]
        if signed.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"format is {signed.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
        created_at = _EPOCH + timedelta(microseconds=int(signed["created_at_us"]))
        return Checkpoint(
            id=int(document["checkpoint_id"]),
            created_at=created_at,
            heads=heads_from_document(signed["heads"]),
            key_id=str(signed["key_id"]),
            signature=bytes.fromhex(document["signature"]),
            source=source,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not an event-log checkpoint ({type(exc).__name__}: {exc})") from None


def signature_valid(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    document = signed_document(checkpoint.created_at, checkpoint.heads, checkpoint.key_id)
    try:
        public_key.verify(checkpoint.signature, signed_bytes(document))
    except InvalidSignature:
        return False
    return True


# --- Verification ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One integrity failure, naming the first bad record it proves.

    ``kind``: ``hash_mismatch`` (row changed), ``rehashed`` (row changed and its hash recomputed:
    the next row no longer links to it), ``gap`` (rows deleted: ``missing_from``..``missing_to``),
    ``out_of_order`` (a seq repeated or going back), ``truncated`` (the chain ends before a seq a
    checkpoint or the chain head names), ``checkpoint_mismatch`` (the chain's hash at a
    checkpointed seq differs), ``extra`` (rows past the chain head, written around the trigger),
    ``checkpoint_signature``, ``checkpoint_unknown_key``, ``checkpoint_missing`` (an exported
    checkpoint has no row any more), ``checkpoint_differs``, ``checkpoint_file``.
    """

    kind: str
    message: str
    chain: int | None = None
    seq: int | None = None
    event_id: int | None = None
    checkpoint_id: int | None = None
    missing_from: int | None = None
    missing_to: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {key: value for key, value in asdict(self).items() if value is not None}


@dataclass
class ChainState:
    """What the walk of one chain has seen so far."""

    chain: int
    events: int = 0
    last_seq: int = 0
    last_hash: bytes = GENESIS_HASH
    last_event_id: int | None = None
    problem: Problem | None = None
    first_after_head: int | None = None  # event id of the first record past the chain head, if any
    # The event id and hash the chain has at the highest checkpointed seq, once the walk reaches it.
    reached: tuple[int, bytes] | None = None

    def to_dict(self) -> dict[str, object]:
        return {"chain": self.chain, "events": self.events, "last_seq": self.last_seq,
                "last_event_id": self.last_event_id, "last_hash": self.last_hash.hex(),
                "intact": self.problem is None}


@dataclass
class VerifyReport:
    """The outcome of a verification: ``ok`` only if no problem was found."""

    events_checked: int
    chains: list[ChainState]
    checkpoints_checked: int
    checkpoint_files_checked: int
    signatures_checked: bool
    latest_checkpoint: Checkpoint | None
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def to_dict(self) -> dict[str, object]:
        latest = self.latest_checkpoint
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "checkpoint_files_checked": self.checkpoint_files_checked,
            "signatures_checked": self.signatures_checked,
            "latest_checkpoint": None if latest is None else {
                "id": latest.id, "created_at": latest.created_at.isoformat(), "key_id": latest.key_id},
            "chains": [chain.to_dict() for chain in self.chains],
            "problems": [problem.to_dict() for problem in self.problems],
        }


@dataclass(frozen=True)
class _Target:
    """The highest (seq, hash) of one chain that a trusted checkpoint signed."""

    seq: int
    hash: bytes
    checkpoint: Checkpoint


class Verifier:
    """Walks the chains and checks them against the chain heads and the signed checkpoints.

    Pure: the storage layer reads rows, heads and checkpoints and hands them over, in this order:
    every checkpoint (``add_checkpoint``, ``add_exported``), then every event ordered by
    (chain, chain_seq) (``feed``), then ``finish``. Memory stays small for any number of events
    and checkpoints: a chain is hash-linked, so the highest signed (seq, hash) of each chain
    covers every record before it; earlier checkpoints only have their signatures checked.
    Only the first problem of each chain is reported: every later row of that chain is suspect.
    """

    MAX_CHECKPOINT_PROBLEMS = 100

    def __init__(self, *, public_keys: Sequence[Ed25519PublicKey] | None,
                 chain_heads: Mapping[int, ChainHead] | None = None) -> None:
        self._keys = {key_id(key): key for key in public_keys or ()}
        self._signatures_checked = public_keys is not None
        self._chain_heads = dict(chain_heads) if chain_heads is not None else None
        self._chains: dict[int, ChainState] = {chain: ChainState(chain) for chain in range(CHAINS)}
        self._targets: dict[int, _Target] = {}
        self._checkpoint_problems: list[Problem] = []
        self._more_checkpoint_problems = 0
        self._checkpoints = 0
        self._exported = 0
        self._latest: Checkpoint | None = None
        self._events = 0

    def add_problem(self, problem: Problem) -> None:
        """A checkpoint problem found by the caller (e.g. an unreadable exported file)."""
        if len(self._checkpoint_problems) < self.MAX_CHECKPOINT_PROBLEMS:
            self._checkpoint_problems.append(problem)
        else:
            self._more_checkpoint_problems += 1

    def add_checkpoint(self, checkpoint: Checkpoint) -> None:
        """A checkpoint row of the database."""
        self._checkpoints += 1
        if self._latest is None or (checkpoint.created_at, checkpoint.id) > (self._latest.created_at,
                                                                            self._latest.id):
            self._latest = checkpoint
        if self._signature_ok(checkpoint):
            self._aim(checkpoint)

    def add_exported(self, exported: Checkpoint, stored: Checkpoint | None) -> None:
        """An exported checkpoint file, with the database row of the same id (None if there is none)."""
        self._exported += 1
        if stored is None:
            self.add_problem(Problem(
                "checkpoint_missing",
                f"{exported.name} is missing from oson.event_checkpoint (the row was deleted)",
                checkpoint_id=exported.id))
        elif (stored.signature, stored.key_id, dict(stored.heads), stored.created_at) != (
                exported.signature, exported.key_id, dict(exported.heads), exported.created_at):
            self.add_problem(Problem(
                "checkpoint_differs",
                f"{stored.name} in the database differs from its exported copy {exported.source}",
                checkpoint_id=exported.id))
        if self._signature_ok(exported):
            self._aim(exported)

    def _signature_ok(self, checkpoint: Checkpoint) -> bool:
        if not self._signatures_checked:
            return True
        key = self._keys.get(checkpoint.key_id)
        if key is None:
            self.add_problem(Problem(
                "checkpoint_unknown_key",
                f"{checkpoint.name} is signed by key {checkpoint.key_id}, which is not among the public "
                f"keys given ({', '.join(sorted(self._keys)) or 'none'}): pass that key with --public-key",
                checkpoint_id=checkpoint.id))
            return False
        if not signature_valid(checkpoint, key):
            self.add_problem(Problem(
                "checkpoint_signature",
                f"{checkpoint.name}: the signature does not match its content (the checkpoint was "
                "changed or forged)",
                checkpoint_id=checkpoint.id))
            return False
        return True

    def _aim(self, checkpoint: Checkpoint) -> None:
        if self._events:
            raise RuntimeError("add every checkpoint before the first event")
        for chain, head in checkpoint.heads.items():
            target = self._targets.get(chain)
            if target is None or head.seq > target.seq:
                self._targets[chain] = _Target(head.seq, head.hash, checkpoint)
            elif head.seq == target.seq and head.hash != target.hash:
                self.add_problem(Problem(
                    "checkpoint_differs",
                    f"{checkpoint.name} and {target.checkpoint.name} sign different hashes for chain "
                    f"{chain} seq {head.seq}: the chain was rewritten between them",
                    chain=chain, seq=head.seq, checkpoint_id=checkpoint.id))

    def _state(self, chain: int) -> ChainState:
        state = self._chains.get(chain)
        if state is None:
            state = self._chains[chain] = ChainState(chain)
        return state

    def feed(self, event: StoredEvent) -> None:
        self._events += 1
        state = self._state(event.chain)
        state.events += 1
        if state.problem is not None:
            return
        problem = self._check(state, event)
        if problem is not None:
            state.problem = problem
            return
        state.last_seq, state.last_hash, state.last_event_id = event.chain_seq, event.hash, event.id
        target = self._targets.get(event.chain)
        if target is not None and event.chain_seq == target.seq:
            state.reached = (event.id, event.hash)
        head = (self._chain_heads or {}).get(event.chain)
        if head is not None and event.chain_seq == head.seq + 1:
            state.first_after_head = event.id

    def _check(self, state: ChainState, event: StoredEvent) -> Problem | None:
        expected = state.last_seq + 1
        if event.chain_seq > expected:
            missing = (f"seq {expected}" if event.chain_seq == expected + 1
                       else f"seqs {expected}..{event.chain_seq - 1}")
            return Problem(
                "gap",
                f"chain {event.chain}: {missing} missing (deleted); the first record after the gap is "
                f"{event.where}",
                chain=event.chain, seq=event.chain_seq, event_id=event.id,
                missing_from=expected, missing_to=event.chain_seq - 1)
        if event.chain_seq < expected:
            return Problem(
                "out_of_order",
                f"{event.where} repeats or goes back in the chain (expected seq {expected})",
                chain=event.chain, seq=event.chain_seq, event_id=event.id)
        if chain_hash(event.prev_hash, event) != event.hash:
            return Problem(
                "hash_mismatch",
                f"{event.where}: the stored fields do not give the stored hash: the record was changed, "
                "moved or reordered after it was written",
                chain=event.chain, seq=event.chain_seq, event_id=event.id)
        if event.prev_hash != state.last_hash:
            if state.last_event_id is None:
                return Problem(
                    "hash_mismatch",
                    f"{event.where}: the first record of the chain does not start from the genesis hash",
                    chain=event.chain, seq=event.chain_seq, event_id=event.id)
            return Problem(
                "rehashed",
                f"event id {state.last_event_id} (chain {event.chain} seq {state.last_seq}): its hash is not "
                f"the one the next record, {event.where}, was chained to: it was changed and rehashed",
                chain=event.chain, seq=state.last_seq, event_id=state.last_event_id)
        return None

    def finish(self) -> VerifyReport:
        problems: list[Problem] = []
        for chain in sorted(self._chains):
            state = self._chains[chain]
            if state.problem is None:
                state.problem = self._check_end(state)
            if state.problem is not None:
                problems.append(state.problem)
        problems.extend(self._checkpoint_problems)
        if self._more_checkpoint_problems:
            problems.append(Problem("checkpoint_more", f"and {self._more_checkpoint_problems} more checkpoint "
                                    "problems like the ones above"))
        return VerifyReport(
            events_checked=self._events,
            chains=[self._chains[chain] for chain in sorted(self._chains)],
            checkpoints_checked=self._checkpoints,
            checkpoint_files_checked=self._exported,
            signatures_checked=self._signatures_checked,
            latest_checkpoint=self._latest,
            problems=problems,
        )

    def _check_end(self, state: ChainState) -> Problem | None:
        """The chain is consistent in itself; does it reach what the checkpoints and the head say?"""
        target = self._targets.get(state.chain)
        if target is not None and 0 < target.seq <= state.last_seq:
            event_id, found = state.reached or (None, GENESIS_HASH)
            if found != target.hash:
                return Problem(
                    "checkpoint_mismatch",
                    f"event id {event_id} (chain {state.chain} seq {target.seq}) does not have the hash "
                    f"{target.checkpoint.name} signed: the chain was rewritten at or before this record",
                    chain=state.chain, seq=target.seq, event_id=event_id, checkpoint_id=target.checkpoint.id)
        # The chain must reach the highest seq anything names: the latest checkpoint and the head.
        head = (self._chain_heads or {}).get(state.chain)
        claims: list[str] = []
        top, checkpoint_id = state.last_seq, None
        if target is not None and target.seq > state.last_seq:
            claims.append(f"{target.checkpoint.name} names seq {target.seq}")
            top, checkpoint_id = target.seq, target.checkpoint.id
        if head is not None and head.seq > state.last_seq:
            claims.append(f"the chain head (oson.event_chain_head) names seq {head.seq}")
            top = max(top, head.seq)
        if claims:
            return self._truncated(state, top, " and ".join(claims), checkpoint_id)
        if head is not None:
            if head.seq < state.last_seq:
                return Problem(
                    "extra",
                    f"event id {state.first_after_head} (chain {state.chain} seq {head.seq + 1}) and the "
                    f"records after it were not written by the chain trigger: the chain head stops at seq "
                    f"{head.seq}, the chain goes on to {state.last_seq}",
                    chain=state.chain, seq=head.seq + 1, event_id=state.first_after_head)
            if head.hash != state.last_hash:
                return Problem(
                    "rehashed",
                    f"event id {state.last_event_id} (chain {state.chain} seq {state.last_seq}): its hash "
                    "differs from the chain head's: the last record was changed and rehashed",
                    chain=state.chain, seq=state.last_seq, event_id=state.last_event_id)
        return None

    @staticmethod
    def _truncated(state: ChainState, seq: int, claims: str, checkpoint_id: int | None) -> Problem:
        last = (f"its last record is event id {state.last_event_id} (seq {state.last_seq})"
                if state.last_event_id is not None else "it has no records")
        missing = f"seq {seq}" if seq == state.last_seq + 1 else f"seqs {state.last_seq + 1}..{seq}"
        return Problem(
            "truncated",
            f"chain {state.chain}: {missing} missing, the first missing is seq {state.last_seq + 1}: {claims} "
            f"but {last}; the latest records were deleted",
            chain=state.chain, seq=state.last_seq + 1, event_id=state.last_event_id,
            checkpoint_id=checkpoint_id, missing_from=state.last_seq + 1, missing_to=seq)


def private_key_from_pem(data: bytes) -> Ed25519PrivateKey:
    """ValueError unless ``data`` is an unencrypted PEM Ed25519 private key."""
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"the key is {type(key).__name__}, an Ed25519 key is needed")
    return key


def public_key_from_pem(data: bytes) -> Ed25519PublicKey:
    """The public key from a PEM public key, or from a PEM private key."""
    if b"PRIVATE KEY" in data:
        return private_key_from_pem(data).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"the key is {type(key).__name__}, an Ed25519 key is needed")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
