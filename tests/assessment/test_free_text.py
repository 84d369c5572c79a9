"""Free-text answers on the real programme: automatic listening feedback stored with the
answer, shown as formative; a trainer confirms or overrides it (audited) and the trainee reads
the trainer's note on the review page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.assessment import start_attempt
from app.catalog import load_release
from app.store import Database
from app.store.assessment import FreeTextResponse
from app.store.audit import AuditEntry
from app.store.learning import Enrolment
from tests.assessment.conftest import ROOT, post, set_role
from tests.journeys import enrol, register

REPLY = "It sounds like you're worn out from trying. What keeps you coming?"


@pytest.fixture
def curriculum_path() -> Path:
    return ROOT


def test_feedback_is_formative_and_a_trainer_can_moderate_it(
    client: TestClient, db: Database, browser: Callable[[], TestClient]
) -> None:
    register(client, "writer@example.org", name="Wren")
    enrol(client, "peer-support-foundations")
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        release = load_release(session, enrolment.release_id)
        attempt_id = start_attempt(session, enrolment, release, "active-listening-say-back").id
    page = f"/attempts/{attempt_id}"
    form = client.get(page).text
    fields = sorted(
        set(
            part.split('"')[0] for part in form.split('name="')[1:] if ".text" in part.split('"')[0]
        )
    )
    assert fields, "the attempt shows text boxes"
    data = {name: REPLY for name in fields}
    done = post(client, page, {**data, "action": "submit"}, from_page=page)
    assert done.headers["location"] == f"{page}/review"
    review = client.get(f"{page}/review").text
    assert "formative — does not count" in review
    assert "reflection" in review and "A model answer:" in review

    with db.unit_of_work(write=False) as session:
        responses = list(session.scalars(select(FreeTextResponse).order_by(FreeTextResponse.id)))
    assert len(responses) == len(fields)
    assert responses[0].text == REPLY and "reflection" in responses[0].feedback["skills"]
    assert responses[0].review_status == "automatic"

    trainer = browser()
    set_role(db, register(trainer, "tutor@example.org", name="Tutor"), "trainer")
    first, second = responses[0].id, responses[1].id
    moderation = trainer.get(f"/train/free-text/{first}")
    assert moderation.status_code == 200 and REPLY.replace("'", "&#39;") in moderation.text
    assert client.get(f"/train/free-text/{first}").status_code == 403  # not for trainees
    overridden = post(
        trainer, f"/train/free-text/{first}/override",
        {"note": "TUTOR-NOTE: a lovely reflection; the question could be softer."},
        from_page=f"/train/free-text/{first}",
    )  # fmt: skip
    assert overridden.status_code == 303
    empty = post(
        trainer, f"/train/free-text/{second}/override", {"note": ""},
        from_page=f"/train/free-text/{second}",
    )  # fmt: skip
    assert empty.status_code == 422
    post(
        trainer,
        f"/train/free-text/{second}/confirm",
        {"note": ""},
        from_page=f"/train/free-text/{second}",
    )

    review = client.get(f"{page}/review").text
    assert "Your trainer replaced the automatic feedback: TUTOR-NOTE" in review
    assert "Your trainer confirmed this feedback." in review
    with db.unit_of_work(write=False) as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"feedback.overridden", "feedback.confirmed"} <= actions
