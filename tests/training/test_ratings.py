"""Rating queue, agreement between raters by month, level-1 follow-ups, moderation, and the
evidence on the dashboard and the trainee page (over the assessment service functions)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select

from app import assessment
from app.scoring import weighted_kappa
from app.store import Database
from app.store.accounts import User
from app.store.assessment import Attempt, FreeTextResponse
from app.store.base import utcnow
from app.store.learning import Enrolment
from tests.journeys import enrol, post_form
from tests.training.factories import Person, create_cohort, join, join_code, person

ROLE_PLAY = "listening-role-play"


def _enrolment(session, user_id: int) -> Enrolment:  # type: ignore[no-untyped-def]
    return session.scalars(select(Enrolment).where(Enrolment.user_id == user_id)).one()


def rate(db: Database, session_id: int, rater: Person, levels: dict[str, int]) -> None:
    with db.unit_of_work() as session:
        from app.store.assessment import RolePlaySession

        rp = session.get(RolePlaySession, session_id)
        user = session.get(User, rater.id)
        assert rp is not None and user is not None
        items = {k: (v, "said so" if v == 1 else "") for k, v in levels.items()}
        assessment.submit_rating(session, rp, user, items)


def open_role_play(db: Database, trainee: Person, trainer: Person) -> int:
    with db.unit_of_work() as session:
        user = session.get(User, trainer.id)
        assert user is not None
        return assessment.open_session(session, _enrolment(session, trainee.id), ROLE_PLAY, user).id


def test_the_queue_lists_role_plays_waiting_for_a_first_or_second_rating(
    app: FastAPI, db: Database
) -> None:
    trainer = person(app, db, "trainer", name="Rater One")
    other = person(app, db, "trainer", name="Rater Two")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Queued Trainee")
    join(trainee, join_code(db, cohort_id))
    first = open_role_play(db, trainee, trainer)
    second = open_role_play(db, trainee, trainer)
    rate(db, second, trainer, {"open-questions": 3, "confidentiality": 3})
    page = trainer.client.get("/train/ratings").text
    assert f'data-session="{first}"' in page and f'href="/train/roleplays/{first}"' in page
    assert "first rating" in page and "second rating" in page
    assert "You rated it; a second trainer is needed" in page
    # Not their cohort: another trainer sees none of it.
    assert "Queued Trainee" not in other.client.get("/train/ratings").text
    admin = person(app, db, "admin")
    rate(db, second, admin, {"open-questions": 3, "confidentiality": 4})
    page = trainer.client.get("/train/ratings").text
    assert f'data-session="{second}"' not in page, "two ratings: no longer waiting"


def test_two_raters_scores_give_the_agreement_figures_on_the_page(
    app: FastAPI, db: Database
) -> None:
    one = person(app, db, "trainer", name="Rater One")
    two = person(app, db, "trainer", name="Rater Two")
    admin = person(app, db, "admin", name="Lead")
    trainee = person(app, db, "trainee")
    enrol(trainee.client)  # in no cohort: any trainer may assess them
    a, b = open_role_play(db, trainee, one), open_role_play(db, trainee, one)
    rate(db, a, one, {"open-questions": 3, "confidentiality": 2})
    rate(db, a, two, {"open-questions": 4, "confidentiality": 2})
    rate(db, b, one, {"open-questions": 2, "confidentiality": 4})
    rate(db, b, two, {"open-questions": 2, "confidentiality": 3})
    mine, theirs = [3, 2, 2, 4], [4, 2, 2, 3]
    mad = sum(abs(x - y) for x, y in zip(mine, theirs, strict=True)) / 4
    kappa = weighted_kappa(mine, theirs)
    month = utcnow().strftime("%Y-%m")
    page = admin.client.get("/train/ratings/agreement").text
    for rater in (one, two):
        row = re.search(rf'<tr data-rater="{rater.id}" data-month="{month}">(.*?)</tr>', page, re.S)
        assert row, page
        assert f'<td data-col="mad">{mad:.2f}</td>' in row.group(1)
        assert f'<td data-col="kappa">{kappa:.2f}</td>' in row.group(1)
        assert "<td>2</td><td>4</td>" in row.group(1)  # 2 role-plays, 4 rubric items
    own = one.client.get("/train/ratings/agreement").text
    assert f'data-rater="{one.id}"' in own and f'data-rater="{two.id}"' not in own


def test_a_level_one_rating_is_on_the_follow_up_list(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Harm Case")
    join(trainee, join_code(db, cohort_id))
    rp = open_role_play(db, trainee, trainer)
    rate(db, rp, trainer, {"open-questions": 1, "confidentiality": 3})
    page = trainer.client.get("/train/ratings").text
    section = page.split('id="followups-heading"')[1].split('id="queue-heading"')[0]
    assert "Harm Case" in section and "open-questions" in section
    assert f'href="/train/roleplays/{rp}"' in section


def _free_text_answer(db: Database, trainee: Person, *, passed: bool | None = None) -> int:
    with db.unit_of_work() as session:
        enrolment = _enrolment(session, trainee.id)
        attempt = Attempt(
            enrolment_id=enrolment.id,
            release_id=enrolment.release_id,
            assessment_id="listening-check",
            kind="knowledge-check",
            attempt_no=1,
            seed=1,
            plan={},
            started_at=utcnow() - timedelta(minutes=5),
            submitted_at=utcnow(),
            passed=passed,
            fraction=0.4 if passed is False else None,
        )
        session.add(attempt)
        session.flush()
        answer = FreeTextResponse(
            attempt_id=attempt.id,
            item_id="say-back",
            text="Have you tried <b>yoga</b>?",
            feedback={"message": "Advising is a roadblock.", "detections": []},
        )
        session.add(answer)
        session.flush()
        return answer.id


def test_moderation_lists_answers_and_an_override_reaches_the_trainee(
    app: FastAPI, db: Database
) -> None:
    trainer = person(app, db, "trainer")
    other = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Writer")
    join(trainee, join_code(db, cohort_id))
    answer = _free_text_answer(db, trainee)
    page = trainer.client.get("/train/moderation").text
    assert "Have you tried &lt;b&gt;yoga&lt;/b&gt;?" in page
    assert f'action="/train/free-text/{answer}/override"' in page
    assert "Writer" not in other.client.get("/train/moderation").text
    response = post_form(
        trainer.client,
        f"/train/free-text/{answer}/override",
        {"note": "Try reflecting what they feel before any idea."},
        from_page="/train/moderation",
    )
    assert response.status_code == 303
    assert "Nothing is waiting." in trainer.client.get("/train/moderation").text
    evidence = trainer.client.get(f"/train/cohorts/{cohort_id}/trainees/{trainee.id}").text
    assert "overridden" in evidence and "Try reflecting what they feel" in evidence
    with db.unit_of_work(write=False) as session:
        stored = session.get(FreeTextResponse, answer)
        assert stored is not None and stored.review_status == "overridden"


def test_failed_attempts_show_as_stuck_and_levels_and_certificates_reach_the_csv(
    app: FastAPI, db: Database
) -> None:
    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Struggling")
    join(trainee, join_code(db, cohort_id))
    _free_text_answer(db, trainee, passed=False)
    rp = open_role_play(db, trainee, trainer)
    rate(db, rp, trainer, {"open-questions": 4, "confidentiality": 4})
    page = trainer.client.get(f"/train/cohorts/{cohort_id}").text
    stuck = page.split('id="stuck-heading"')[1].split('id="chart-heading"')[0]
    assert "Struggling" in stuck and "latest attempt not passed" in stuck
    export = trainer.client.get(f"/train/cohorts/{cohort_id}/export.csv").text
    rows = list(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    header, row = rows[0], rows[1]
    assert row[header.index("Failed attempts")] == "1"
    levels = [row[i] for i, h in enumerate(header) if h.startswith("Competency: ")]
    assert any(level not in ("Not yet assessed",) for level in levels), levels
    assert row[header.index("Certificate ID")] == ""
    assert row[header.index("Certificate status")] == "none"
    evidence = trainer.client.get(f"/train/cohorts/{cohort_id}/trainees/{trainee.id}").text
    assert "not passed" in evidence and "Observed role-play" in evidence


def test_the_certificate_id_and_status_are_on_the_page_and_in_the_csv(
    app: FastAPI, db: Database
) -> None:
    from app.store.certificates import Certificate

    trainer = person(app, db, "trainer")
    cohort_id = create_cohort(trainer)
    trainee = person(app, db, "trainee", name="Certified")
    join(trainee, join_code(db, cohort_id))
    with db.unit_of_work() as session:
        enrolment = _enrolment(session, trainee.id)
        for version, status in ((1, "superseded"), (2, "revoked")):
            session.add(
                Certificate(
                    public_id=f"PP-TEST-000{version}",
                    lineage_id="PP-TEST-0001",
                    version=version,
                    enrolment_id=enrolment.id,
                    user_id=trainee.id,
                    programme_id="sample-programme",
                    holder_name="Certified",
                    record_json="{}",
                    signature="sig",
                    kid="k1",
                    pdf=b"%PDF",
                    pdf_sha256="0" * 64,
                    status=status,
                    status_list_index=version,
                    issued_at=utcnow() - timedelta(days=3 - version),
                )
            )
    page = trainer.client.get(f"/train/cohorts/{cohort_id}").text
    assert "PP-TEST-0002 (revoked)" in page
    rows = list(
        csv.reader(
            io.StringIO(
                trainer.client.get(f"/train/cohorts/{cohort_id}/export.csv").text.lstrip("\ufeff")
            )
        )
    )
    header, row = rows[0], rows[1]
    assert row[header.index("Certificate ID")] == "PP-TEST-0002"
    assert row[header.index("Certificate status")] == "revoked"
