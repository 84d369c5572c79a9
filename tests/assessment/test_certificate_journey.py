"""The whole story to a certificate through the real app: a trainee reads every lesson and passes
the knowledge check, a trainer rates the observed role-play, a trainer issues the certificate
(refused, with reasons, until the trainee is eligible), and anyone can verify it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.store import Database
from app.store.learning import Enrolment
from tests.assessment.test_rating import as_trainer, open_session, rate
from tests.assessment.test_standing import pass_the_check
from tests.journeys import api_token, complete

LESSONS = [
    ("listening-basics", "open-questions"),
    ("listening-basics", "practice"),
    ("boundaries-basics", "confidentiality"),
]


def enrolment_id(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalars(select(Enrolment.id)).one()


def issue(trainer_api: TestClient, auth: dict[str, str], enrolment: int):  # type: ignore[no-untyped-def]
    return trainer_api.post("/api/v1/certificates", json={"enrolment_id": enrolment}, headers=auth)


def test_an_eligible_trainee_gets_a_certificate_anyone_can_verify(
    trainee: TestClient, browser: Callable[[], TestClient], db: Database
) -> None:
    rhea = as_trainer(browser, db, "Rhea")
    trainer_api = TestClient(trainee.app)
    auth = api_token(trainer_api, "rhea@example.org")
    trainer_api.cookies.clear()
    enrolment = enrolment_id(db)

    refused = issue(trainer_api, auth, enrolment)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "Complete 2 more modules" in detail and "listening-check" in detail

    for module, lesson in LESSONS:
        assert complete(trainee, module, lesson).status_code in (200, 303)
    pass_the_check(trainee)
    session_id = open_session(rhea)
    assert rate(rhea, session_id, {"open-questions": (3, ""), "confidentiality": (4, "")}) == 303
    assert "Not yet eligible" not in trainee.get("/dashboard").text

    issued = issue(trainer_api, auth, enrolment)
    assert issued.status_code == 201, issued.text
    certificate = issued.json()
    again = issue(trainer_api, auth, enrolment)
    assert again.json()["id"] == certificate["id"]  # issuing twice gives the same certificate

    anonymous = TestClient(trainee.app)
    verdict = anonymous.get(f"/api/v1/certificates/{certificate['id']}/verification").json()
    assert verdict["status"] == "valid"
    page = anonymous.get(f"/verify/{certificate['id']}").text
    assert "Tess Trainee" in page and "trainee.one@example.org" not in page
