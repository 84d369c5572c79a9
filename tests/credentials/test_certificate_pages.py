"""Certificates in the browser: a trainer issues, renews, re-issues and revokes from the trainee's
page, the holder downloads from their dashboard, and nobody else gets in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from app.config import Settings
from app.credentials.issuance import add_months
from app.store import Database
from app.store.audit import AuditEntry
from app.store.base import utcnow
from app.store.certificates import Certificate
from tests.assessment.test_rating import TRAINEE, open_session, rate
from tests.assessment.test_standing import pass_the_check
from tests.credentials.conftest import make_trainee
from tests.credentials.issuing import issue_directly
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


def certify(
    db: Database, settings: Settings, user_id: int, *, expires_in: int | None = None
) -> str:
    """The trainee's certificate, issued directly (for stories that start after issuance)."""
    return issue_directly(db, settings, user_id, expires_in=expires_in).public_id


def expiry_in(days: int) -> date:
    return utcnow().date() + timedelta(days=days)


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


# --- renewal and re-issue ----------------------------------------------------------------------


def long_date(day: date) -> str:
    return f"{day:%-d %B %Y}"


def stored(db: Database, public_id: str) -> Certificate:
    with db.unit_of_work(write=False) as session:
        certificate = session.scalars(
            select(Certificate).where(Certificate.public_id == public_id)
        ).one()
        session.expunge(certificate)
        return certificate


def audit_rows(db: Database, action: str) -> list[AuditEntry]:
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return rows


