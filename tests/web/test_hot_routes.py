"""The hot routes (lesson page, "Mark as complete", merging progress, verification) skip FastAPI's router: every
answer must be the one the router would give, error pages and redirects included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from app.config import Settings
from app.store import Database, connect
from app.store.accounts import User
from app.web import create_app
from tests.credentials.issuing import issue_directly
from tests.journeys import FIRST_LESSON, PROGRAMME, api_token, csrf_from, enrol, register

LESSON = f"/learn/{PROGRAMME}/{FIRST_LESSON[0]}/{FIRST_LESSON[1]}"


@dataclass
class Pair:
    """The same app twice on one database: with the hot routes, and through the router only."""

    hot: TestClient
    plain: TestClient

    def both(self, method: str, path: str, **kwargs: object) -> tuple[Response, Response]:
        self.plain.cookies = self.hot.cookies
        answers = (
            self.hot.request(method, path, follow_redirects=False, **kwargs),  # type: ignore[arg-type]
            self.plain.request(method, path, follow_redirects=False, **kwargs),  # type: ignore[arg-type]
        )
        return answers

    def same(self, method: str, path: str, **kwargs: object) -> Response:
        hot, plain = self.both(method, path, **kwargs)
        assert hot.status_code == plain.status_code, (path, hot.text[:300])
        assert hot.headers.get("location") == plain.headers.get("location")
        assert hot.headers.get("content-type") == plain.headers.get("content-type")
        assert hot.headers.get("cache-control") == plain.headers.get("cache-control")
        assert hot.text == plain.text
        assert hot.headers["content-security-policy"] == plain.headers["content-security-policy"]
        return hot


@pytest.fixture
def pair(settings: Settings) -> Iterator[Pair]:
    with (
        TestClient(create_app(settings)) as hot,
        TestClient(create_app(settings, hot_routes=False)) as plain,
    ):
        yield Pair(hot, plain)


@pytest.fixture
def db(settings: Settings, pair: Pair) -> Iterator[Database]:
    database = connect(settings)
    yield database
    database.dispose()


def test_the_lesson_page_answers_as_the_router_would(pair: Pair) -> None:
    assert pair.same("GET", LESSON).headers["location"].startswith("/login?next=")
    register(pair.hot)
    assert "enrol_first" in pair.same("GET", LESSON).headers["location"]
    enrol(pair.hot)
    page = pair.same("GET", LESSON)
    assert page.status_code == 200 and "Mark as complete" in page.text
    assert pair.same("GET", f"{LESSON}?completed=1&lang=xx").status_code == 200
    assert (
        pair.same("GET", f"/learn/{PROGRAMME}/{FIRST_LESSON[0]}/no-such-lesson").status_code == 404
    )
    assert pair.same("GET", "/learn/no-such-programme/a/b").status_code in (303, 404)


def test_mark_as_complete_checks_the_form_token_on_both_paths(pair: Pair) -> None:
    register(pair.hot)
    enrol(pair.hot)
    refused = pair.same("POST", f"{LESSON}/complete", data={"csrf_token": "0" * 64})
    assert refused.status_code == 403 and "nothing was changed" in refused.text
    token = csrf_from(pair.hot, LESSON)
    hot, plain = pair.both("POST", f"{LESSON}/complete", data={"csrf_token": token})
    assert hot.status_code == plain.status_code == 303
    assert hot.headers["location"] == plain.headers["location"]
    assert hot.headers["location"].endswith("?completed=1")


def test_verification_answers_as_the_router_would(
    pair: Pair, db: Database, settings: Settings
) -> None:
    email = register(pair.hot)
    enrol(pair.hot)
    with db.unit_of_work() as session:
        user_id = session.scalars(select(User.id).where(User.email == email)).one()
    issued = issue_directly(db, settings, user_id)
    valid = pair.same("GET", f"/api/v1/certificates/{issued.public_id}/verification")
    assert valid.json()["status"] == "valid"
    for typed in (issued.public_id.lower(), "PP-0000-0000-0", "not an id"):
        pair.same("GET", f"/api/v1/certificates/{typed}/verification")
    key_refused = pair.same(
        "GET",
        f"/api/v1/certificates/{issued.public_id}/verification",
        headers={"Authorization": "Bearer ppv_withdrawn"},
    )
    assert key_refused.status_code == 401
    assert key_refused.headers["content-type"] == "application/problem+json"
    assert pair.same("GET", f"/verify/{issued.public_id}").status_code == 200
    assert pair.same("GET", "/verify/PP-0000-0000-0").status_code == 404


def test_the_hot_routes_stay_documented(pair: Pair) -> None:
    paths = pair.hot.get("/api/v1/openapi.json").json()["paths"]
    assert "get" in paths["/api/v1/certificates/{certificate_id}/verification"]


def _progress_path(programme: str = PROGRAMME) -> str:
    return f"/api/v1/enrolments/{programme}/progress"


def _completed(*lessons: tuple[str, str]) -> dict[str, object]:
    return {"completed": [{"module_id": m, "lesson_id": lesson} for m, lesson in lessons]}


def test_merging_progress_answers_as_the_router_would(pair: Pair) -> None:
    path, first = _progress_path(), _completed(FIRST_LESSON)
    refused = pair.same("POST", path, json=first)
    assert refused.status_code == 401 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    email = register(pair.hot)
    assert (
        pair.same("POST", path, json=first, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    )
    csrf = {"X-CSRF-Token": pair.hot.get("/api/v1/me").json()["csrf_token"]}
    assert pair.same("POST", path, json=first, headers=csrf).status_code == 404  # not enrolled
    enrol(pair.hot)
    merged = pair.same("POST", path, json=first, headers=csrf)
    assert merged.status_code == 200
    assert merged.json()["completed"] == [
        {"module_id": FIRST_LESSON[0], "lesson_id": FIRST_LESSON[1]}
    ]
    unknown = pair.same("POST", path, json=_completed(("no-such", "lesson")), headers=csrf)
    assert unknown.json()["ignored"] == [{"module_id": "no-such", "lesson_id": "lesson"}]
    bearer = api_token(pair.hot, email)
    assert pair.same("POST", path, json=first, headers=bearer).status_code == 200
    assert (
        pair.same(
            "POST", _progress_path("no-such-programme"), json=first, headers=bearer
        ).status_code
        == 404
    )


def test_unusual_progress_requests_get_the_routers_own_answers(pair: Pair) -> None:
    """What the fast path leaves to the router (it read the body first) is answered in full."""
    path = _progress_path()
    register(pair.hot)
    enrol(pair.hot)
    csrf = {"X-CSRF-Token": pair.hot.get("/api/v1/me").json()["csrf_token"]}
    as_json = {**csrf, "Content-Type": "application/json"}
    for body, headers in (
        (b"{", as_json),  # not JSON
        (b"", as_json),  # no body
        (b"null", as_json),
        (b'{"time": [{"module_id": "a", "lesson_id": "b", "seconds": 99999}]}', as_json),
        (b'{"completed": [], "extra": 1}', as_json),
        (b'{"completed": []}', {**csrf, "Content-Type": "text/plain"}),
        (b'{"completed": []}', {**as_json, "Idempotency-Key": "k" * 256}),
    ):
        hot = pair.same("POST", path, content=body, headers=headers)
        assert hot.status_code == 422, (body, hot.text)
        assert hot.headers["content-type"].startswith("application/problem+json")
    # A JSON type the fast path does not take: the router reads the replayed body and merges.
    vendor = {**csrf, "Content-Type": "application/vnd.peerpath+json"}
    merged = pair.same("POST", path, content=json.dumps(_completed(FIRST_LESSON)), headers=vendor)
    assert merged.status_code == 200 and merged.json()["lessons_completed"] == 1


def test_an_idempotency_key_counts_once_on_either_path(pair: Pair) -> None:
    path = _progress_path()
    register(pair.hot)
    enrol(pair.hot)
    csrf = {"X-CSRF-Token": pair.hot.get("/api/v1/me").json()["csrf_token"]}
    spent = {"time": [{"module_id": FIRST_LESSON[0], "lesson_id": FIRST_LESSON[1], "seconds": 30}]}
    keyed = {**csrf, "Idempotency-Key": "merge-once"}
    hot, plain = pair.both("POST", path, json=spent, headers=keyed)
    assert hot.status_code == plain.status_code == 200
    assert hot.json()["seconds_spent"] == 30  # counted once: the router replayed the answer
    assert plain.text == hot.text and plain.headers["idempotent-replayed"] == "true"
    reused = pair.same("POST", path, json=_completed(FIRST_LESSON), headers=keyed)
    assert reused.status_code == 422 and "already used" in reused.text
    assert (
        pair.same("POST", path, json=spent, headers={**csrf, "Idempotency-Key": "a b"}).status_code
        == 400
    )
