"""Download my data, delete my account; joining a trainer's cohort by its code."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import accounts
from app.catalog import current_record
from app.store import Database
from app.store.accounts import User, UserSession
from app.store.learning import Cohort, Enrolment, LessonProgress, Reflection
from tests.journeys import PASSWORD, PROGRAMME, complete, enrol, login, post_form, register

PAGE = f"/learn/{PROGRAMME}/welcome/what-peer-support-is"


def test_download_my_data_has_profile_enrolments_progress_and_reflections(
    client: TestClient,
) -> None:
    register(client, "dana@example.org", name="Dana")
    enrol(client)
    complete(client, "welcome", "what-peer-support-is")
    post_form(
        client, f"{PAGE}/reflections/why-peer-support", {"text": "Mine alone."}, from_page=PAGE
    )
    response = client.get("/account/export")
    assert response.headers["content-disposition"] == 'attachment; filename="peerpath-my-data.json"'
    assert response.headers["cache-control"] == "no-store"
    data = json.loads(response.text)
    assert data["profile"]["email"] == "dana@example.org"
    enrolment = data["enrolments"][0]
    assert enrolment["programme_id"] == PROGRAMME
    assert [lesson["lesson_id"] for lesson in enrolment["lessons"] if lesson["completed_at"]] == [
        "what-peer-support-is"
    ]
    assert enrolment["reflections"][0]["text"] == "Mine alone."


def test_deleting_my_account_needs_my_password_and_removes_everything(
    client: TestClient, db: Database
) -> None:
    email = register(client)
    enrol(client)
    complete(client, "welcome", "what-peer-support-is")
    post_form(
        client, f"{PAGE}/reflections/why-peer-support", {"text": "Gone soon."}, from_page=PAGE
    )
    wrong = post_form(client, "/account/delete", {"delete_password": "not my password"})
    assert wrong.status_code == 400 and "nothing was deleted" in wrong.text
    assert 'aria-describedby="f-delete_password-error"' in wrong.text
    done = post_form(client, "/account/delete", {"delete_password": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/?deleted=1"
    assert "Your account and your data have been deleted" in client.get("/?deleted=1").text
    with db.unit_of_work(write=False) as session:
        for table in (User, UserSession, Enrolment, LessonProgress, Reflection):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table
    assert login(client, email).status_code == 401


def test_a_trainer_who_runs_a_cohort_is_anonymised_not_dropped(
    client: TestClient, db: Database
) -> None:
    with db.unit_of_work() as session:
        trainer = accounts.create_user(
            session,
            email="tess@example.org",
            display_name="Tess",
            password=PASSWORD,
            role="trainer",
        )
        session.add(
            Cohort(
                name="Spring group",
                programme_id=PROGRAMME,
                release_id=current_record(session, PROGRAMME).id,
                trainer_id=trainer.id,
                join_code="K7QP4M",
            )
        )
    login(client, "tess@example.org")
    assert post_form(client, "/account/delete", {"delete_password": PASSWORD}).status_code == 303
    with db.unit_of_work(write=False) as session:
        kept = session.scalars(select(User)).one()
        assert kept.email.endswith("@deleted.invalid") and kept.display_name == "Deleted account"
        assert kept.deleted_at is not None and "Tess" not in kept.display_name
        assert session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert login(client, "tess@example.org").status_code == 401


def test_joining_a_cohort_by_code_enrols_on_the_cohort_release(
    client: TestClient, db: Database
) -> None:
    with db.unit_of_work() as session:
        trainer = accounts.create_user(
            session,
            email="tess@example.org",
            display_name="Tess",
            password=PASSWORD,
            role="trainer",
        )
        cohort = Cohort(
            name="Spring group",
            programme_id=PROGRAMME,
            release_id=current_record(session, PROGRAMME).id,
            trainer_id=trainer.id,
            join_code="K7QP4M",
        )
        session.add(cohort)
        session.flush()
        cohort_id = cohort.id
    register(client)
    bad = post_form(client, "/join", {"join_code": "NOPE99"}, from_page="/join")
    assert bad.status_code == 400 and "no group with that join code" in bad.text
    assert 'aria-invalid="true"' in bad.text
    joined = post_form(client, "/join", {"join_code": " k7qp4m "}, from_page="/join")
    assert joined.headers["location"] == f"/learn/{PROGRAMME}?enrolled=1"
    with db.unit_of_work(write=False) as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert enrolment.cohort_id == cohort_id
