"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage cheat sheet: m=19 MiB, t=2, p=1 is one of the equivalent argon2id settings.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)

MIN_LENGTH = 8
# Long enough for any passphrase, short enough that hashing cannot be used to exhaust the server.
MAX_LENGTH = 1024

# A password nobody can match: used to spend the same time on unknown accounts as on known ones.
_DUMMY_HASH = _hasher.hash("peerpath-dummy-password-for-constant-time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches; the comparison is made exactly on what was typed."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def spend_verification_time(password: str) -> None:
    """Do the work of a verification against nothing, so timing does not reveal accounts."""
    verify_password(_DUMMY_HASH, password[:MAX_LENGTH])


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


def password_problem(password: str, *, email: str = "") -> str | None:
    """Why a new password is not acceptable, in words for the person choosing it; None if fine.

    Length only, no composition rules (ASVS 6.2): long passphrases are the easy strong choice.
    """
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few words in a row make a strong password."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in _COMMON or (email and lowered == email.lower()):
        return "This password is too easy to guess. Try a few unrelated words in a row."
    return None


_COMMON = frozenset(
    [
        "password",
        "password1",
        "password123",
        "12345678",
        "123456789",
        "1234567890",
        "qwerty123",
        "qwertyuiop",
        "11111111",
        "00000000",
        "iloveyou",
        "abc12345",
        "letmein1",
        "welcome1",
        "sunshine1",
        "princess1",
        "football1",
        "baseball1",
        "monkey123",
        "dragon123",
        "trustno1",
        "passw0rd",
        "1q2w3e4r",
        "1qaz2wsx",
        "zaq12wsx",
        "qwerty12",
        "asdfghjk",
        "87654321",
        "12341234",
        "superman1",
        "starwars1",
        "peerpath",
        "peerpath1",
    ]
)
