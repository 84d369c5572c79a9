"""A trainee can never see another trainee's progress, reflections or profile: every page and
API route is tried by a second trainee, and none of the first one's data may appear."""

from __future__ import annotations

import re
from pathlib import Path
from types import FunctionType

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.store import Database
from app.store.learning import Reflection
from app.web import create_app
from tests.journeys import PROGRAMME, api_token, complete, enrol, new_client, post_form, register

ALICE_EMAIL = "alice.private@example.org"
ALICE_NAME = "Alice Quillfeather"
ALICE_SECRET = "ALICE-SECRET-REFLECTION-about-my-hospital-stay"
P = PROGRAMME

PAGES = [
    "/",
    "/register",
    "/login",
    "/forgot-password",
    "/reset-password/not-a-token",
    "/dashboard",
    "/account",
    "/account/export",
    "/join",
    "/help",
    f"/learn/{P}",
    f"/learn/{P}/glossary",
    f"/learn/{P}/welcome",
    f"/learn/{P}/listening-basics",
    f"/learn/{P}/welcome/what-peer-support-is",
    f"/learn/{P}/welcome/how-this-course-works",
    f"/learn/{P}/listening-basics/open-questions",
    f"/learn/{P}/boundaries-basics/confidentiality",
]
API = [
    "/api/v1/me",
    "/api/v1/me/export",
    "/api/v1/programmes",
    "/api/v1/enrolments",
    f"/api/v1/enrolments/{P}",
    f"/api/v1/enrolments/{P}/outline",
    f"/api/v1/enrolments/{P}/lessons/welcome/what-peer-support-is",
    f"/api/v1/enrolments/{P}/lessons/listening-basics/open-questions",
]


@pytest.fixture
def alice(client: TestClient) -> TestClient:
    """Alice: enrolled, two lessons done, a private reflection (shared with her trainer)."""
    register(client, ALICE_EMAIL, name=ALICE_NAME)
    enrol(client)
    complete(client, "welcome", "what-peer-support-is")
    complete(client, "welcome", "how-this-course-works")
    page = f"/learn/{P}/welcome/what-peer-support-is"
    post_form(
        client,
        f"{page}/reflections/why-peer-support",
        {"text": ALICE_SECRET, "share": "yes"},
        from_page=page,
    )
    return client


def assert_nothing_of_alice(text: str) -> None:
    for private in (ALICE_SECRET, ALICE_EMAIL, ALICE_NAME, "alice.private"):
        assert private not in text


@pytest.mark.parametrize("enrolled", [False, True], ids=["bob-not-enrolled", "bob-enrolled"])
@pytest.mark.parametrize("path", PAGES + API)
def test_another_trainee_sees_nothing_of_alice_on_any_route(
    alice: TestClient, app: FastAPI, path: str, enrolled: bool
) -> None:
    bob = new_client(app)
    register(bob, "bob@example.org", name="Bob")
    if enrolled:
        enrol(bob)
    response = bob.get(path)
    assert response.status_code in (200, 403, 404), (path, response.status_code)
    assert_nothing_of_alice(response.text)
    if enrolled and path in (f"/learn/{P}", "/dashboard"):
        assert "0 of 5 lessons completed (0%)" in response.text
    if enrolled and path.startswith(f"/api/v1/enrolments/{P}") and path.count("/") == 4:
        assert response.json()["progress"]["lessons_completed"] == 0


@pytest.mark.parametrize("path", API)
def test_with_a_bearer_token_too(alice: TestClient, app: FastAPI, path: str) -> None:
    bob = new_client(app)
    email = register(bob, "bob@example.org", name="Bob")
    bob.cookies.clear()
    headers = api_token(bob, email)
    bob.post("/api/v1/enrolments", json={"programme_id": P}, headers=headers)
    response = bob.get(path, headers=headers)
    assert response.status_code in (200, 403, 404)
    assert_nothing_of_alice(response.text)


def test_a_signed_out_visitor_sees_nothing_of_alice_either(alice: TestClient, app: FastAPI) -> None:
    visitor = new_client(app)
    for path in PAGES + API:
        assert_nothing_of_alice(visitor.get(path).text)


def test_writing_the_same_prompt_touches_only_your_own_reflection(
    alice: TestClient, app: FastAPI, db: Database
) -> None:
    bob = new_client(app)
    register(bob, "bob@example.org", name="Bob")
    enrol(bob)
    page = f"/learn/{P}/welcome/what-peer-support-is"
    post_form(bob, f"{page}/reflections/why-peer-support", {"text": "Bob's words"}, from_page=page)
    with db.unit_of_work(write=False) as session:
        texts = sorted(session.scalars(select(Reflection.text)))
    assert texts == sorted([ALICE_SECRET, "Bob's words"])
    assert ALICE_SECRET in alice.get(page).text


def get_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(path template, endpoint module) of every GET route, however routers were included."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(contexts(app.routes)) if contexts else app.routes
    return [
        (route.path, route.endpoint.__module__)
        for route in routes
        if isinstance(getattr(route, "endpoint", None), FunctionType)
        and "GET" in (getattr(route, "methods", None) or ())
    ]


ALL_GET_ROUTES = get_routes(create_app(Settings(database_url="sqlite://", data_dir=Path("var"))))
FILL = {
    "programme": P,
    "module_id": "welcome",
    "lesson_id": "what-peer-support-is",
    "prompt_id": "why-peer-support",
    "assessment_id": "listening-check",
    "certificate_id": "PP-0000-0000",
}


def test_the_route_list_is_not_empty() -> None:
    assert len(ALL_GET_ROUTES) > 20


@pytest.mark.parametrize("template", sorted({path for path, _ in ALL_GET_ROUTES}))
def test_every_get_route_in_the_app_shows_a_trainee_nothing_of_another(
    alice: TestClient, app: FastAPI, template: str
) -> None:
    """Every GET route of the whole app, ids filled with Alice's (the first rows: 1)."""
    path = re.sub(r"\{(\w+)\}", lambda m: FILL.get(m.group(1), "1"), template)
    bob = new_client(app)
    register(bob, "bob@example.org", name="Bob")
    enrol(bob)
    response = bob.get(path)
    assert response.status_code < 500, (path, response.status_code)
    assert_nothing_of_alice(response.text)


def test_every_learner_route_is_in_the_lists_above() -> None:
    """A new GET route in the learner or API modules must be added to this test."""
    mine = ("app.web.learn", "app.web.account", "app.web.api.accounts", "app.web.api.learning")
    templates = {
        p.replace(f"/{P}", "/{programme}")
        .replace("/welcome/what-peer-support-is", "/{module_id}/{lesson_id}")
        .replace("/welcome", "/{module_id}")
        .replace("/not-a-token", "/{token}")
        for p in PAGES + API
    }
    covered = [path for path, module in ALL_GET_ROUTES if module.startswith(mine)]
    assert len(covered) >= 15
    assert [path for path in covered if path not in templates] == []
