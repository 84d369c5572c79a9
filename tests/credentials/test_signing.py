"""Signed records and the issuer's keys: tampering, unknown keys, rotation."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from app.credentials import (
    CertificateRecord,
    KeyRing,
    SignatureVerdict,
    check_signature,
    sign_record,
)
from tests.credentials.factories import make_record


def test_canonical_json_is_jcs_sorted_compact_utf8() -> None:
    record = make_record(name="Zoë")
    canonical = record.canonical_json()
    expected = json.dumps(
        record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert canonical == expected
    assert "Zoë".encode() in canonical
    assert CertificateRecord.from_canonical_json(canonical) == record


def test_a_signed_record_verifies_and_a_changed_one_does_not(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    signed = sign_record(make_record(), keys)
    assert (
        check_signature(signed.canonical, signed.signature, signed.kid, keys)
        is SignatureVerdict.VALID
    )
    forged = signed.canonical.replace(b"Amara Okafor", b"Amara Okafoe")
    assert (
        check_signature(forged, signed.signature, signed.kid, keys)
        is SignatureVerdict.BAD_SIGNATURE
    )


def test_a_record_signed_by_a_key_we_never_had_fails(tmp_path: Path) -> None:
    ours = KeyRing(tmp_path / "ours")
    theirs = KeyRing(tmp_path / "theirs")
    signed = sign_record(make_record(), theirs)
    assert (
        check_signature(signed.canonical, signed.signature, signed.kid, ours)
        is SignatureVerdict.UNKNOWN_KEY
    )
    # The forger claims our key id: the signature still does not match.
    claimed = ours.signing_key().kid
    assert (
        check_signature(signed.canonical, signed.signature, claimed, ours)
        is SignatureVerdict.BAD_SIGNATURE
    )


def test_keys_are_private_files_generated_once(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    kid = keys.signing_key().kid
    assert KeyRing(tmp_path / "keys").signing_key().kid == kid
    private = tmp_path / "keys" / f"{kid}.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert len(kid) == 43


def test_rotation_keeps_old_certificates_verifiable(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    old = sign_record(make_record(), keys)
    new_key = keys.rotate()
    assert new_key.kid != old.kid
    assert not (tmp_path / "keys" / f"{old.kid}.key").exists()
    fresh = KeyRing(tmp_path / "keys")
    assert check_signature(old.canonical, old.signature, old.kid, fresh) is SignatureVerdict.VALID
    assert sign_record(make_record(), fresh).kid == new_key.kid
    assert [jwk["kid"] for jwk in fresh.jwks()["keys"]] == [new_key.kid, old.kid]
    assert all("d" not in jwk for jwk in fresh.jwks()["keys"])


def test_a_kid_cannot_name_a_file_outside_the_key_folder(tmp_path: Path) -> None:
    keys = KeyRing(tmp_path / "keys")
    keys.signing_key()
    assert keys.public_key("../../etc/passwd") is None
    assert keys.public_key("") is None
