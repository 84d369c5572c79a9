"""Signing certificate records with the issuer's key, and checking a signature with a verdict."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

from app.credentials.keys import KeyRing, b64url, b64url_decode
from app.credentials.record import CertificateRecord


class SignatureVerdict(enum.StrEnum):
    VALID = "valid"
    UNKNOWN_KEY = "unknown-key"
    BAD_SIGNATURE = "bad-signature"

    @property
    def explanation(self) -> str:
        return {
            "valid": "The issuer's signature matches the certificate record.",
            "unknown-key": "The record is signed with a key this issuer never published.",
            "bad-signature": "The signature does not match: the record was altered or forged.",
        }[self.value]


@dataclass(frozen=True)
class SignedRecord:
    record: CertificateRecord
    canonical: bytes
    signature: str
    kid: str


def sign_record(record: CertificateRecord, keys: KeyRing) -> SignedRecord:
    """Sign the record's canonical JSON with the current key (Ed25519, signature base64url)."""
    key = keys.signing_key()
    canonical = record.canonical_json()
    return SignedRecord(record, canonical, b64url(key.sign(canonical)), key.kid)


def check_signature(canonical: bytes, signature: str, kid: str, keys: KeyRing) -> SignatureVerdict:
    """Whether `signature` over these exact bytes was made by the issuer's key `kid`."""
    public = keys.public_key(kid)
    if public is None:
        return SignatureVerdict.UNKNOWN_KEY
    try:
        public.verify(b64url_decode(signature), canonical)
    except (InvalidSignature, ValueError):
        return SignatureVerdict.BAD_SIGNATURE
    return SignatureVerdict.VALID
