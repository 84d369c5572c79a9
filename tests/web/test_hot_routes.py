"""The hot routes (lesson page, "Mark as complete", verification) skip FastAPI's router: every
answer must be the one the router would give, error pages and redirects included."""

from __future__ import annotations

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
from tests.journeys import FIRST_LESSON, PROGRAMME, csrf_from, enrol, register

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
