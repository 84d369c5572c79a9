"""The hot paths (lesson page, "Mark as complete", progress sent by the API) open their own
transaction instead of the per-request one; they must keep every check the others have."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.journeys import FIRST_LESSON, PROGRAMME, complete, enrol, register

LESSON = f"/learn/{PROGRAMME}/{FIRST_LESSON[0]}/{FIRST_LESSON[1]}"
PROGRESS = f"/api/v1/enrolments/{PROGRAMME}/progress"


def _completed(client: TestClient) -> int:
    return int(
        client.get(f"/api/v1/enrolments/{PROGRAMME}").json()["progress"]["lessons_completed"]
    )


def test_mark_as_complete_without_the_forms_token_changes_nothing(client: TestClient) -> None:
    register(client)
    enrol(client)
    forged = client.post(
        f"{LESSON}/complete", data={"csrf_token": "0" * 64}, follow_redirects=False
    )
    assert forged.status_code == 403 and "nothing was changed" in forged.text
    assert _completed(client) == 0
    done = complete(client, *FIRST_LESSON)
    assert done.status_code == 303
    assert _completed(client) == 1


def test_progress_sent_with_the_cookie_needs_the_csrf_header(client: TestClient) -> None:
    register(client)
    enrol(client)
    report = {"completed": [{"module_id": FIRST_LESSON[0], "lesson_id": FIRST_LESSON[1]}]}
    assert client.post(PROGRESS, json=report).status_code == 403
    assert _completed(client) == 0
    csrf = client.get("/api/v1/me").json()["csrf_token"]
    saved = client.post(PROGRESS, json=report, headers={"X-CSRF-Token": csrf})
    assert saved.status_code == 200 and saved.json()["lessons_completed"] == 1


def test_signed_out_visitors_are_sent_to_sign_in_and_api_callers_get_401(
    client: TestClient,
) -> None:
    page = client.get(LESSON, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=")
    signed_out = client.post(f"{LESSON}/complete", data={}, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
    refused = client.post(PROGRESS, json={"completed": []})
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_opening_a_lesson_remembers_it_as_the_place_to_resume(client: TestClient) -> None:
    register(client)
    enrol(client)
    second = client.get(f"/api/v1/enrolments/{PROGRAMME}/outline").json()["modules"][0]["lessons"][
        1
    ]
    path = f"/learn/{PROGRAMME}/{FIRST_LESSON[0]}/{second['id']}"
    assert client.get(path).status_code == 200
    resume = client.get(f"/api/v1/enrolments/{PROGRAMME}").json()["progress"]["resume"]
    assert resume == {"module_id": FIRST_LESSON[0], "lesson_id": second["id"]}
