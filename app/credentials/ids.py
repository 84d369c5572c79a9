"""Certificate IDs: unguessable, typeable, with a check character.

`PP-7K3M-9QXD-R2TB-H6WP-Q8ZA-3NVC-K1N`: 26 Crockford base32 characters (130 random bits from
`secrets`) and one check character, grouped in fours. Crockford's alphabet has no I, L, O or U,
so what people mistype (I/L for 1, O for 0, lower case, spaces, missing dashes) is read back
correctly. The check character is Luhn mod 32 over the same alphabet, which catches every
single-character typo and nearly every swap of neighbours, and keeps the ID URL-safe.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "PP"
RANDOM_CHARS = 26  # 130 bits: above the 128 bits asked of unguessable public references
GROUP = 4
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})


class InvalidCertificateId(ValueError):
    """Text that cannot be a certificate ID; the message says what to check."""


def _check_character(body: str) -> str:
    total = 0
    for position, char in enumerate(reversed(body)):
        value = _VALUE[char] * (2 if position % 2 == 0 else 1)
        total += value // 32 + value % 32
    return ALPHABET[(32 - total % 32) % 32]


def format_certificate_id(body: str) -> str:
    """`PP-` and the random characters plus their check character, in groups of four."""
    chars = body + _check_character(body)
    groups = [chars[i : i + GROUP] for i in range(0, len(chars), GROUP)]
    return "-".join([PREFIX, *groups])


def new_certificate_id() -> str:
    """A fresh random certificate ID."""
    return format_certificate_id("".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS)))


def parse_certificate_id(text: str) -> str:
    """The canonical form of a typed or pasted ID, or `InvalidCertificateId` saying what is wrong."""
    cleaned = "".join(text.split()).upper().replace("-", "").replace("_", "")
    if cleaned.startswith(PREFIX):
        cleaned = cleaned[len(PREFIX) :]
    cleaned = cleaned.translate(_CONFUSABLE)
    expected = RANDOM_CHARS + 1
    if len(cleaned) != expected:
        raise InvalidCertificateId(
            f"A certificate ID has {expected} letters and digits after “{PREFIX}-” "
            f"(like {PREFIX}-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXX); this one has {len(cleaned)}."
        )
    wrong = sorted({c for c in cleaned if c not in _VALUE})
    if wrong:
        raise InvalidCertificateId(
            f"A certificate ID uses only digits and the letters A–Z without I, L, O and U; "
            f"this one contains {', '.join(repr(c) for c in wrong)}."
        )
    body, check = cleaned[:-1], cleaned[-1]
    if _check_character(body) != check:
        raise InvalidCertificateId(
            "This certificate ID has a typing mistake: its last character does not match "
            "the others. Check each character against the certificate."
        )
    return format_certificate_id(body)
