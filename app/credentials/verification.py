"""Verification: by ID, by uploaded PDF (its SHA-256 against what was issued), and in bulk.

A verdict shows what the certificate states and its status, and nothing else: no e-mail, no
account. An unknown ID and a malformed one get the same shape and the same work (one lookup),
so only the check-character message tells them apart.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.credentials.ids import InvalidCertificateId, new_certificate_id, parse_certificate_id
from app.credentials.keys import KeyRing
from app.credentials.record import CertificateRecord
from app.credentials.signing import SignatureVerdict, check_signature
from app.store.base import utcnow
from app.store.certificates import Certificate
from app.store.prepared import Connectable, Prepared, raw_connection_of

MAX_BULK = 1000


class Outcome(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    UNKNOWN = "unknown"
    INVALID_SIGNATURE = "invalid-signature"


EXPLANATIONS = {
    Outcome.VALID: "This certificate is genuine and in force.",
    Outcome.REVOKED: "This certificate was revoked by the issuer and is no longer valid.",
    Outcome.EXPIRED: "This certificate was genuine but its validity period has ended.",
    Outcome.SUPERSEDED: "This certificate was replaced by a newer version; check that one.",
    Outcome.UNKNOWN: "No certificate with this ID was issued by this issuer.",
    Outcome.INVALID_SIGNATURE: (
        "The stored record does not carry a valid issuer signature; do not rely on it."
    ),
}


@dataclass(frozen=True)
class Verdict:
    """What a verifier learns about one certificate ID."""

    id: str
    outcome: Outcome
    explanation: str
    record: CertificateRecord | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    superseded_by: str | None = None

    @property
    def is_valid(self) -> bool:
        return self.outcome is Outcome.VALID


def _unknown(typed: str, message: str | None = None) -> Verdict:
    return Verdict(typed, Outcome.UNKNOWN, message or EXPLANATIONS[Outcome.UNKNOWN])


_checked: dict[tuple[str, str, str], CertificateRecord] = {}


def _signed_record(
    certificate: StoredVersion, keys: KeyRing
) -> CertificateRecord | SignatureVerdict:
    """The record if its signature checks out (remembered: a signed record never changes)."""
    cache_key = (certificate.record_json, certificate.signature, certificate.kid)
    record = _checked.get(cache_key)
    if record is not None:
        return record
    canonical = certificate.record_json.encode()
    signature = check_signature(canonical, certificate.signature, certificate.kid, keys)
    if signature is not SignatureVerdict.VALID:
        return signature
    record = CertificateRecord.from_canonical_json(canonical)
    if len(_checked) >= 4096:
        _checked.pop(next(iter(_checked)))
    _checked[cache_key] = record
    return record


def verdict_for(certificate: StoredVersion, keys: KeyRing, today: date) -> Verdict:
    """The verdict for a stored certificate version: signature first, then status, then dates."""
    record = _signed_record(certificate, keys)
    if isinstance(record, SignatureVerdict):
        return Verdict(
            certificate.public_id,
            Outcome.INVALID_SIGNATURE,
            f"{EXPLANATIONS[Outcome.INVALID_SIGNATURE]} ({record.explanation})",
        )
    if record.id != certificate.public_id:
        return Verdict(
            certificate.public_id,
            Outcome.INVALID_SIGNATURE,
            EXPLANATIONS[Outcome.INVALID_SIGNATURE],
        )
    if certificate.status == "revoked":
        outcome = Outcome.REVOKED
    elif certificate.status == "superseded":
        outcome = Outcome.SUPERSEDED
    elif record.expires_on is not None and record.expires_on < today:
        outcome = Outcome.EXPIRED
    else:
        outcome = Outcome.VALID
    return Verdict(
        certificate.public_id,
        outcome,
        EXPLANATIONS[outcome],
        record=record,
        revoked_at=certificate.revoked_at,
        revocation_reason=certificate.revocation_reason,
        superseded_by=certificate.superseded_by,
    )


@dataclass(frozen=True)
class StoredVersion:
    """The columns of a stored certificate version that verification reads."""

    public_id: str
    record_json: str
    signature: str
    kid: str
    status: str
    revoked_at: datetime | None
    revocation_reason: str | None
    superseded_by: str | None

    @classmethod
    def of(cls, certificate: Certificate) -> StoredVersion:
        return cls(*(getattr(certificate, column.key) for column in _COLUMNS))


_COLUMNS = (
    Certificate.public_id,
    Certificate.record_json,
    Certificate.signature,
    Certificate.kid,
    Certificate.status,
    Certificate.revoked_at,
    Certificate.revocation_reason,
    Certificate.superseded_by,
)
# One ID (a QR code scanned, an ID typed): the hot path, prepared (app/store/prepared.py).
_ONE = Prepared(select(*_COLUMNS).where(Certificate.public_id == bindparam("public_id")))


def _lookup(session: Connectable, public_ids: Sequence[str]) -> dict[str, StoredVersion]:
    """Plain rows, not ORM objects (and never the PDF bytes)."""
    if len(public_ids) == 1 or not isinstance(session, Session):
        connection = raw_connection_of(session)
        found = (_ONE.first(connection, public_id=public_id) for public_id in public_ids)
        rows: Iterable[Sequence[Any]] = (row for row in found if row is not None)
    else:
        rows = session.execute(select(*_COLUMNS).where(Certificate.public_id.in_(public_ids)))
    return {row[0]: StoredVersion(*row) for row in rows}


def verify_certificate(
    session: Connectable, typed: str, keys: KeyRing, *, today: date | None = None
) -> Verdict:
    """Verify one typed or scanned ID."""
    return verify_many(session, [typed], keys, today=today)[0]


def verify_many(
    session: Connectable, typed_ids: Sequence[str], keys: KeyRing, *, today: date | None = None
) -> list[Verdict]:
    """Verify up to 1,000 IDs in one query, each answer in the order asked."""
    if len(typed_ids) > MAX_BULK:
        raise ValueError(f"verify at most {MAX_BULK} IDs per request, not {len(typed_ids)}")
    day = today or utcnow().date()
    parsed: list[str | InvalidCertificateId] = []
    for typed in typed_ids:
        try:
            parsed.append(parse_certificate_id(typed))
        except InvalidCertificateId as error:
            parsed.append(error)
    # Malformed IDs are looked up too (as fresh random IDs), so they take as long as unknown ones.
    wanted = [p if isinstance(p, str) else new_certificate_id() for p in parsed]
    found = _lookup(session, wanted)
    verdicts = []
    for typed, item, public_id in zip(typed_ids, parsed, wanted, strict=True):
        if isinstance(item, InvalidCertificateId):
            verdicts.append(_unknown(typed.strip()[:64], str(item)))
        elif public_id in found:
            verdicts.append(verdict_for(found[public_id], keys, day))
        else:
            verdicts.append(_unknown(public_id))
    return verdicts


@dataclass(frozen=True)
class PdfVerdict:
    """Whether an uploaded PDF is, byte for byte, a certificate this issuer issued."""

    matches: bool
    sha256: str
    verdict: Verdict | None
    explanation: str


def verify_pdf(
    session: Session, pdf: bytes, keys: KeyRing, *, today: date | None = None
) -> PdfVerdict:
    """Compare the PDF's SHA-256 with the hashes recorded at issue (never a re-render)."""
    digest = hashlib.sha256(pdf).hexdigest()
    certificate = session.scalars(
        select(Certificate).where(Certificate.pdf_sha256 == digest).limit(1)
    ).one_or_none()
    if certificate is None:
        return PdfVerdict(
            False,
            digest,
            None,
            "This file is not a certificate PDF as issued by this issuer: it was altered, "
            "re-saved or printed to PDF again, or never issued here. Check the certificate ID "
            "printed on it instead.",
        )
    verdict = verdict_for(StoredVersion.of(certificate), keys, today or utcnow().date())
    return PdfVerdict(
        True,
        digest,
        verdict,
        f"This file is exactly the PDF issued as {certificate.public_id}. {verdict.explanation}",
    )
