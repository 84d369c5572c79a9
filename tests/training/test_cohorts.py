"""Cohorts: a trainer starts one, trainees join by code or from a roster file, and the roster
is all-or-nothing with a clear message per line."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.store import Database
from app.store.accounts import User
from app.store.learning import Cohort, Enrolment
from app.training.cohorts import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH
from tests.journeys import login, new_client, post_form
from tests.training.factories import Person, create_cohort, join, join_code, person


def upload_roster(trainer: Person, cohort_id: int, text: str | bytes):  # type: ignore[no-untyped-def]
    page = f"/train/cohorts/{cohort_id}/members"
    from tests.journeys import csrf_from

    data = text.encode() if isinstance(text, str) else text
    return trainer.client.post(
        f"/train/cohorts/{cohort_id}/roster",
        data={"csrf_token": csrf_from(trainer.client, page)},
        files={"roster": ("roster.csv", data, "text/csv")},
        follow_redirects=False,
    )


def user_count(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count(User.id))) or 0


def test_a_trainer_starts_a_cohort_and_a_trainee_joins_by_its_code(
    app: FastAPI, db: Database
) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer, name="Northside peer team")
    code = join_code(db, cohort_id)
    assert len(code) == JOIN_CODE_LENGTH and set(code) <= set(JOIN_CODE_ALPHABET)
    assert code != join_code(db, create_cohort(trainer, name="Another"))
    members = trainer.client.get(f"/train/cohorts/{cohort_id}/members")
    assert code in members.text and "Nobody has joined yet." in members.text
    trainee = person(app, db, "trainee", name="Bea")
    join(trainee, code.lower())  # typed in lower case on a phone: still works
    members = trainer.client.get(f"/train/cohorts/{cohort_id}/members")
    assert "Bea" in members.text and trainee.email in members.text
    with db.unit_of_work(write=False) as session:
        cohort = session.get(Cohort, cohort_id)
        enrolment = session.scalars(select(Enrolment).where(Enrolment.user_id == trainee.id)).one()
        assert cohort is not None
        assert enrolment.cohort_id == cohort_id and enrolment.release_id == cohort.release_id


def test_a_cohort_needs_a_name_and_a_published_programme(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    response = post_form(
        trainer.client,
        "/train/cohorts",
        {"name": " ", "programme": "sample-programme"},
        from_page="/train",
    )
    assert response.status_code == 422 and "Give the cohort a name" in response.text
    response = post_form(
        trainer.client, "/train/cohorts", {"name": "X", "programme": "nope"}, from_page="/train"
    )
    assert response.status_code == 422 and "no published programme" in response.text


def test_a_roster_adds_new_and_existing_trainees_and_new_ones_set_a_password(
    app: FastAPI, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    existing = person(app, db, "trainee", name="Existing Trainee")
    roster = (
        "Name,Email\r\n"
        "Chidi Okafor,chidi@example.org\r\n"
        "\r\n"
        f"Existing Trainee,{existing.email.upper()}\r\n"
        "Dana Ruiz,  Dana@Example.org \r\n"
    )
    with caplog.at_level(logging.WARNING, logger="peerpath.accounts"):
        response = upload_roster(trainer, cohort_id, "\ufeff" + roster)
    assert response.status_code == 303, response.text
    page = trainer.client.get(response.headers["location"])
    assert "Everyone in the file was added" in page.text
    for name in ("Chidi Okafor", "Dana Ruiz", "Existing Trainee"):
        assert name in page.text
    links = re.findall(r"http://testserver(/reset-password/\S+)", caplog.text)
    assert len(links) == 2, "a set-your-password link for each new account only"
    chidi = new_client(app)
    link = next(link for link in links if chidi.get(link).status_code == 200)
    assert (
        post_form(
            chidi, link, {"new_password": "a long new passphrase"}, from_page=link
        ).status_code
        == 303
    )
    chidi = new_client(app)
    signed_in = None
    for email in ("chidi@example.org", "dana@example.org"):
        if login(chidi, email, "a long new passphrase").status_code == 303:
            signed_in = email
    assert signed_in is not None
    assert "Sample Peer Support Programme" in chidi.get("/dashboard").text
    with db.unit_of_work(write=False) as session:
        in_cohort = session.scalars(
            select(Enrolment.user_id).where(Enrolment.cohort_id == cohort_id)
        ).all()
        assert len(in_cohort) == 3 and existing.id in in_cohort


def test_a_roster_with_problems_adds_nobody_and_names_every_line(
    app: FastAPI, db: Database
) -> None:
    trainer = person(app, db, "trainer")
    other = person(app, db, "trainer", name="Other Trainer")
    cohort_id = create_cohort(trainer)
    before = user_count(db)
    roster = (
        "name,email\n"
        "Good Person,good@example.org\n"
        "No Email,not-an-email\n"
        ",nameless@example.org\n"
        "Good Again,GOOD@example.org\n"
        f"A Trainer,{other.email}\n"
    )
    response = upload_roster(trainer, cohort_id, roster)
    assert response.status_code == 422
    text = response.text.replace("&#34;", '"')
    assert "Nobody was added" in text
    assert "Line 3:" in text and "Enter an email address" in text
    assert "Line 4:" in text and "name is missing" in text
    assert "Line 5:" in text and "also on line 2" in text
    assert "Line 6:" in text and "is a trainer account" in text
    assert "Line 2:" not in text
    assert user_count(db) == before
    with db.unit_of_work(write=False) as session:
        assert (
            session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort_id)).all() == []
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email,phone\nx@example.org,1\n", "put “name” and “email” in the first row"),
        (b"name,email\n", "nobody in it"),
        ("name,email\nJos\xe9,j@example.org\n".encode("latin-1"), "not UTF-8"),
        (b"name,email\n" + b"A,a@example.org\n" * 20_000, "at most 256 KB"),
        (
            b"name,email\n" + b"".join(f"P{i},p{i}@example.org\n".encode() for i in range(201)),
            "at most 200 people",
        ),
    ],
)
def test_unreadable_or_oversized_rosters_are_refused(
    app: FastAPI, db: Database, content: bytes, message: str
) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    before = user_count(db)
    response = upload_roster(trainer, cohort_id, content)
    assert response.status_code == 422
    assert message in response.text.replace("&#34;", '"')
    assert user_count(db) == before
