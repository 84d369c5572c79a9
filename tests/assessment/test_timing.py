"""The server owns the clock: time limits, late answers and the pause between attempts.
Time is moved by rewriting the attempt's stored times, never by sleeping."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.store import Database
from app.store.base import utcnow
from tests.assessment.conftest import attempt_row, move_clock, post, ready
from tests.journeys import PROGRAMME, api_token, csrf_from, register

OVERVIEW = f"/assess/{PROGRAMME}/listening-check"


@pytest.fixture
def curriculum_path(timed_curriculum: Path) -> Path:
    return timed_curriculum


def start(client: TestClient) -> int:
    started = post(client, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    assert started.status_code == 303, started.text
    return int(started.headers["location"].rsplit("/", 1)[1])


def test_the_deadline_is_set_by_the_server(trainee: TestClient, db: Database) -> None:
    attempt_id = start(trainee)
    row = attempt_row(db, attempt_id)
    assert row.deadline is not None
    assert row.deadline - row.started_at == timedelta(minutes=20)
    assert "Time left: about 19 minutes" in trainee.get(f"/attempts/{attempt_id}").text or (
        "Time left: about 20 minutes" in trainee.get(f"/attempts/{attempt_id}").text
    )


def test_answers_saved_before_the_deadline_count_and_later_ones_do_not(
    trainee: TestClient, db: Database
) -> None:
    attempt_id = start(trainee)
    page = f"/attempts/{attempt_id}"
    post(trainee, page, {"q1.option": "b", "action": "save"}, from_page=page)
    token = csrf_from(trainee, page)  # the form was loaded in time...
    # ...and submitted 25 minutes later: past the 20-minute limit and the 2-minute grace.
    now = utcnow()
    move_clock(
        db, attempt_id, started_at=now - timedelta(minutes=25), deadline=now - timedelta(minutes=5)
    )
    answers = {"q1.option": "b", "q2.value": "false", "q3.options": ["a", "c"]}
    late = trainee.post(
        page, data={**answers, "action": "submit", "csrf_token": token}, follow_redirects=False
    )
    assert late.headers["location"] == f"{page}/review?late=1"
    row = attempt_row(db, attempt_id)
    assert row.submitted_how in ("late", "time-up") and row.points == 1
    assert row.answers["q1"] == {"option": "b"} and not row.answers["q2"]["value"]
    review = trainee.get(late.headers["location"]).text
    assert "answers sent after it do not" in review and "1 of 3 points" in review


def test_saving_within_the_grace_period_still_counts(trainee: TestClient, db: Database) -> None:
    attempt_id = start(trainee)
    now = utcnow()
    move_clock(db, attempt_id, deadline=now - timedelta(seconds=30))
    page = f"/attempts/{attempt_id}"
    saved = post(trainee, page, {"q1.option": "b", "action": "save"}, from_page=OVERVIEW)
    assert saved.headers["location"] == f"{page}?saved=1"
    assert attempt_row(db, attempt_id).answers["q1"] == {"option": "b"}


def test_an_attempt_left_open_is_closed_by_the_server(trainee: TestClient, db: Database) -> None:
    attempt_id = start(trainee)
    page = f"/attempts/{attempt_id}"
    post(trainee, page, {"q1.option": "b", "action": "save"}, from_page=page)
    now = utcnow()
    move_clock(db, attempt_id, deadline=now - timedelta(minutes=3))
    assert trainee.get(page, follow_redirects=False).headers["location"] == f"{page}/review"
    row = attempt_row(db, attempt_id)
    assert row.submitted_how == "time-up" and row.points == 1


def test_the_api_refuses_late_writes(client: TestClient, db: Database) -> None:
    email = register(client)
    ready(client)
    client.cookies.clear()
    auth = api_token(client, email)
    base = f"/api/v1/programmes/{PROGRAMME}/assessments/listening-check"
    attempt = client.post(f"{base}/attempts", headers=auth).json()
    assert 1150 <= attempt["seconds_left"] <= 1200
    path = f"/api/v1/attempts/{attempt['id']}"
    client.put(f"{path}/answers", json={"answers": {"q1": {"option": "b"}}}, headers=auth)
    move_clock(db, attempt["id"], deadline=utcnow() - timedelta(minutes=10))
    refused = client.put(
        f"{path}/answers", json={"answers": {"q2": {"value": False}}}, headers=auth
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/time-up")
    result = client.get(f"{path}/review", headers=auth).json()
    assert result["points"] == 1 and result["submitted_how"] == "time-up"


def test_the_pause_between_attempts_and_the_limit(trainee: TestClient, db: Database) -> None:
    first = start(trainee)
    post(trainee, f"/attempts/{first}", {"action": "submit"}, from_page=OVERVIEW)
    refused = post(trainee, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    assert refused.status_code == 409
    until = attempt_row(db, first).submitted_at + timedelta(minutes=30)  # type: ignore[operator]
    assert f"You can try again after {until:%H:%M}" in refused.text
    assert re.search(r"a 30-minute pause between attempts", refused.text)

    move_clock(db, first, submitted_at=utcnow() - timedelta(minutes=31))
    second = start(trainee)
    assert second != first
    post(trainee, f"/attempts/{second}", {"action": "submit"}, from_page=OVERVIEW)
    move_clock(db, second, submitted_at=utcnow() - timedelta(minutes=31))
    limit = post(trainee, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    assert limit.status_code == 409
    assert "You have used all 2 attempts at this assessment." in limit.text
