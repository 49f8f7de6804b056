"""Electronic document exchange (§14.1(10), §VII): counterparty keys, signed sending, verified receipt.

Outgoing documents are signed with the appliance's Ed25519 key (``OSON_DOCUMENT_SIGNING_KEY_FILE``,
outside the database). Incoming ones are verified against the counterparty's registered keys; a
document that is unsigned, signed by an unknown key, signed with a revoked or expired key, or whose
signature does not match its bytes is refused, and the refusal is archived with the file as evidence.
Every document is kept at least five years (§7.5); until then it cannot be deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine

from oson_operator.domain import doc_signatures as sigs
from oson_operator.domain.case_deadlines import retain_until
from oson_operator.domain.clock import Clock
from oson_operator.domain.errors import Conflict, DomainError, NotFound, Refusal, error_body
from oson_operator.domain.event_chain import private_key_from_pem, public_key_pem
from oson_operator.service.transaction import Command, Outcome, execute
from oson_operator.storage import documents as store
from oson_operator.storage.documents import DocumentRow, KeyRow


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def key_view(row: KeyRow, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id, "counterparty": row.counterparty, "participant_id": row.participant_id, "kind": row.kind,
        "algorithm": row.algorithm, "fingerprint": row.fingerprint, "subject": row.subject,
        "valid_from": _iso(row.valid_from), "valid_to": _iso(row.valid_to), "added_at": _iso(row.added_at),
        "added_by": row.added_by, "revoked_at": _iso(row.revoked_at), "revoked_by": row.revoked_by,
        "revoked_reason": row.revoked_reason,
        "valid_now": sigs.key_valid_at(row.valid_from, row.valid_to, row.revoked_at, now),
        "material": row.material,
    }


def document_view(row: DocumentRow) -> dict[str, Any]:
    return {
        "id": row.id, "number": row.number, "direction": row.direction, "status": row.status,
        "refusal_code": row.refusal_code, "counterparty": row.counterparty, "doc_type": row.doc_type,
        "file_name": row.file_name, "media_type": row.media_type, "size": row.size,
        "content_sha256": row.content_sha256, "signed": row.has_signature, "key_fingerprint": row.key_fingerprint,
        "counterparty_key_id": row.counterparty_key_id, "note": row.note, "recorded_at": _iso(row.recorded_at),
        "recorded_by": row.recorded_by, "request_id": row.request_id, "retain_until": _iso(row.retain_until),
        "deleted_at": _iso(row.deleted_at), "deleted_by": row.deleted_by, "deleted_reason": row.deleted_reason,
    }


@dataclass(frozen=True)
class DocumentFile:
    counterparty: str
    doc_type: str
    file_name: str
    media_type: str
    content: bytes
    note: str | None = None


def load_signing_key(path: Path | None) -> Ed25519PrivateKey:
    """The appliance's document signing key; a 503 that says how to configure it otherwise."""
    if path is None:
        raise DomainError("DOCUMENT_SIGNING_KEY_MISSING", status=503)
    try:
        return private_key_from_pem(path.read_bytes())
    except (OSError, ValueError):
        raise DomainError("DOCUMENT_SIGNING_KEY_UNUSABLE", status=503) from None


