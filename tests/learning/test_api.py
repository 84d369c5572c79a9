"""The JSON API: the same story as the pages, idempotent progress writes, problem details."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.store import Database
from app.store.accounts import User
from app.store.learning import IdempotencyRecord, LessonProgress
from tests.journeys import PASSWORD, PROGRAMME, api_token, post_form, register

BASE = f"/api/v1/enrolments/{PROGRAMME}"


@pytest.fixture
def auth(client: TestClient) -> dict[str, str]:
    email = register(client)
    client.cookies.clear()  # the API client below uses its bearer token only
    return api_token(client, email)


def test_the_learner_story_through_the_api(client: TestClient, auth: dict[str, str]) -> None:
    programmes = client.get("/api/v1/programmes", headers=auth).json()
    assert [p["id"] for p in programmes] == [PROGRAMME] and not programmes[0]["enrolled"]
    enrolled = client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    assert enrolled.status_code == 201
    assert enrolled.json()["progress"]["lessons_total"] == 5
    assert enrolled.json()["competencies"][0]["level"] == "Not yet assessed"

    outline = client.get(f"{BASE}/outline", headers=auth).json()
    assert [m["status"] for m in outline["modules"]] == ["not-started"] * 3
    lesson = client.get(f"{BASE}/lessons/welcome/what-peer-support-is", headers=auth)
    assert lesson.headers["cache-control"] == "no-store"
    kinds = [s["kind"] for s in lesson.json()["segments"]]
    assert "reflection" in kinds and lesson.json()["next"]["lesson_id"] == "how-this-course-works"

    locked = client.get(f"{BASE}/lessons/boundaries-basics/confidentiality", headers=auth)
    assert locked.status_code == 403
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["waiting_for"] == ["welcome", "listening-basics"]

    done = client.post(f"{BASE}/lessons/welcome/what-peer-support-is/complete", headers=auth)
    assert done.status_code == 200 and done.json()["lessons_completed"] == 1
    assert done.json()["modules"][0]["status_text"] == "In progress"

    saved = client.put(
        f"{BASE}/lessons/welcome/what-peer-support-is/reflections/why-peer-support",
        json={"text": "My own words.", "shared_with_trainer": False},
        headers=auth,
    )
    assert saved.status_code == 200 and saved.json()["characters"] == len("My own words.")
    assert "text" not in saved.json()  # no copy of it kept with an idempotency record
    again = client.get(f"{BASE}/lessons/welcome/what-peer-support-is", headers=auth).json()
    reflection = next(s for s in again["segments"] if s["kind"] == "reflection")
    assert reflection["reflection"]["text"] == "My own words."

    summary = client.get(BASE, headers=auth).json()
    assert summary["progress"]["percent"] == 20
    assert summary["progress"]["completed_minutes"] == 20
    assert summary["certificate_status"] == "Not yet eligible"


def test_requests_without_credentials_get_a_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/enrolments")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["type"].endswith("/unauthenticated")


def test_unknown_fields_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/enrolments", json={"programme_id": PROGRAMME, "user_id": 1}, headers=auth
    )
    assert response.status_code == 422 and response.json()["title"] == "Invalid request"


def test_a_retried_write_with_the_same_key_counts_once(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    key = {**auth, "Idempotency-Key": str(uuid.uuid4())}
    report = {
        "completed": [{"module_id": "welcome", "lesson_id": "what-peer-support-is"}],
        "time": [{"module_id": "welcome", "lesson_id": "what-peer-support-is", "seconds": 300}],
    }
    first = client.post(f"{BASE}/progress", json=report, headers=key)
    retry = client.post(f"{BASE}/progress", json=report, headers=key)
    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert first.json()["seconds_spent"] == 300
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(LessonProgress.seconds_spent)) == 300
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1
    # The same report under a new key is a new write: time adds, completion stays a set.
    other = client.post(
        f"{BASE}/progress", json=report, headers={**auth, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert other.json()["seconds_spent"] == 600 and other.json()["lessons_completed"] == 1


def test_the_same_key_with_a_different_payload_is_a_422_problem(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    key = {**auth, "Idempotency-Key": "key-1"}
    time = {"module_id": "welcome", "lesson_id": "what-peer-support-is", "seconds": 60}
    assert client.post(f"{BASE}/progress", json={"time": [time]}, headers=key).status_code == 200
    changed = client.post(
        f"{BASE}/progress", json={"time": [{**time, "seconds": 120}]}, headers=key
    )
    assert changed.status_code == 422
    assert changed.json()["type"].endswith("/idempotency-key-reused")
    also_elsewhere = client.post(
        f"{BASE}/lessons/welcome/how-this-course-works/complete", headers=key
    )
    assert also_elsewhere.status_code == 422
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.sum(LessonProgress.seconds_spent))) == 60
        assert (
            session.scalar(
                select(func.count())
                .select_from(LessonProgress)
                .where(LessonProgress.completed_at.is_not(None))
            )
            == 0
        )


def test_a_malformed_key_is_a_400_problem(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    response = client.post(
        f"{BASE}/lessons/welcome/what-peer-support-is/complete",
        headers={**auth, "Idempotency-Key": "has spaces in it"},
    )
    assert response.status_code == 400


def test_keys_are_per_user(client: TestClient, app: FastAPI, auth: dict[str, str]) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    key = "shared-looking-key"
    mine = client.post(
        f"{BASE}/lessons/welcome/what-peer-support-is/complete",
        headers={**auth, "Idempotency-Key": key},
    )
    other_email = register(client)
    client.cookies.clear()
    theirs = api_token(client, other_email)
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=theirs)
    response = client.post(
        f"{BASE}/lessons/welcome/what-peer-support-is/complete",
        headers={**theirs, "Idempotency-Key": key},
    )
    assert response.status_code == 200 and "idempotent-replayed" not in response.headers
    assert response.json()["lessons_completed"] == 1 and mine.json()["lessons_completed"] == 1


@pytest.mark.postgres_only
def test_a_duplicate_while_the_first_is_in_flight_is_a_409(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    with db.unit_of_work(write=False) as session:
        user_id = session.scalars(select(User.id)).one()
    with db.writer.connect() as held:  # the "first request", still running
        held.execute(
            text(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, fingerprint, status_code,"
                " response_body, created_at) VALUES (:u, 'in-flight', 'x', 0, '', now())"
            ),
            {"u": user_id},
        )
        response = client.post(
            f"{BASE}/lessons/welcome/what-peer-support-is/complete",
            headers={**auth, "Idempotency-Key": "in-flight"},
        )
        held.rollback()
    assert response.status_code == 409
    assert response.json()["type"].endswith("/idempotency-key-in-flight")
    assert client.get(BASE, headers=auth).json()["progress"]["lessons_completed"] == 0


def test_progress_merges_so_replays_and_reordering_are_harmless(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    later = {
        "position": {
            "module_id": "listening-basics",
            "lesson_id": "open-questions",
            "at": "2026-01-02T10:00:00Z",
        }
    }
    earlier = {
        "position": {
            "module_id": "welcome",
            "lesson_id": "what-peer-support-is",
            "at": "2026-01-01T10:00:00Z",
        },
        "completed": [
            {"module_id": "welcome", "lesson_id": "what-peer-support-is"},
            {"module_id": "gone", "lesson_id": "nowhere"},
        ],
    }
    client.post(f"{BASE}/progress", json=later, headers=auth)
    merged = client.post(f"{BASE}/progress", json=earlier, headers=auth).json()
    assert merged["resume"] == {"module_id": "listening-basics", "lesson_id": "open-questions"}
    assert merged["lessons_completed"] == 1
    assert merged["ignored"] == [{"module_id": "gone", "lesson_id": "nowhere"}]


def test_a_lesson_reported_several_times_keeps_its_first_completion_and_adds_up_its_time(
    client: TestClient, auth: dict[str, str]
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    lesson = {"module_id": "welcome", "lesson_id": "what-peer-support-is"}
    first = {
        "completed": [
            {**lesson, "at": "2026-03-02T10:00:00Z"},
            {**lesson, "at": "2026-03-01T09:00:00Z"},
        ],
        "time": [{**lesson, "seconds": 120}, {**lesson, "seconds": 3600}],
    }
    merged = client.post(f"{BASE}/progress", json=first, headers=auth)
    assert merged.status_code == 200, merged.text
    assert merged.json()["lessons_completed"] == 1
    # Time alone (no completion) neither completes a lesson nor forgets its completion; a
    # later completion does not replace the first.
    later = {
        "completed": [{**lesson, "at": "2026-04-01T09:00:00Z"}],
        "time": [
            {**lesson, "seconds": 30},
            {"module_id": "welcome", "lesson_id": "x", "seconds": 5},
        ],
    }
    again = client.post(f"{BASE}/progress", json=later, headers=auth).json()
    assert again["ignored"] == [{"module_id": "welcome", "lesson_id": "x"}]
    time_only = {
        "time": [
            {**lesson, "seconds": 40},
            {"module_id": "listening-basics", "lesson_id": "open-questions", "seconds": 40},
        ]
    }
    assert (
        client.post(f"{BASE}/progress", json=time_only, headers=auth).json()["lessons_completed"]
        == 1
    )
    exported = client.get("/api/v1/me/export", headers=auth).json()
    stored = {(p["module_id"], p["lesson_id"]): p for p in exported["enrolments"][0]["lessons"]}
    first_lesson = stored[("welcome", "what-peer-support-is")]
    assert first_lesson["completed_at"].startswith("2026-03-01T09:00:00")
    assert first_lesson["seconds_spent"] == 120 + 3600 + 30 + 40
    assert stored[("listening-basics", "open-questions")] == {
        "module_id": "listening-basics",
        "lesson_id": "open-questions",
        "seconds_spent": 40,
        "completed_at": None,
    }


def test_cookie_authenticated_api_writes_need_the_csrf_header(client: TestClient) -> None:
    register(client)
    no_header = client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME})
    assert no_header.status_code == 403
    assert client.get("/api/v1/enrolments").json() == []
    token = client.get("/api/v1/me").json()["csrf_token"]
    wrong = client.post(
        "/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers={"X-CSRF-Token": "f" * 64}
    )
    assert wrong.status_code == 403
    right = client.post(
        "/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers={"X-CSRF-Token": token}
    )
    assert right.status_code == 201


def test_bearer_tokens_are_rate_limited_like_signing_in(client: TestClient) -> None:
    email = register(client)
    client.cookies.clear()
    for _ in range(6):
        assert (
            client.post("/api/v1/tokens", json={"email": email, "password": "wrong!"}).status_code
            == 401
        )
    refused = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_export_and_delete_through_the_api(
    client: TestClient, auth: dict[str, str], db: Database
) -> None:
    client.post("/api/v1/enrolments", json={"programme_id": PROGRAMME}, headers=auth)
    client.put(
        f"{BASE}/lessons/welcome/what-peer-support-is/reflections/why-peer-support",
        json={"text": "Private words."},
        headers=auth,
    )
    exported = client.get("/api/v1/me/export", headers=auth).json()
    assert exported["enrolments"][0]["reflections"][0]["text"] == "Private words."
    wrong = client.post("/api/v1/me/delete", json={"password": "not it"}, headers=auth)
    assert wrong.status_code == 403
    assert (
        client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=auth).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_the_openapi_document_describes_the_learning_api(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/enrolments/{programme}/progress" in paths
    assert "/api/v1/tokens" in paths


def test_changing_the_password_revokes_api_tokens_too(client: TestClient) -> None:
    email = register(client)
    headers = api_token(client, email)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = client.get("/api/v1/me").json()["csrf_token"]
    assert token
    post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a different passphrase"},
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
