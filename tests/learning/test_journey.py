"""A trainee's story through the pages: enrol, read, complete, resume, reflect, move on."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.catalog import publish_release
from app.compiler import compile_curriculum
from app.store import Database
from app.store.learning import Enrolment, LessonProgress, Reflection
from tests.conftest import SAMPLE_CURRICULUM
from tests.journeys import PROGRAMME, complete, enrol, post_form, register

LESSONS = [
    ("welcome", "what-peer-support-is"),
    ("welcome", "how-this-course-works"),
    ("listening-basics", "open-questions"),
    ("listening-basics", "practice"),
    ("boundaries-basics", "confidentiality"),
]


def lesson_url(key: tuple[str, str]) -> str:
    return f"/learn/{PROGRAMME}/{key[0]}/{key[1]}"


def test_register_enrol_read_complete_resume_and_the_figures_add_up(client: TestClient) -> None:
    register(client, name="Ana")
    outline = client.get(f"/learn/{PROGRAMME}")
    assert "Start this programme" in outline.text
    enrol(client)
    outline = client.get(f"/learn/{PROGRAMME}")
    assert "0 of 5 lessons completed (0%)" in outline.text
    assert '<progress id="progress-sample-programme" max="5" value="0">' in outline.text
    assert outline.text.count("Not started") == 3

    first = client.get(lesson_url(LESSONS[0]))
    assert first.status_code == 200 and "Mark as complete" in first.text
    assert first.headers["cache-control"] == "no-store"
    done = complete(client, *LESSONS[0])
    assert done.headers["location"] == lesson_url(LESSONS[1]) + "?completed=1"
    complete(client, *LESSONS[1])
    complete(client, *LESSONS[1])  # twice is harmless
    client.get(lesson_url(LESSONS[2]))  # opened, not finished

    outline = client.get(f"/learn/{PROGRAMME}")
    assert "2 of 5 lessons completed (40%)" in outline.text
    assert "Completed" in outline.text and "Not started" in outline.text
    dashboard = client.get("/dashboard")
    assert "2 of 5 lessons completed (40%)" in dashboard.text
    # Resume: the last lesson opened, by name; hours: 20 + 10 estimated minutes completed.
    assert f'href="{lesson_url(LESSONS[2])}">Continue: Open questions' in dashboard.text
    assert "0.5 h" in dashboard.text
    assert "Active listening" in dashboard.text and "Not yet assessed" in dashboard.text
    assert "Not yet eligible" in dashboard.text


def test_prerequisites_gate_a_module_with_a_message_naming_what_to_finish(
    client: TestClient,
) -> None:
    register(client)
    enrol(client)
    locked = client.get(lesson_url(LESSONS[4]))
    assert locked.status_code == 403
    assert "This module opens when you have finished" in locked.text
    assert "Welcome to peer support" in locked.text
    assert "Listening I: open questions" in locked.text
    outline = client.get(f"/learn/{PROGRAMME}")
    assert "Opens after:" in outline.text
    for key in LESSONS[:4]:
        complete(client, *key)
    assert client.get(lesson_url(LESSONS[4])).status_code == 200


def rewind(db: Database, by: timedelta) -> None:
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        assert enrolment.position_at is not None
        enrolment.position_at -= by


def test_time_spent_is_counted_between_lesson_events_and_capped_per_visit(
    client: TestClient, db: Database
) -> None:
    register(client)
    enrol(client)
    client.get(lesson_url(LESSONS[0]))
    rewind(db, timedelta(minutes=12))  # the trainee read for 12 minutes
    client.get(lesson_url(LESSONS[1]))
    rewind(db, timedelta(hours=5))  # then left the phone open for 5 hours
    complete(client, *LESSONS[1])
    with db.unit_of_work(write=False) as session:
        rows = session.execute(select(LessonProgress.lesson_id, LessonProgress.seconds_spent))
        seconds = {lesson_id: spent for lesson_id, spent in rows}
    assert 12 * 60 <= seconds["what-peer-support-is"] < 12 * 60 + 30
    assert 20 * 60 <= seconds["how-this-course-works"] < 20 * 60 + 30


def test_a_reflection_is_saved_privately_and_shown_only_to_its_author(
    client: TestClient, db: Database
) -> None:
    register(client)
    enrol(client)
    page = lesson_url(LESSONS[0])
    text = "When I was in hospital, Sam listened <b>without judging</b>."
    response = post_form(
        client,
        f"{page}/reflections/why-peer-support",
        {"text": text, "share": "yes"},
        from_page=page,
    )
    assert response.status_code == 303
    shown = client.get(page + "?saved=why-peer-support")
    assert "When I was in hospital, Sam listened &lt;b&gt;without judging&lt;/b&gt;." in shown.text
    assert 'name="share" value="yes" checked' in shown.text
    assert shown.headers["cache-control"] == "no-store"
    with db.unit_of_work(write=False) as session:
        saved = session.scalars(select(Reflection)).one()
        assert saved.text == text and saved.shared_with_trainer
    # Saving again without the box ticked replaces it and stops sharing.
    post_form(
        client, f"{page}/reflections/why-peer-support", {"text": "Changed my mind."}, from_page=page
    )
    with db.unit_of_work(write=False) as session:
        saved = session.scalars(select(Reflection)).one()
        assert saved.text == "Changed my mind." and not saved.shared_with_trainer


def test_an_over_long_reflection_comes_back_with_the_text_and_an_error(client: TestClient) -> None:
    register(client)
    enrol(client)
    page = lesson_url(LESSONS[0])
    text = "word " * 5000
    response = post_form(
        client, f"{page}/reflections/why-peer-support", {"text": text}, from_page=page
    )
    assert response.status_code == 422
    assert "Reflections can be up to 20,000 characters" in response.text
    assert text.strip() in response.text
    assert (
        'aria-describedby="reflection-why-peer-support-prompt reflection-why-peer-support-hint reflection-why-peer-support-error"'
        in response.text
    )


def test_lessons_need_an_account_and_an_enrolment(client: TestClient) -> None:
    response = client.get(lesson_url(LESSONS[0]), follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    register(client)
    response = client.get(lesson_url(LESSONS[0]), follow_redirects=False)
    assert response.headers["location"] == f"/learn/{PROGRAMME}?enrol_first=1"


@pytest.fixture
def changed_curriculum(tmp_path: Path) -> Path:
    """The sample curriculum, version 0.2.0: the practice lesson gone."""
    copy = tmp_path / "curriculum-v2"
    shutil.copytree(SAMPLE_CURRICULUM, copy)
    manifest = copy / "curriculum" / "sample-programme.yaml"
    manifest.write_text(manifest.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    (copy / "modules" / "listening-basics" / "02-practice.md").unlink()
    return copy


def test_a_new_release_shows_what_changed_and_completed_lessons_carry_over(
    client: TestClient, db: Database, changed_curriculum: Path
) -> None:
    register(client)
    enrol(client)
    for key in LESSONS[:4]:
        complete(client, *key)
    result = compile_curriculum(changed_curriculum)
    assert result.release is not None, [str(d) for d in result.errors]
    with db.unit_of_work() as session:
        publish_release(session, result.release)
    outline = client.get(f"/learn/{PROGRAMME}")
    assert "A newer version of this programme is available" in outline.text
    assert "Lesson removed: Listening I: open questions: Practice with a partner" in outline.text
    assert "4 of 5 lessons completed" in outline.text  # still on 0.1.0 until they choose
    moved = post_form(
        client, f"/learn/{PROGRAMME}/move-to-new-version", {}, from_page=f"/learn/{PROGRAMME}"
    )
    assert moved.status_code == 303
    outline = client.get(f"/learn/{PROGRAMME}")
    assert "Version 0.2.0" in outline.text and "newer version" not in outline.text
    assert "3 of 4 lessons completed (75%)" in outline.text


def test_reflection_text_never_reaches_the_logs(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "SECRET-DISCLOSURE-never-log-me"
    caplog.set_level(logging.DEBUG)
    register(client)
    enrol(client)
    page = lesson_url(LESSONS[0])
    post_form(client, f"{page}/reflections/why-peer-support", {"text": secret}, from_page=page)
    post_form(
        client, f"{page}/reflections/why-peer-support", {"text": secret * 800}, from_page=page
    )  # too long: shown again with an error
    client.get(page)
    client.get("/account/export")
    assert secret not in caplog.text
