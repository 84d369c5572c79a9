"""The issuer's Ed25519 signing keys, kept in `data_dir/keys/` (never in the repository).

One key is current and signs; rotation makes a new current key and keeps only the public half of
the old one, so certificates signed before still verify. Key IDs are RFC 7638 JWK thumbprints.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

_KID = re.compile(r"[A-Za-z0-9_-]{43}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    """The public JWK (OKP, Ed25519) with its thumbprint as `kid`."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": b64url(_raw_public(key))}
    thumbprint = hashlib.sha256(json.dumps(members, separators=(",", ":")).encode()).digest()
    return {**members, "kid": b64url(thumbprint), "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private: Ed25519PrivateKey

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


class KeyRing:
    """The signing keys in one folder: `<kid>.key` (current, private), `<kid>.pub` (public)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._public: dict[str, Ed25519PublicKey] = {}
        self._signing: SigningKey | None = None

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.directory / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _current_kid(self) -> str | None:
        try:
            return (self.directory / "current").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _write_new_key(self) -> SigningKey:
        private = Ed25519PrivateKey.generate()
        kid = public_jwk(private.public_key())["kid"]
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(
            self.directory / f"{kid}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
        )
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        self._write_public(kid, private.public_key())
        temporary = self.directory / "current.tmp"
        temporary.write_text(kid)
        temporary.replace(self.directory / "current")
        return SigningKey(kid, private)

    def _write_public(self, kid: str, key: Ed25519PublicKey) -> None:
        pem = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (self.directory / f"{kid}.pub").write_bytes(pem)

    def signing_key(self) -> SigningKey:
        """The current key, generated on first use."""
        kid = self._current_kid()
        if self._signing is not None and self._signing.kid == kid:
            return self._signing
        with self._locked():
            kid = self._current_kid()
            if kid is None:
                self._signing = self._write_new_key()
            else:
                pem = (self.directory / f"{kid}.key").read_bytes()
                private = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(private, Ed25519PrivateKey):
                    raise TypeError(f"{kid}.key is not an Ed25519 key")
                self._signing = SigningKey(kid, private)
        return self._signing

    def rotate(self) -> SigningKey:
        """Make a new current key; the old one keeps only its public half (still verifies)."""
        with self._locked():
            old = self._current_kid()
            self._signing = self._write_new_key()
            if old is not None:
                (self.directory / f"{old}.key").unlink(missing_ok=True)
        return self._signing

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key with this id, or None if this issuer never had it."""
        if kid not in self._public:
            if not _KID.fullmatch(kid):
                return None
            try:
                pem = (self.directory / f"{kid}.pub").read_bytes()
            except FileNotFoundError:
                return None
            key = serialization.load_pem_public_key(pem)
            if not isinstance(key, Ed25519PublicKey):
                return None
            self._public[kid] = key
        return self._public[kid]

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        self.signing_key()
        for path in sorted(self.directory.glob("*.pub")):
            self.public_key(path.stem)
        return dict(self._public)

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set of every public key, current first."""
        current = self.signing_key().kid
        keys = [public_jwk(k) for k in self.public_keys().values()]
        keys.sort(key=lambda jwk: (jwk["kid"] != current, jwk["kid"]))
        return {"keys": keys}
