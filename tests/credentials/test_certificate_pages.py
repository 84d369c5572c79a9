"""Certificates in the browser: a trainer issues and revokes from the trainee's page, the holder
downloads from their dashboard, and nobody else gets in."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.credentials.issuance import SYSTEM, issue_certificate
from app.store import Database
from app.store.audit import AuditEntry
from app.store.certificates import Certificate
from app.store.learning import Enrolment
from tests.assessment.test_rating import TRAINEE, open_session, rate
from tests.assessment.test_standing import pass_the_check
from tests.credentials.conftest import make_trainee, progress_for
from tests.journeys import complete, login, new_client, register
from tests.training.factories import Person, create_cohort, join, join_code, person, post

LESSONS = [
    ("welcome", "what-peer-support-is"),
    ("welcome", "how-this-course-works"),
    ("listening-basics", "open-questions"),
    ("listening-basics", "practice"),
    ("boundaries-basics", "confidentiality"),
]
ID = re.compile(r"PP(?:-[0-9A-Z]{4}){6}-[0-9A-Z]{3}")


@dataclass
class Cohort:
    trainer: Person
    trainee: Person
    id: int

    @property
    def trainee_page(self) -> str:
        return f"/train/cohorts/{self.id}/trainees/{self.trainee.id}"


@pytest.fixture
def cohort(app: FastAPI, db: Database) -> Cohort:
    """A trainer's cohort with one trainee (Tess), who joined by its code."""
    trainer = person(app, db, "trainer", name="Rhea")
    cohort_id = create_cohort(trainer)
    client = new_client(app)
    register(client, TRAINEE, name="Tess Trainee")
    login(client, TRAINEE)
    with db.unit_of_work(write=False) as session:
        from app.store.accounts import User

        user_id = session.scalars(select(User.id).where(User.email == TRAINEE)).one()
    trainee = Person(client, TRAINEE, user_id)
    join(trainee, join_code(db, cohort_id))
    return Cohort(trainer, trainee, cohort_id)


def certify(db: Database, settings: Settings, user_id: int) -> str:
    """Issue the trainee's certificate directly (for stories that start after issuance)."""
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)).one()
        from app.catalog import load_release

        release = load_release(session, enrolment.release_id)
        return issue_certificate(
            session, enrolment, progress_for(release), settings=settings, actor=SYSTEM
        ).public_id