class Documents:
    def __init__(self, engine: Engine, clock: Clock, signing_key_file: Path | None) -> None:
        self.engine = engine
        self.clock = clock
        self.signing_key_file = signing_key_file

    # -- counterparty keys ----------------------------------------------------------------------------
    def add_key(self, command: Command, counterparty: str, participant_id: str | None, pem: str,
                valid_from: datetime | None, valid_to: datetime | None) -> Outcome:
        try:
            material = sigs.parse_key_material(pem)
        except ValueError as exc:
            raise DomainError("DOCUMENT_KEY_INVALID", status=422, params={"reason": str(exc)}) from None
        if material.kind == "x509":  # the certificate says how long it is valid
            valid_from, valid_to = material.valid_from, material.valid_to
        if valid_from is not None and valid_to is not None and valid_from >= valid_to:
            raise DomainError("DOCUMENT_KEY_PERIOD_INVALID", status=422)

        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            row = store.insert_key(
                conn, counterparty=counterparty, participant_id=participant_id, kind=material.kind,
                algorithm=material.algorithm, material=pem.strip() + "\n", fingerprint=material.fingerprint,
                subject=material.subject, valid_from=valid_from, valid_to=valid_to, added_at=now,
                added_by=command.principal.actor)
            return Outcome(201, {"key": key_view(row, now)}, "counterparty_key", row.id)
        return execute(self.engine, command, work)

    def revoke_key(self, command: Command, key_id: str, reason: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            row = store.get_key(conn, key_id, lock=True)
            if row is None:
                raise NotFound("DOCUMENT_KEY_NOT_FOUND", params={"key_id": key_id})
            if row.revoked_at is not None:
                raise Conflict("DOCUMENT_KEY_ALREADY_REVOKED")
            store.revoke_key(conn, key_id, now, command.principal.actor, reason)
            updated = store.get_key(conn, key_id)
            assert updated is not None
            return Outcome(200, {"key": key_view(updated, now)}, "counterparty_key", key_id)
        return execute(self.engine, command, work)

    # -- sending --------------------------------------------------------------------------------------
    def send(self, command: Command, document: DocumentFile) -> Outcome:
        private_key = load_signing_key(self.signing_key_file)
        signature = sigs.sign(private_key, document.content)

        def work(conn: Connection) -> Outcome:
            row = self._archive(conn, command, document, direction="outgoing", status="sent", refusal=None,
                                signature=signature, fingerprint=sigs.fingerprint(private_key), key_id=None)
            return Outcome(201, {"document": document_view(row)}, "document", row.id)
        return execute(self.engine, command, work)

    def signing_key(self) -> dict[str, Any]:
        private_key = load_signing_key(self.signing_key_file)
        return {"algorithm": "ed25519", "fingerprint": sigs.fingerprint(private_key),
                "public_key_pem": public_key_pem(private_key.public_key())}

    # -- receiving ------------------------------------------------------------------------------------
    def receive(self, command: Command, document: DocumentFile, signature: bytes | None,
                key_fingerprint: str | None) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            key = self._verifying_key(conn, document, signature, key_fingerprint, now)
            row = self._archive(conn, command, document, direction="incoming", status="accepted", refusal=None,
                                signature=signature, fingerprint=key.fingerprint, key_id=key.id)
            return Outcome(201, {"document": document_view(row)}, "document", row.id)

        def refused(conn: Connection, refusal: Refusal) -> Outcome:
            # The refused file and signature are archived too: evidence for the investigation (§17.7).
            row = self._archive(conn, command, document, direction="incoming", status="refused",
                                refusal=refusal.code, signature=signature, fingerprint=key_fingerprint,
                                key_id=None)
            body = {**error_body(refusal.code, command.context.language, command.context.request_id,
                                 refusal.params), "document": document_view(row)}
            return Outcome(refusal.status, body, "document", row.id, f"refused:{refusal.code}")
        return execute(self.engine, command, work, refused)

    def _verifying_key(self, conn: Connection, document: DocumentFile, signature: bytes | None,
                       key_fingerprint: str | None, now: datetime) -> KeyRow:
        if not signature:
            raise Refusal("DOCUMENT_UNSIGNED")
        keys = store.keys_of(conn, document.counterparty)
        if key_fingerprint:
            keys = [k for k in keys if k.fingerprint == key_fingerprint.lower()]
        if not keys:
            raise Refusal("DOCUMENT_SIGNER_UNKNOWN", params={"counterparty": document.counterparty})
        usable = [k for k in keys if sigs.key_valid_at(k.valid_from, k.valid_to, k.revoked_at, now)]
        for key in usable:
            if sigs.signature_valid(sigs.parse_key_material(key.material).public_key, document.content, signature):
                return key
        if any(sigs.signature_valid(sigs.parse_key_material(k.material).public_key, document.content, signature)
               for k in keys if k not in usable):
            raise Refusal("DOCUMENT_SIGNER_KEY_NOT_VALID")
        raise Refusal("DOCUMENT_SIGNATURE_INVALID")

    def _archive(self, conn: Connection, command: Command, document: DocumentFile, *, direction: str, status: str,
                 refusal: str | None, signature: bytes | None, fingerprint: str | None,
                 key_id: str | None) -> DocumentRow:
        now = self.clock.now()
        return store.insert_document(
            conn, direction=direction, status=status, refusal_code=refusal, counterparty=document.counterparty,
            doc_type=document.doc_type, file_name=document.file_name, media_type=document.media_type,
            size=len(document.content), content=document.content,
            content_sha256=hashlib.sha256(document.content).hexdigest(), signature=signature,
            key_fingerprint=fingerprint, counterparty_key_id=key_id, note=document.note, recorded_at=now,
            recorded_by=command.principal.actor, request_id=command.context.request_id,
            retain_until=retain_until(now))

    # -- deletion after the retention period ----------------------------------------------------------
    def delete(self, command: Command, document_id: str, reason: str) -> Outcome:
        def work(conn: Connection) -> Outcome:
            now = self.clock.now()
            row = store.get_document(conn, document_id, lock=True)
            if row is None:
                raise NotFound("DOCUMENT_NOT_FOUND", params={"document_id": document_id})
            if row.deleted_at is not None:
                raise Conflict("DOCUMENT_ALREADY_DELETED")
            if now < row.retain_until:
                raise Conflict("DOCUMENT_RETAINED", params={"retain_until": row.retain_until.date().isoformat()})
            store.purge_document(conn, document_id, now, command.principal.actor, reason)
            updated = store.get_document(conn, document_id)
            assert updated is not None
            return Outcome(200, {"document": document_view(updated)}, "document", document_id)
        return execute(self.engine, command, work)
