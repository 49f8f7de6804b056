"""Electronic document exchange (§14.1(10), §VII) against the real database: keys, signing, verification,
refusals kept in the archive, downloads, the five-year retention."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cases_support import Office, b64, events_of, new_key, open_office, public_pem, runtime_sql, write_key
from conftest import PostgresServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_public_key
from cryptography.x509.oid import NameOID
from sqlalchemy.exc import DBAPIError

from oson_operator.domain.access import Role
from oson_operator.domain.doc_signatures import fingerprint

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REGISTER = b"date;wallet;amount\n2026-03-01;W-1;1500.00\n"


def counterparty() -> str:
    return f"bank-{uuid.uuid4().hex[:8]}"


def incoming(office: Office, party: str, content: bytes, signature: bytes | None,
             idempotency_key: str | None = None, **extra: object) -> Any:
    body: dict[str, object] = {"counterparty": party, "doc_type": "statement", "file_name": "statement.csv",
                               "media_type": "text/csv", "content_base64": b64(content), **extra}
    if signature is not None:
        body["signature_base64"] = b64(signature)
    return office.post("/api/documents/incoming", body, idempotency_key=idempotency_key)


def self_signed_ec(not_before: datetime, not_after: datetime) -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Partner Bank documents")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(Encoding.PEM).decode()


@pytest.fixture()
def settings(running_pg: PostgresServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    key_file, _ = write_key(tmp_path)
    return running_pg.settings(document_signing_key_file=key_file)


def test_incoming_documents_are_verified_and_refusals_are_archived(settings) -> None:  # type: ignore[no-untyped-def]
    party = counterparty()
    partner_key = new_key()
    with open_office(settings, START) as office:
        office.post("/api/documents/keys", {"counterparty": party, "pem": public_pem(partner_key)},
                    role=Role.OPERATOR, expect=403)  # operators do not manage keys
        key = office.post("/api/documents/keys", {"counterparty": party, "pem": public_pem(partner_key)},
                          role=Role.ADMIN, expect=201).json()["key"]
        assert key["kind"] == "ed25519" and key["valid_now"] is True

        accepted = incoming(office, party, REGISTER, partner_key.sign(REGISTER))
        assert accepted.status_code == 201, accepted.text
        document = accepted.json()["document"]
        assert (document["status"], document["counterparty_key_id"]) == ("accepted", key["id"])

        tampered = REGISTER.replace(b"1500.00", b"9500.00")
        refusals = {
            "DOCUMENT_SIGNATURE_INVALID": incoming(office, party, tampered, partner_key.sign(REGISTER)),
            "DOCUMENT_UNSIGNED": incoming(office, party, REGISTER, None),
            "DOCUMENT_SIGNER_UNKNOWN": incoming(office, counterparty(), REGISTER, partner_key.sign(REGISTER)),
        }
        stranger = new_key()  # signed by a key nobody registered, named by its fingerprint
        refusals["DOCUMENT_SIGNER_UNKNOWN "] = incoming(office, party, REGISTER, stranger.sign(REGISTER),
                                                        key_fingerprint=fingerprint(stranger.public_key()))
        for code, response in refusals.items():
            assert response.status_code == 422, response.text
            body = response.json()
            assert body["error"]["code"] == code.strip()
            refused = body["document"]
            assert refused["status"] == "refused" and refused["refusal_code"] == code.strip()
            # The refusal is in the archive and the event log, with the file kept as evidence.
            stored = office.get(f"/api/documents/{refused['id']}").json()["document"]
            assert stored["refusal_code"] == code.strip()
            assert events_of(settings, refused["id"]) == [(
                "document.receive", f"refused:{code.strip()}")]
        kept = office.get(f"/api/documents/{refusals['DOCUMENT_SIGNATURE_INVALID'].json()['document']['id']}/content")
        assert kept.content == tampered

        listed = office.get("/api/documents", direction="incoming", status="refused", counterparty=party).json()
        assert len(listed["documents"]) == 3

        # A revoked key no longer admits documents, even correctly signed ones.
        office.post(f"/api/documents/keys/{key['id']}/revoke", {"reason": "compromised"}, role=Role.ADMIN,
                    expect=200)
        late = incoming(office, party, REGISTER, partner_key.sign(REGISTER))
        assert late.status_code == 422 and late.json()["error"]["code"] == "DOCUMENT_SIGNER_KEY_NOT_VALID"


def test_a_repeated_refused_receipt_is_answered_once(settings) -> None:  # type: ignore[no-untyped-def]
    party = counterparty()
    with open_office(settings, START) as office:
        key = str(uuid.uuid4())
        first = incoming(office, party, REGISTER, None, idempotency_key=key)
        again = incoming(office, party, REGISTER, None, idempotency_key=key)
        assert first.status_code == again.status_code == 422
        assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
        listed = office.get("/api/documents", counterparty=party).json()["documents"]
        assert [d["id"] for d in listed] == [first.json()["document"]["id"]]


def test_certificates_carry_their_validity(settings) -> None:  # type: ignore[no-untyped-def]
    party = counterparty()
    key, cert = self_signed_ec(START + timedelta(days=1), START + timedelta(days=30))
    signature = key.sign(REGISTER, ec.ECDSA(hashes.SHA256()))
    with open_office(settings, START) as office:
        registered = office.post("/api/documents/keys", {"counterparty": party, "pem": cert}, role=Role.ADMIN,
                                 expect=201).json()["key"]
        assert (registered["kind"], registered["algorithm"]) == ("x509", "ecdsa")
        assert registered["subject"] == "CN=Partner Bank documents" and registered["valid_now"] is False
        early = incoming(office, party, REGISTER, signature)
        assert early.json()["error"]["code"] == "DOCUMENT_SIGNER_KEY_NOT_VALID"
        office.clock.advance(timedelta(days=2))
        office.relogin()
        assert incoming(office, party, REGISTER, signature).status_code == 201
        refused = office.post("/api/documents/keys", {"counterparty": party, "pem": "not a key"}, role=Role.ADMIN)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "DOCUMENT_KEY_INVALID"


def test_outgoing_documents_are_signed_and_downloadable(settings) -> None:  # type: ignore[no-untyped-def]
    party = counterparty()
    with open_office(settings, START) as office:
        sent = office.post("/api/documents/outgoing", {
            "counterparty": party, "doc_type": "register", "file_name": "register-2026-03-01.csv",
            "media_type": "text/csv", "content_base64": b64(REGISTER)}, expect=201).json()["document"]
        assert sent["status"] == "sent" and sent["signed"] is True
        assert sent["retain_until"] == "2031-03-02T09:00:00+00:00"
        content = office.get(f"/api/documents/{sent['id']}/content")
        signature = office.get(f"/api/documents/{sent['id']}/signature").content
        assert content.content == REGISTER
        assert 'filename="register-2026-03-01.csv"' in content.headers["content-disposition"]
        published = office.get("/api/documents/signing-key").json()["signing_key"]
        public = load_pem_public_key(published["public_key_pem"].encode())
        assert isinstance(public, Ed25519PublicKey)
        public.verify(signature, REGISTER)  # raises if the signature were wrong
        assert published["fingerprint"] == sent["key_fingerprint"]
        # Who took which copy, and who sent it, is in the trail.
        actions = [action for action, _ in events_of(settings, sent["id"])]
        assert actions == ["document.send", "document.download_content", "document.download_signature"]
        # Auditors read, never send.
        office.post("/api/documents/outgoing", {"counterparty": party, "doc_type": "notice", "file_name": "n.txt",
                                                "content_base64": b64(b"x")}, role=Role.AUDITOR, expect=403)


def test_sending_without_a_signing_key_says_what_to_set(running_pg: PostgresServer) -> None:
    with open_office(running_pg.settings(), START) as office:
        response = office.post("/api/documents/outgoing", {
            "counterparty": counterparty(), "doc_type": "notice", "file_name": "n.txt",
            "content_base64": b64(b"notice")})
        assert response.status_code == 503
        assert "OSON_DOCUMENT_SIGNING_KEY_FILE" in response.json()["error"]["message"]


def test_documents_are_kept_five_years(settings) -> None:  # type: ignore[no-untyped-def]
    with open_office(settings, START) as office:
        sent = office.post("/api/documents/outgoing", {
            "counterparty": counterparty(), "doc_type": "notice", "file_name": "n.txt",
            "content_base64": b64(b"notice")}, expect=201).json()["document"]
        refused = office.post(f"/api/documents/{sent['id']}/deletion", {"reason": "cleanup"}, role=Role.ADMIN)
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "DOCUMENT_RETAINED"
        assert ("http POST /api/documents/{document_id}/deletion", "refused:DOCUMENT_RETAINED") in [
            (a, r) for a, r in _events_by_path(settings)]
        # The database refuses it as well, whatever the code does.
        with pytest.raises(DBAPIError, match="kept until"):
            runtime_sql(settings, "UPDATE oson.document SET content = NULL, signature = NULL, deleted_at = now() "
                        "WHERE id = CAST(:id AS uuid)", id=sent["id"])
        with pytest.raises(DBAPIError):
            runtime_sql(settings, "DELETE FROM oson.document WHERE id = CAST(:id AS uuid)", id=sent["id"])

        office.clock.advance(timedelta(days=5 * 366))
        office.relogin()
        deleted = office.post(f"/api/documents/{sent['id']}/deletion", {"reason": "retention over"},
                              role=Role.ADMIN, expect=200).json()["document"]
        assert deleted["deleted_reason"] == "retention over" and deleted["content_sha256"] == sent["content_sha256"]
        gone = office.get(f"/api/documents/{sent['id']}/content", expect=404)
        assert gone.json()["error"]["code"] == "DOCUMENT_DELETED"


def _events_by_path(settings) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from access_support import engine_for
    from sqlalchemy import text

    with engine_for(settings).connect() as conn:
        rows = conn.execute(text("SELECT action, result FROM oson.event WHERE action LIKE '%deletion' "
                                 "ORDER BY id DESC LIMIT 20")).all()
    return [(row[0], row[1]) for row in rows]