def certificates(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return session.scalar(select(func.count(Certificate.id))) or 0


def test_a_trainer_issues_from_the_trainee_page_and_the_trainee_then_downloads_it(
    cohort: Cohort, db: Database
) -> None:
    trainer, trainee = cohort.trainer.client, cohort.trainee.client
    before = trainer.get(cohort.trainee_page).text
    assert "not yet eligible" in before and "Complete 3 more modules" in before
    assert "Issue certificate" not in before

    for module, lesson in LESSONS:
        assert complete(trainee, module, lesson).status_code in (200, 303)
    pass_the_check(trainee)
    session_id = open_session(trainer)
    assert rate(trainer, session_id, {"open-questions": (3, ""), "confidentiality": (4, "")}) == 303

    page = trainer.get(cohort.trainee_page).text
    assert "eligible" in page and "Issue certificate" in page
    listing = trainer.get(f"/train/cohorts/{cohort.id}/certificates").text
    assert "1 eligible trainee has no certificate yet." in listing
    issued = post(
        trainer,
        f"{cohort.trainee_page}/certificate",
        {"holder_name": "Tess M. Trainee"},
        page=cohort.trainee_page,
    )
    assert issued.status_code == 303, issued.text
    certificate_id = issued.headers["location"].split("issued=")[1].split("#")[0]
    page = trainer.get(issued.headers["location"]).text
    assert f"Certificate {certificate_id} issued." in page
    assert certificate_id in page and "Valid" in page and "Tess M. Trainee" in page
    assert f'href="http://testserver/verify/{certificate_id}"' in page
    assert "Revoke this certificate" in page and "Issue certificate" not in page

    listing_page = f"/train/cohorts/{cohort.id}/certificates"
    again = post(
        trainer, f"{cohort.trainee_page}/certificate", {"back": "cohort"}, page=listing_page
    )
    assert again.status_code == 303
    assert again.headers["location"] == f"{listing_page}?issued={certificate_id}"
    listing = trainer.get(again.headers["location"]).text
    assert f"Certificate {certificate_id} issued." in listing
    assert "0 eligible trainees have no certificate yet." in listing
    assert certificates(db) == 1  # a second click issues nothing new

    dashboard = trainee.get("/dashboard").text
    assert certificate_id in dashboard
    assert f'href="/api/v1/certificates/{certificate_id}/pdf"' in dashboard
    assert f'href="/api/v1/certificates/{certificate_id}/credential"' in dashboard
    assert f"http://testserver/verify/{certificate_id}" in dashboard
    assert "Valid until" in dashboard
    pdf = trainee.get(f"/api/v1/certificates/{certificate_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    badge = trainee.get(f"/api/v1/certificates/{certificate_id}/credential")
    assert badge.status_code == 200
    assert badge.headers["content-type"].startswith("application/vc+jwt")
    assert badge.text.count(".") == 2  # a compact JWS


def test_the_issue_button_refuses_a_trainee_who_is_not_eligible_with_every_reason(
    cohort: Cohort, db: Database
) -> None:
    refused = post(
        cohort.trainer.client,
        f"{cohort.trainee_page}/certificate",
        {},
        page=cohort.trainee_page,
    )
    assert refused.status_code == 409
    assert "Not eligible" in refused.text and "Complete 3 more modules" in refused.text
    assert certificates(db) == 0


def test_a_trainee_cannot_reach_the_trainer_pages_nor_download_someone_elses_certificate(
    app: FastAPI, cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainee = cohort.trainee.client
    assert trainee.get(f"/train/cohorts/{cohort.id}/certificates").status_code == 403
    assert trainee.get(cohort.trainee_page).status_code == 403
    own_page_token = post(trainee, f"{cohort.trainee_page}/certificate", {}, page="/dashboard")
    assert own_page_token.status_code == 403 and certificates(db) == 0
    anonymous = new_client(app)
    signed_out = anonymous.get(f"/train/cohorts/{cohort.id}/certificates", follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")

    with db.unit_of_work() as session:
        holder = make_trainee(session, name="Amara Okafor", email="amara@example.org")
    someone_elses = certify(db, settings, holder.user_id)
    for path in ("pdf", "credential"):
        response = trainee.get(f"/api/v1/certificates/{someone_elses}/{path}")
        assert response.status_code == 404, path
        unknown = trainee.get(f"/api/v1/certificates/PP-0000-0000-0000-0000-0000-0000-000/{path}")
        assert unknown.status_code == 404 and unknown.json()["detail"] == response.json()["detail"]
    assert "Amara" not in trainee.get("/dashboard").text
    # …while the trainer may fetch it (e.g. to send it on).
    assert cohort.trainer.client.get(f"/api/v1/certificates/{someone_elses}/pdf").status_code == 200


def test_revoking_needs_a_reason_and_a_note_then_a_confirmation_and_shows_on_verify(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    certificate_id = certify(db, settings, cohort.trainee.id)
    action = f"{cohort.trainee_page}/certificate/revocation"
    page = cohort.trainee_page

    missing = post(trainer, action, {"certificate_id": certificate_id}, page=page)
    assert missing.status_code == 422
    assert "Choose the reason for revoking." in missing.text
    assert "Write a note for the audit log" in missing.text
    no_note = post(
        trainer, action, {"certificate_id": certificate_id, "reason": "misconduct"}, page=page
    )
    assert no_note.status_code == 422 and "Choose the reason" not in no_note.text
    made_up = post(
        trainer,
        action,
        {"certificate_id": certificate_id, "reason": "because", "note": "x"},
        page=page,
    )
    assert made_up.status_code == 422 and "Choose the reason for revoking." in made_up.text

    form = {
        "certificate_id": certificate_id,
        "reason": "misconduct",
        "note": "Panel decision 4 May",
    }
    confirm = post(trainer, action, form, page=page)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text and f"Yes, revoke {certificate_id}" in confirm.text
    assert "Valid" in trainer.get(f"/verify/{certificate_id}").text  # nothing changed yet

    revoked = post(trainer, action, {**form, "confirm": "yes"}, page=page)
    assert revoked.status_code == 303
    assert f"Certificate {certificate_id} revoked" in trainer.get(revoked.headers["location"]).text
    verdict = new_client(trainer.app).get(f"/verify/{certificate_id}").text
    assert "Revoked on" in verdict and "reason: conduct" in verdict
    with db.unit_of_work(write=False) as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "certificate.revoked")
        ).one()
        assert entry.actor_id == cohort.trainer.id and entry.subject_id == certificate_id
        assert entry.details == {"reason": "misconduct", "note": "Panel decision 4 May"}
    dashboard = cohort.trainee.client.get("/dashboard").text
    assert f"Certificate {certificate_id} was revoked" in dashboard
    assert "/pdf" not in dashboard


def test_forms_without_the_csrf_token_change_nothing(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    certificate_id = certify(db, settings, cohort.trainee.id)
    revoke = trainer.post(
        f"{cohort.trainee_page}/certificate/revocation",
        data={
            "certificate_id": certificate_id,
            "reason": "misconduct",
            "note": "x",
            "confirm": "yes",
        },
        follow_redirects=False,
    )
    assert revoke.status_code == 403 and "nothing was changed" in revoke.text
    assert "Valid" in trainer.get(f"/verify/{certificate_id}").text
    issue = trainer.post(f"{cohort.trainee_page}/certificate", data={}, follow_redirects=False)
    assert issue.status_code == 403


def test_the_cohort_page_lists_each_trainees_certificate_and_leaves_the_batch_to_the_cli(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    assert (
        f'href="/train/cohorts/{cohort.id}/certificates"'
        in trainer.get(f"/train/cohorts/{cohort.id}").text
    )
    listing = trainer.get(f"/train/cohorts/{cohort.id}/certificates").text
    assert "Tess Trainee" in listing and "not yet eligible" in listing
    assert f"peerpath certificates issue-batch --cohort {cohort.id}" in listing
    assert "0 eligible trainees have no certificate yet." in listing
    certificate_id = certify(db, settings, cohort.trainee.id)
    listing = trainer.get(f"/train/cohorts/{cohort.id}/certificates").text
    assert certificate_id in listing and "(valid)" in listing
    other = person(trainer.app, db, "trainer", name="Sol")  # type: ignore[arg-type]
    assert other.client.get(f"/train/cohorts/{cohort.id}/certificates").status_code == 404
