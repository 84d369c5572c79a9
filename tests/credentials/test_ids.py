"""Certificate IDs: unguessable, typeable, and forgiving of the usual typing mistakes."""

from __future__ import annotations

import re

import pytest

from app.credentials import InvalidCertificateId, new_certificate_id, parse_certificate_id
from app.credentials.ids import ALPHABET, RANDOM_CHARS

SHAPE = re.compile(r"^PP(-[0-9A-HJKMNP-TV-Z]{4}){6}-[0-9A-HJKMNP-TV-Z]{3}$")


def test_a_new_id_has_the_printed_shape_and_at_least_128_random_bits() -> None:
    certificate_id = new_certificate_id()
    assert SHAPE.match(certificate_id), certificate_id
    assert RANDOM_CHARS * 5 >= 128
    assert parse_certificate_id(certificate_id) == certificate_id


def test_ids_do_not_repeat() -> None:
    assert len({new_certificate_id() for _ in range(2000)}) == 2000


def test_what_people_type_is_read_back() -> None:
    certificate_id = new_certificate_id()
    typed = certificate_id.lower().replace("-", " ")
    assert parse_certificate_id(f"  {typed} ") == certificate_id
    assert parse_certificate_id(certificate_id.replace("PP-", "")) == certificate_id
    assert parse_certificate_id(certificate_id.replace("-", "")) == certificate_id


def test_i_l_and_o_are_read_as_one_and_zero() -> None:
    body = "0" * 12 + "1" * 14
    from app.credentials.ids import format_certificate_id

    certificate_id = format_certificate_id(body)
    mistyped = certificate_id[:3] + certificate_id[3:].replace("0", "O").replace("1", "l", 3)
    assert parse_certificate_id(mistyped) == certificate_id


def test_every_single_character_typo_is_caught_by_the_check_character() -> None:
    certificate_id = new_certificate_id()
    characters = certificate_id.replace("PP-", "").replace("-", "")
    for position in range(len(characters)):
        for replacement in ALPHABET:
            if replacement == characters[position]:
                continue
            typo = characters[:position] + replacement + characters[position + 1 :]
            with pytest.raises(InvalidCertificateId):
                parse_certificate_id(typo)


def test_a_wrong_check_character_says_so() -> None:
    certificate_id = new_certificate_id()
    last = certificate_id[-1]
    wrong = certificate_id[:-1] + ("0" if last != "0" else "1")
    with pytest.raises(InvalidCertificateId, match="typing mistake"):
        parse_certificate_id(wrong)


@pytest.mark.parametrize(
    ("text", "message"),
    [("PP-1234", "has 27 letters and digits"), ("PP-" + "U" * 27, "contains 'U'"), ("", "has 0")],
)
def test_malformed_input_gets_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(InvalidCertificateId, match=message):
        parse_certificate_id(text)