def test_renewal_near_expiry_states_what_it_needs_confirms_and_shows_the_new_certificate(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    old_id = certify(db, settings, cohort.trainee.id, expires_in=30)
    old_expiry = expiry_in(30)
    page = trainer.get(cohort.trainee_page).text
    assert "Renew…" in page
    assert f"This certificate expires on {long_date(old_expiry)}, in 30 days." in page
    assert "renewal needs 4 hours of continuing education, including 1 hour of ethics" in page

    action = f"{cohort.trainee_page}/certificate/renewal"
    form = {"certificate_id": old_id, "continuing_education_hours": "5", "ethics_hours": "1,5"}
    confirm = post(trainer, action, form, page=cohort.trainee_page)
    assert confirm.status_code == 200, confirm.text
    assert f"Yes, renew {old_id}" in confirm.text
    assert "4 hours of continuing education, including 1 hour of ethics" in confirm.text
    assert "<dd>5</dd>" in confirm.text and "<dd>1,5</dd>" in confirm.text
    assert certificates(db) == 1  # nothing changes before the confirmation

    renewed = post(trainer, action, {**form, "confirm": "yes"}, page=cohort.trainee_page)
    assert renewed.status_code == 303, renewed.text
    new_id = renewed.headers["location"].split("renewed=")[1].split("#")[0]
    assert ID.fullmatch(new_id) and new_id != old_id
    page = trainer.get(renewed.headers["location"]).text
    new_expiry = add_months(old_expiry, 24)  # from the end of the current period
    assert (
        f"Certificate renewed. The new certificate is {new_id}, valid until "
        f"{long_date(new_expiry)}." in page
    )
    assert "Earlier versions" in page and "Replaced by</span>" not in page
    assert re.search(rf"{old_id}</code></a>.*?Replaced by <code>{new_id}</code>", page, re.S)
    assert "Renew…" not in page  # the new period is two years away
    assert stored(db, new_id).continuing_education_hours == 5

    verifier = new_client(trainer.app)
    assert "Replaced by a newer version" in verifier.get(f"/verify/{old_id}").text
    assert "Valid" in verifier.get(f"/verify/{new_id}").text
    [renewal] = audit_rows(db, "certificate.renewed")
    [superseded] = audit_rows(db, "certificate.superseded")
    assert (renewal.subject_id, renewal.actor_id) == (new_id, cohort.trainer.id)
    assert (superseded.subject_id, superseded.details) == (old_id, {"superseded_by": new_id})
    assert new_id in cohort.trainee.client.get("/dashboard").text


def test_renewal_is_refused_with_every_shortfall_and_bad_hours_are_explained_changing_nothing(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    certificate_id = certify(db, settings, cohort.trainee.id, expires_in=-10)  # expired
    page = trainer.get(cohort.trainee_page).text
    assert f"This certificate expired on {long_date(expiry_in(-10))}." in page
    action = f"{cohort.trainee_page}/certificate/renewal"
    short = {
        "certificate_id": certificate_id,
        "continuing_education_hours": "2",
        "ethics_hours": "0",
        "confirm": "yes",
    }

    refused = post(trainer, action, short, page=cohort.trainee_page)
    assert refused.status_code == 409
    assert "Certificate not renewed" in refused.text
    assert "Record 4 hours of continuing education (2 given)." in refused.text
    assert "Record 1 hour of ethics (0 given)." in refused.text
    assert "Nothing was changed" in refused.text

    for education, ethics, message in [
        ("lots", "1", "Enter the hours as a number from 0 to 10,000"),
        ("-1", "0", "Enter the hours as a number from 0 to 10,000"),
        ("nan", "0", "Enter the hours as a number from 0 to 10,000"),
        ("4", "6", "Ethics hours are part of the continuing-education hours"),
    ]:
        wrong = {**short, "continuing_education_hours": education, "ethics_hours": ethics}
        bad = post(trainer, action, wrong, page=cohort.trainee_page)
        assert bad.status_code == 422, (education, ethics)
        assert message in bad.text and 'aria-invalid="true"' in bad.text
    assert certificates(db) == 1
    assert stored(db, certificate_id).status == "issued"
    assert audit_rows(db, "certificate.renewed") == []


def test_renewal_is_not_offered_nor_accepted_before_the_renewal_window(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    certificate_id = certify(db, settings, cohort.trainee.id)
    assert "Renew…" not in trainer.get(cohort.trainee_page).text
    early = post(
        trainer,
        f"{cohort.trainee_page}/certificate/renewal",
        {
            "certificate_id": certificate_id,
            "continuing_education_hours": "10",
            "ethics_hours": "2",
            "confirm": "yes",
        },
        page=cohort.trainee_page,
    )
    assert early.status_code == 409
    opens = add_months(utcnow().date(), 24) - timedelta(days=90)
    assert f"Renewal opens 90 days before expiry, on {long_date(opens)}." in early.text
    assert certificates(db) == 1


def test_reissue_after_a_name_change_confirms_keeps_the_lineage_and_records_the_note(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    old_id = certify(db, settings, cohort.trainee.id)
    page = trainer.get(cohort.trainee_page).text
    assert "Re-issue with a new name…" in page and "Earlier versions" not in page

    action = f"{cohort.trainee_page}/certificate/reissue"
    form = {
        "certificate_id": old_id,
        "holder_name": "  Tess Okafor  ",
        "note": "Married; asked by email on 3 May",
    }
    confirm = post(trainer, action, form, page=cohort.trainee_page)
    assert confirm.status_code == 200, confirm.text
    assert "Yes, re-issue as Tess Okafor" in confirm.text
    assert 'name="holder_name" value="Tess Okafor"' in confirm.text  # stripped
    assert certificates(db) == 1

    done = post(trainer, action, {**form, "confirm": "yes"}, page=cohort.trainee_page)
    assert done.status_code == 303, done.text
    new_id = done.headers["location"].split("reissued=")[1].split("#")[0]
    page = trainer.get(done.headers["location"]).text
    assert f"Certificate re-issued as {new_id} in the name of Tess Okafor." in page
    assert "(version 2)" in page
    assert re.search(rf"{old_id}</code></a></td><td>Tess Trainee</td>", page)
    assert f"Replaced by <code>{new_id}</code>" in page

    old, new = stored(db, old_id), stored(db, new_id)
    assert (old.status, old.superseded_by) == ("superseded", new_id)
    assert (new.lineage_id, new.supersedes, new.version) == (old.lineage_id, old_id, 2)
    assert new.holder_name == "Tess Okafor" and new.expires_on == old.expires_on
    [entry] = audit_rows(db, "certificate.reissued")
    assert (entry.subject_id, entry.actor_id) == (new_id, cohort.trainer.id)
    assert entry.details == {"version": 2, "note": "Married; asked by email on 3 May"}
    assert [row.subject_id for row in audit_rows(db, "certificate.superseded")] == [old_id]
    verifier = new_client(trainer.app)
    assert "Tess Okafor" in verifier.get(f"/verify/{new_id}").text
    assert f'href="/verify/{new_id}"' in verifier.get(f"/verify/{old_id}").text


def test_reissue_rejects_a_blank_overlong_or_unchanged_name_and_a_missing_note(
    cohort: Cohort, db: Database, settings: Settings
) -> None:
    trainer = cohort.trainer.client
    certificate_id = certify(db, settings, cohort.trainee.id)
    action = f"{cohort.trainee_page}/certificate/reissue"
    base = {"certificate_id": certificate_id, "note": "Name change", "confirm": "yes"}
    for name, message in [
        ("   ", "Write the new name as it should be printed."),
        ("x" * 201, "A printed name can have at most 200 characters; this one has 201."),
        (" Tess Trainee ", "The certificate already carries this name."),
    ]:
        bad = post(trainer, action, {**base, "holder_name": name}, page=cohort.trainee_page)
        assert bad.status_code == 422, name
        assert message in bad.text and 'id="f-holder_name-error"' in bad.text
        assert "Yes, re-issue" not in bad.text  # the form again, not a confirmation
    no_note = post(
        trainer,
        action,
        {**base, "holder_name": "Tess Okafor", "note": "  "},
        page=cohort.trainee_page,
    )
    assert no_note.status_code == 422
    assert "Write a note for the audit log: why the name changed" in no_note.text
    huge = post(trainer, action, {**base, "holder_name": "x" * 5000}, page=cohort.trainee_page)
    assert huge.status_code == 422
    assert certificates(db) == 1 and stored(db, certificate_id).status == "issued"
    assert audit_rows(db, "certificate.reissued") == []


def test_renewing_and_reissuing_need_the_csrf_token_the_trainer_role_and_their_own_cohort(
    app: FastAPI, cohort: Cohort, db: Database, settings: Settings
) -> None:
    certificate_id = certify(db, settings, cohort.trainee.id, expires_in=30)
    forms = {
        "renewal": {"continuing_education_hours": "5", "ethics_hours": "1"},
        "reissue": {"holder_name": "Tess Okafor", "note": "Name change"},
    }
    other = person(app, db, "trainer", name="Sol")
    admin = person(app, db, "admin", name="Ada")
    for action, fields in forms.items():
        path = f"{cohort.trainee_page}/certificate/{action}"
        form = {"certificate_id": certificate_id, **fields, "confirm": "yes"}
        no_token = cohort.trainer.client.post(path, data=form, follow_redirects=False)
        assert no_token.status_code == 403 and "nothing was changed" in no_token.text
        trainee = post(cohort.trainee.client, path, form, page="/dashboard")
        assert trainee.status_code == 403, action
        assert post(other.client, path, form, page="/train").status_code == 404, action
        # An administrator may: the confirmation page, before anything changes.
        confirm = post(admin.client, path, {**form, "confirm": ""}, page="/train")
        assert confirm.status_code == 200, action
    assert certificates(db) == 1 and stored(db, certificate_id).status == "issued"
    stale = post(
        cohort.trainer.client,
        f"{cohort.trainee_page}/certificate/reissue",
        {**forms["reissue"], "certificate_id": "PP-0000-0000-0000-0000-0000-0000-000"},
        page=cohort.trainee_page,
    )
    assert stale.status_code == 404 and "no certificate with that ID" in stale.text
