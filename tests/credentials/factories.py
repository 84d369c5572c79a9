"""Small factories for certificate tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.credentials import (
    CertificateRecord,
    CompetencyResult,
    Holder,
    Issuer,
    Programme,
    ReleaseRef,
    new_certificate_id,
)

ROOT = Path(__file__).resolve().parents[2]
PROGRAMME_TEMPLATE = ROOT / "certificates" / "peer-support-foundations"
SHARED_STANDARDS = ROOT.parent / "shared" / "standards"


def make_record(name: str = "Amara Okafor", **changes: object) -> CertificateRecord:
    record = CertificateRecord(
        id=new_certificate_id(),
        holder=Holder(name=name),
        programme=Programme(
            id="peer-support-foundations",
            title="Peer Support Foundations",
            certificate_title="Certificate in Peer Support Foundations",
            statement="A training certificate, not a licence to practise.",
        ),
        release=ReleaseRef(version="1.0.0", content_hash="ab" * 32),
        competencies=(
            CompetencyResult(id="active-listening", name="Active listening", level="proficient"),
            CompetencyResult(id="ethical-boundaries", name="Ethical boundaries", level="competent"),
        ),
        learning_hours=42.5,
        issued_on=date(2026, 11, 23),
        expires_on=date(2028, 11, 23),
        issuer=Issuer(name="PeerPath Training Collective", url="https://peerpath.example"),
    )
    return record.model_copy(update=changes)
