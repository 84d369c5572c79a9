"""Open Badges 3.0: a certificate as an OpenBadgeCredential (W3C VC), signed as a VC-JWT (EdDSA),
and revocation published as a W3C Bitstring Status List.

The VC-JWT follows OB 3.0 §8.2: JOSE header `alg`/`kid`/`typ`, payload claims `iss`, `jti`,
`nbf`, `sub`, `exp` and the credential in `vc`. The credential carries both the VC 2.0
`validFrom`/`validUntil` and OB 3.0's `issuanceDate`/`expirationDate` (its JSON Schema needs them).
"""

from __future__ import annotations

import base64
import gzip
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Any

from joserfc import jwt
from joserfc.jwk import OKPKey

from app.credentials.keys import SigningKey
from app.credentials.record import CertificateRecord

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
STATUS_LIST_LENGTH = 131_072  # the W3C minimum, for herd privacy
LEVEL_NAMES = {
    "not-yet": "Not yet",
    "developing": "Developing",
    "competent": "Competent",
    "proficient": "Proficient",
}


def _timestamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _numeric(day: date) -> int:
    return int(datetime.combine(day, time(), UTC).timestamp())


def issuer_profile(record: CertificateRecord, base_url: str) -> dict[str, Any]:
    return {
        "id": f"{base_url}/issuer",
        "type": ["Profile"],
        "name": record.issuer.name,
        "url": record.issuer.url,
    }


def subject_id(record: CertificateRecord, base_url: str) -> str:
    """An opaque, stable URI for the holder of this certificate (no e-mail, no account id)."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{base_url}/verify/{record.id}')}"


def open_badge_credential(
    record: CertificateRecord,
    *,
    base_url: str,
    status_list: int,
    status_index: int,
) -> dict[str, Any]:
    """The OpenBadgeCredential for one certificate version (unsigned)."""
    achievement_id = f"{base_url}/programmes/{record.programme.id}/achievement"
    credential: dict[str, Any] = {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"{base_url}/verify/{record.id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": record.programme.certificate_title,
        "description": record.programme.statement,
        "issuer": issuer_profile(record, base_url),
        "validFrom": _timestamp(record.issued_on),
        "issuanceDate": _timestamp(record.issued_on),
        "credentialSubject": {
            "id": subject_id(record, base_url),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "ext:printedName",
                    "hashed": False,
                    "identityHash": record.holder.name,
                }
            ],
            "creditsEarned": record.learning_hours,
            "achievement": {
                "id": achievement_id,
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": record.programme.certificate_title,
                "description": record.programme.statement or record.programme.title,
                "criteria": {
                    "narrative": (
                        f"Completed {record.programme.title} (release {record.release.version}) "
                        "and reached the competency levels its certification rules require."
                    )
                },
                "version": record.release.version,
                "humanCode": record.id,
                "resultDescription": [
                    {
                        "id": f"{achievement_id}#{competency.id}",
                        "type": ["ResultDescription"],
                        "name": competency.name,
                        "resultType": "RubricCriterionLevel",
                        "rubricCriterionLevel": [
                            {
                                "id": f"{achievement_id}#{competency.id}-{level}",
                                "type": ["RubricCriterionLevel"],
                                "name": label,
                            }
                            for level, label in LEVEL_NAMES.items()
                        ],
                    }
                    for competency in record.competencies
                ],
            },
            "result": [
                {
                    "type": ["Result"],
                    "resultDescription": f"{achievement_id}#{competency.id}",
                    "achievedLevel": f"{achievement_id}#{competency.id}-{competency.level}",
                }
                for competency in record.competencies
            ],
        },
        "credentialStatus": {
            "id": f"{base_url}/status-lists/{status_list}#{status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(status_index),
            "statusListCredential": f"{base_url}/status-lists/{status_list}",
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if record.expires_on is not None:
        credential["validUntil"] = _timestamp(record.expires_on)
        credential["expirationDate"] = _timestamp(record.expires_on)
    return credential


def _okp_key(key: SigningKey) -> OKPKey:
    return OKPKey.import_key(key.private)


def sign_vc_jwt(credential: dict[str, Any], key: SigningKey, record: CertificateRecord) -> str:
    """The credential as a compact JWS (OB 3.0 VC-JWT), signed with EdDSA."""
    claims: dict[str, Any] = {
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "sub": credential["credentialSubject"]["id"],
        "nbf": _numeric(record.issued_on),
        "vc": credential,
    }
    if record.expires_on is not None:
        claims["exp"] = _numeric(record.expires_on)
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, _okp_key(key), algorithms=["EdDSA"])


def encode_status_list(revoked: Iterable[int], length: int = STATUS_LIST_LENGTH) -> str:
    """Bitstring (index 0 = most significant bit of the first byte), GZIP, base64url, 'u' prefix."""
    bits = bytearray(length // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_status_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("a status list is multibase base64url and starts with 'u'")
    payload = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def status_bit(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    number: int, revoked: Iterable[int], *, base_url: str, issuer_name: str, now: datetime
) -> dict[str, Any]:
    """The BitstringStatusListCredential for revocation list `number` (unsigned)."""
    url = f"{base_url}/status-lists/{number}"
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": {"id": f"{base_url}/issuer", "name": issuer_name},
        "validFrom": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_status_list(revoked),
            "ttl": 60_000,
        },
    }


def sign_status_list(credential: dict[str, Any], key: SigningKey, now: datetime) -> str:
    """The status list as a VC-JWT (VC-JOSE-COSE: the credential is the payload)."""
    claims = {
        **credential,
        "iss": credential["issuer"]["id"],
        "jti": credential["id"],
        "iat": int(now.timestamp()),
    }
    header = {"alg": "EdDSA", "kid": key.kid, "typ": "vc+jwt", "cty": "vc"}
    return jwt.encode(header, claims, _okp_key(key), algorithms=["EdDSA"])
