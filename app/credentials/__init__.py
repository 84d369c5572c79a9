"""Certificates: IDs, signed records, keys, PDF rendering, Open Badges 3.0 credentials."""

from app.credentials.ids import (
    InvalidCertificateId,
    format_certificate_id,
    new_certificate_id,
    parse_certificate_id,
)
from app.credentials.keys import KeyRing, SigningKey, public_jwk
from app.credentials.record import (
    CertificateRecord,
    CompetencyResult,
    Holder,
    Issuer,
    Programme,
    ReleaseRef,
    Renewal,
)
from app.credentials.render import (
    CertificateTemplateError,
    RenderedCertificate,
    TemplateFetcher,
    embedded_files,
    render_certificate,
)
from app.credentials.signing import SignatureVerdict, SignedRecord, check_signature, sign_record

__all__ = [
    "CertificateRecord",
    "CertificateTemplateError",
    "CompetencyResult",
    "Holder",
    "InvalidCertificateId",
    "Issuer",
    "KeyRing",
    "Programme",
    "ReleaseRef",
    "RenderedCertificate",
    "Renewal",
    "SignatureVerdict",
    "SignedRecord",
    "SigningKey",
    "TemplateFetcher",
    "check_signature",
    "embedded_files",
    "format_certificate_id",
    "new_certificate_id",
    "parse_certificate_id",
    "public_jwk",
    "render_certificate",
    "sign_record",
]
