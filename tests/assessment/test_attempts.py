"""A trainee's attempt at a knowledge check, through the real app: start, autosave, submit once,
review with explanations; the same through the JSON API; and nobody else's attempt is reachable."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from app.store import Database
from tests.assessment.conftest import attempt_row, post, ready
from tests.journeys import PROGRAMME, api_token, register

OVERVIEW = f"/assess/{PROGRAMME}/listening-check"
RIGHT = {"q1.option": "b", "q2.value": "false", "q3.options": ["a", "c"]}


def start(client: TestClient) -> int:
    started = post(client, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    assert started.status_code == 303, started.text
    found = re.fullmatch(r"/attempts/(\d+)", started.headers["location"])
    assert found, started.headers["location"]
    return int(found.group(1))


def test_the_whole_attempt_story(trainee: TestClient, db: Database) -> None:
    lesson = trainee.get(f"/learn/{PROGRAMME}/listening-basics/open-questions")
    assert f'href="{OVERVIEW}"' in lesson.text

    overview = trainee.get(OVERVIEW)
    assert "Start an attempt" in overview.text and "0 of 3 used" in overview.text
    attempt_id = start(trainee)
    page = trainee.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    assert page.text.count("<fieldset") >= 3 and page.text.count("<legend>") >= 3
    assert "<script" not in page.text
    assert 'name="q1.option"' in page.text and 'name="q3.options"' in page.text

    # Autosave, twice (a retried POST): the answer is stored once, and shown again.
    for _ in range(2):
        saved = post(
            trainee, f"/attempts/{attempt_id}", {"q1.option": "b", "action": "save"},
            from_page=f"/attempts/{attempt_id}",
        )  # fmt: skip
        assert saved.headers["location"] == f"/attempts/{attempt_id}?saved=1"
    assert attempt_row(db, attempt_id).answers["q1"] == {"option": "b"}
    again = trainee.get(f"/attempts/{attempt_id}?saved=1")
    assert "Your answers are saved." in again.text
    assert re.search(r'value="b" checked', again.text)

    # Starting again while this one is open continues it rather than opening another.
    assert start(trainee) == attempt_id

    submitted = post(
        trainee, f"/attempts/{attempt_id}", {**RIGHT, "action": "submit"},
        from_page=f"/attempts/{attempt_id}",
    )  # fmt: skip
    assert submitted.headers["location"] == f"/attempts/{attempt_id}/review"
    row = attempt_row(db, attempt_id)
    assert row.submitted and row.points == 3 and row.passed and row.submitted_how == "trainee"

    review = trainee.get(f"/attempts/{attempt_id}/review")
    assert "3 of 3 points (100%)" in review.text
    assert "Open questions invite the person to tell their story." in review.text
    assert "the statement is" in review.text.lower()
    assert review.text.count("How this was scored:") == 3

    # A second submit changes nothing and says so.
    twice = post(
        trainee, f"/attempts/{attempt_id}", {"q1.option": "a", "action": "submit"},
        from_page=OVERVIEW,
    )  # fmt: skip
    assert twice.headers["location"].endswith("/review?already=1")
    assert attempt_row(db, attempt_id).answers["q1"] == {"option": "b"}
    assert "submitted already" in trainee.get(twice.headers["location"]).text
    # The open attempt page of a submitted attempt leads to its review.
    assert trainee.get(f"/attempts/{attempt_id}", follow_redirects=False).status_code == 303


def test_a_wrong_answer_is_explained(trainee: TestClient) -> None:
    attempt_id = start(trainee)
    post(
        trainee, f"/attempts/{attempt_id}",
        {"q1.option": "a", "q2.value": "true", "q3.options": ["a", "b"], "action": "submit"},
        from_page=OVERVIEW,
    )  # fmt: skip
    review = trainee.get(f"/attempts/{attempt_id}/review").text
    assert "You chose a; the correct answer is b. 0 of 1 point." in review
    assert "You answered true; the statement is false." in review
    assert "not passed yet" in review


def test_a_tampered_option_is_refused_and_nothing_is_lost(trainee: TestClient) -> None:
    attempt_id = start(trainee)
    bad = post(
        trainee, f"/attempts/{attempt_id}",
        {"q1.option": "zz", "q2.value": "false", "action": "save"}, from_page=OVERVIEW,
    )  # fmt: skip
    assert bad.status_code == 422
    assert "unknown option id" in bad.text
    assert 'value="false" checked' in bad.text


def test_the_attempt_limit(trainee: TestClient, db: Database) -> None:
    for _ in range(3):
        attempt_id = start(trainee)
        post(trainee, f"/attempts/{attempt_id}", {"action": "submit"}, from_page=OVERVIEW)
    refused = post(trainee, f"{OVERVIEW}/attempts", {}, from_page=OVERVIEW)
    assert refused.status_code == 409
    assert "You have used all 3 attempts at this assessment." in refused.text
    assert "Start another attempt" not in trainee.get(OVERVIEW).text


def test_the_attempt_through_the_api(client: TestClient, db: Database) -> None:
    email = register(client)
    ready(client)
    client.cookies.clear()
    auth = api_token(client, email)
    base = f"/api/v1/programmes/{PROGRAMME}/assessments/listening-check"
    status = client.get(base, headers=auth).json()
    assert status["can_start"] and status["attempts_used"] == 0 and status["max_attempts"] == 3

    started = client.post(f"{base}/attempts", headers=auth)
    assert started.status_code == 201
    attempt = started.json()
    assert {i["id"] for i in attempt["items"]} == {"q1", "q2", "q3"}
    path = f"/api/v1/attempts/{attempt['id']}"
    assert client.get(f"{path}/review", headers=auth).status_code == 409

    keyed = {**auth, "Idempotency-Key": "save-1"}
    body = {"answers": {"q1": {"option": "b"}, "q2": {"value": False}}}
    first = client.put(f"{path}/answers", json=body, headers=keyed)
    replay = client.put(f"{path}/answers", json=body, headers=keyed)
    assert first.status_code == replay.status_code == 200
    assert replay.headers.get("idempotent-replayed") == "true"
    assert first.json()["answers"] == {"q1": {"option": "b"}, "q2": {"value": False}}
    reused = client.put(f"{path}/answers", json={"answers": {"q1": None}}, headers=keyed)
    assert reused.status_code == 422
    invalid = client.put(f"{path}/answers", json={"answers": {"q1": {"option": 7}}}, headers=auth)
    assert invalid.status_code == 422 and invalid.json()["errors"]["q1"]
    assert invalid.headers["content-type"] == "application/problem+json"

    done = client.post(
        f"{path}/submit", json={"answers": {"q3": {"options": ["a", "c"]}}}, headers=auth
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["points"] == 3 and result["passed"]
    q3 = next(i for i in result["items"] if i["item"]["id"] == "q3")
    assert q3["correct_options"] == ["a", "c"] and "max(0," in q3["explanation"]
    again = client.post(f"{path}/submit", json={}, headers=auth)
    assert again.status_code == 409 and again.json()["review_url"] == f"{path}/review"
    assert client.get(f"{path}/review", headers=auth).json()["points"] == 3
    late_save = client.put(f"{path}/answers", json={"answers": {"q1": None}}, headers=auth)
    assert late_save.status_code == 409
    assert client.get(base, headers=auth).json()["attempts_used"] == 1


def test_another_trainee_cannot_open_or_submit_my_attempt(
    trainee: TestClient, browser: Callable[[], TestClient]
) -> None:
    attempt_id = start(trainee)
    post(
        trainee, f"/attempts/{attempt_id}", {"q1.option": "b", "action": "save"},
        from_page=OVERVIEW,
    )  # fmt: skip
    mallory = browser()
    mallory_email = register(mallory, name="Mallory")
    ready(mallory)
    for path in (f"/attempts/{attempt_id}", f"/attempts/{attempt_id}/review"):
        assert mallory.get(path).status_code == 404
    submit = post(
        mallory, f"/attempts/{attempt_id}", {"q1.option": "a", "action": "submit"},
        from_page=OVERVIEW,
    )  # fmt: skip
    assert submit.status_code == 404

    mallory.cookies.clear()
    auth = api_token(mallory, mallory_email)
    path = f"/api/v1/attempts/{attempt_id}"
    assert mallory.get(path, headers=auth).status_code == 404
    assert mallory.get(f"{path}/review", headers=auth).status_code == 404
    put = mallory.put(f"{path}/answers", json={"answers": {"q1": {"option": "a"}}}, headers=auth)
    assert put.status_code == 404
    assert mallory.post(f"{path}/submit", json={}, headers=auth).status_code == 404

    mine = trainee.get(f"/attempts/{attempt_id}")
    assert mine.status_code == 200 and 'value="b" checked' in mine.text
