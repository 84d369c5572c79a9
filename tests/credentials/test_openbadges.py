"""Open Badges 3.0: the credential validates against 1EdTech's schema and verifies with PyJWT."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jwt as pyjwt
import pytest
from jsonschema import Draft201909Validator

from app.credentials import KeyRing
from app.credentials.openbadges import (
    STATUS_LIST_LENGTH,
    decode_status_list,
    open_badge_credential,
    sign_status_list,
    sign_vc_jwt,
    status_bit,
    status_list_credential,
)
from tests.credentials.factories import SHARED_STANDARDS, make_record

BASE = "https://peerpath.example"
SCHEMA = SHARED_STANDARDS / "ob3-achievementcredential.schema.json"


def _verify_with_pyjwt(token: str, keys: KeyRing) -> dict:
    jwks = pyjwt.PyJWKSet.from_dict(json.loads(json.dumps(keys.jwks())))
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    return pyjwt.decode(
        token,
        key=key,
        algorithms=["EdDSA"],
        options={"verify_exp": False, "verify_nbf": True, "verify_aud": False},
    )


def test_the_credential_validates_against_the_open_badges_3_schema() -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"the 1EdTech schema is read from {SCHEMA}, which is absent in this checkout")
    schema = json.loads(SCHEMA.read_text())
    credential = open_badge_credential(
        make_record(), base_url=BASE, status_list=1, status_index=4242
    )
    errors = sorted(Draft201909Validator(schema).iter_errors(credential), key=str)
    assert errors == []
    assert "OpenBadgeCredential" in credential["type"]
    assert credential["credentialStatus"]["type"] == "BitstringStatusListEntry"


def test_the_schema_check_would_catch_a_broken_credential() -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"the 1EdTech schema is read from {SCHEMA}, which is absent in this checkout")
    schema = json.loads(SCHEMA.read_text())
    credential = open_badge_credential(make_record(), base_url=BASE, status_list=1, status_index=1)
    del credential["credentialSubject"]["achievement"]["criteria"]
    assert list(Draft201909Validator(schema).iter_errors(credential))


def test_the_vc_jwt_verifies_with_a_different_jose_library_and_the_published_jwks(
    tmp_path: Path,
) -> None:
    keys = KeyRing(tmp_path / "keys")
    record = make_record()
    credential = open_badge_credential(record, base_url=BASE, status_list=1, status_index=7)
    token = sign_vc_jwt(credential, keys.signing_key(), record)
    header = pyjwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and "jwk" not in header
    claims = _verify_with_pyjwt(token, keys)
    assert claims["vc"] == credential
    assert claims["iss"] == credential["issuer"]["id"]
    assert claims["jti"] == credential["id"]
    assert claims["sub"] == credential["credentialSubject"]["id"]
    assert claims["nbf"] == int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
    assert claims["exp"] == int(datetime(2028, 11, 23, tzinfo=UTC).timestamp())


def test_a_vc_jwt_from_another_key_does_not_verify(tmp_path: Path) -> None:
    ours = KeyRing(tmp_path / "ours")
    theirs = KeyRing(tmp_path / "theirs")
    ours.signing_key()
    record = make_record()
    credential = open_badge_credential(record, base_url=BASE, status_list=1, status_index=7)
    token = sign_vc_jwt(credential, theirs.signing_key(), record)
    with pytest.raises(StopIteration):
        _verify_with_pyjwt(token, ours)
    forged_header = token.split(".")
    own = sign_vc_jwt(credential, ours.signing_key(), record).split(".")
    with pytest.raises(pyjwt.InvalidSignatureError):
        _verify_with_pyjwt(".".join([own[0], forged_header[1], forged_header[2]]), ours)


def test_the_status_list_is_big_enough_and_marks_revoked_indexes(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    now = datetime.now(UTC)
    credential = status_list_credential(3, [5, 99_999], base_url=BASE, issuer_name="PP", now=now)
    token = sign_status_list(credential, keys.signing_key(), now)
    claims = _verify_with_pyjwt(token, keys)
    subject = claims["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    bits = decode_status_list(subject["encodedList"])
    assert len(bits) * 8 >= STATUS_LIST_LENGTH == 131_072
    assert status_bit(bits, 5) and status_bit(bits, 99_999)
    assert not status_bit(bits, 6) and not status_bit(bits, 0)
