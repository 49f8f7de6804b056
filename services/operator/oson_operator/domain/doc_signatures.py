"""Detached signatures of electronic documents (§VII, §17.7): counterparty keys, signing, verification.

A counterparty's key is either a PEM Ed25519 public key or a PEM X.509 certificate (Ed25519, RSA or
ECDSA key). A signature is the raw signature over the file's bytes: 64 bytes for Ed25519,
PKCS#1 v1.5 with SHA-256 for RSA, DER ECDSA with SHA-256 for EC keys. No CMS envelope.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PublicKey = Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class KeyMaterial:
    """A counterparty key as registered: what it is, its fingerprint and its validity (certificates)."""

    kind: str  # ed25519 | x509
    algorithm: str  # ed25519 | rsa | ecdsa
    fingerprint: str  # sha256 hex of the DER SubjectPublicKeyInfo
    subject: str | None
    valid_from: datetime | None
    valid_to: datetime | None
    public_key: PublicKey


def fingerprint(key: PublicKey | Ed25519PrivateKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _algorithm(key: object) -> str:
    if isinstance(key, Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    raise ValueError(f"unsupported key type {type(key).__name__}: use Ed25519, RSA or ECDSA")


def parse_key_material(pem: str) -> KeyMaterial:
    """ValueError (with what to do) unless ``pem`` is a usable public key or certificate."""
    data = pem.strip().encode("ascii", errors="replace")
    if b"PRIVATE KEY" in data:
        raise ValueError("this is a private key: register only the counterparty's public key or certificate")
    if b"BEGIN CERTIFICATE" in data:
        try:
            cert = x509.load_pem_x509_certificate(data)
        except ValueError as exc:
            raise ValueError(f"not a PEM X.509 certificate ({exc})") from None
        key = cert.public_key()
        algorithm = _algorithm(key)
        return KeyMaterial("x509", algorithm, fingerprint(key), cert.subject.rfc4514_string(),  # type: ignore[arg-type]
                           cert.not_valid_before_utc, cert.not_valid_after_utc, key)  # type: ignore[arg-type]
    try:
        loaded = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a PEM public key or certificate ({exc})") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise ValueError("a bare public key must be Ed25519; send RSA or ECDSA keys as an X.509 certificate")
    return KeyMaterial("ed25519", "ed25519", fingerprint(loaded), None, None, None, loaded)


def signature_valid(key: PublicKey, content: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, content)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
        else:
            key.verify(signature, content, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def key_valid_at(valid_from: datetime | None, valid_to: datetime | None, revoked_at: datetime | None,
                 now: datetime) -> bool:
    if revoked_at is not None and revoked_at <= now:
        return False
    if valid_from is not None and now < valid_from:
        return False
    return valid_to is None or now < valid_to


def sign(private_key: Ed25519PrivateKey, content: bytes) -> bytes:
    return private_key.sign(content)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
