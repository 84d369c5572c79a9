"""Role boundaries, through the real app: trainees reach no trainer page or API route, a trainer
never sees another trainer's cohort, only administrators see the audit log."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.store import Database
from app.web import create_app
from tests.journeys import csrf_from, new_client
from tests.training.factories import create_cohort, join, join_code, person

PREFIXES = ("/train", "/admin", "/api/v1/train")


def _all_routes(routes: list[object]) -> list[object]:
    """Every route of the app, looking inside included routers."""
    found: list[object] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found.extend(_all_routes(inner.routes) if inner is not None else [route])
    return found


def _staff_routes() -> list[tuple[str, str]]:
    routes = []
    for route in _all_routes(create_app().routes):
        if isinstance(route, APIRoute) and route.path.startswith(PREFIXES):
            for method in sorted(route.methods - {"HEAD"}):
                routes.append((method, route.path))
    return routes


STAFF_ROUTES = _staff_routes()


def _concrete(path: str, cohort_id: int, user_id: int) -> str:
    values = {
        "cohort_id": str(cohort_id),
        "user_id": str(user_id),
        "programme": "sample-programme",
        "draft_id": "0" * 32,
        "module_id": "welcome",
        "lesson_id": "what-peer-support-is",
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def test_the_route_list_covers_the_whole_workspace() -> None:
    paths = {path for _, path in STAFF_ROUTES}
    assert "/train/cohorts/{cohort_id}" in paths
    assert "/train/authoring/drafts/{draft_id}/publish" in paths
    assert "/admin/audit" in paths
    assert "/api/v1/train/cohorts/{cohort_id}" in paths
    assert len(STAFF_ROUTES) >= 15


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_a_trainee_reaches_no_trainer_route(
    app: FastAPI, db: Database, method: str, path: str
) -> None:
    # The role is checked before anything is looked up, so any ids will do.
    trainee = person(app, db, "trainee")
    url = _concrete(path, 1, trainee.id)
    if method == "GET":
        response = trainee.client.get(url, follow_redirects=False)
    else:
        # With a valid CSRF token, so the refusal is about the role and nothing else.
        token = csrf_from(trainee.client, "/dashboard")
        response = trainee.client.request(
            method, url, data={"csrf_token": token}, follow_redirects=False
        )
    assert response.status_code == 403, (method, url, response.status_code)
    if url.startswith("/api/"):
        assert response.json()["type"].endswith("/forbidden")
    else:
        assert "does not have access" in response.text


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_nobody_signed_in_is_sent_to_sign_in(
    app: FastAPI, db: Database, method: str, path: str
) -> None:
    client = new_client(app)
    url = _concrete(path, 1, 1)
    response = client.request(method, url, follow_redirects=False)
    if url.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code in (303, 403)
        if response.status_code == 303:
            assert response.headers["location"].startswith("/login")


COHORT_GETS = [
    "/train/cohorts/{id}",
    "/train/cohorts/{id}/members",
    "/train/cohorts/{id}/export.csv",
    "/train/cohorts/{id}/trainees/{trainee}",
    "/api/v1/train/cohorts/{id}",
]


def test_a_trainer_cannot_see_another_trainers_cohort(app: FastAPI, db: Database) -> None:
    owner = person(app, db, "trainer", name="Owner")
    other = person(app, db, "trainer", name="Other")
    admin = person(app, db, "admin", name="Admin")
    cohort_id = create_cohort(owner, name="Owner cohort")
    trainee = person(app, db, "trainee", name="Tomasz")
    join(trainee, join_code(db, cohort_id))
    for template in COHORT_GETS:
        url = template.format(id=cohort_id, trainee=trainee.id)
        assert owner.client.get(url).status_code == 200, url
        assert admin.client.get(url).status_code == 200, url
        refused = other.client.get(url)
        assert refused.status_code == 404, url
        assert "Tomasz" not in refused.text
    token = csrf_from(other.client, "/train")
    roster = {"roster": ("r.csv", b"name,email\nEve,eve@example.org\n", "text/csv")}
    response = other.client.post(
        f"/train/cohorts/{cohort_id}/roster", data={"csrf_token": token}, files=roster
    )
    assert response.status_code == 404
    assert "Owner cohort" not in other.client.get("/train").text
    assert "Owner cohort" in owner.client.get("/train").text
    assert "Owner cohort" in admin.client.get("/train").text
    assert [c["id"] for c in other.client.get("/api/v1/train/cohorts").json()] == []
    assert [c["id"] for c in admin.client.get("/api/v1/train/cohorts").json()] == [cohort_id]


def test_a_trainee_of_another_cohort_is_not_shown(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    mine, theirs = create_cohort(trainer, name="A"), create_cohort(trainer, name="B")
    trainee = person(app, db, "trainee")
    join(trainee, join_code(db, theirs))
    assert trainer.client.get(f"/train/cohorts/{mine}/trainees/{trainee.id}").status_code == 404
    assert trainer.client.get(f"/train/cohorts/{theirs}/trainees/{trainee.id}").status_code == 200


def test_only_administrators_see_the_audit_log(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    admin = person(app, db, "admin")
    assert trainer.client.get("/admin/audit").status_code == 403
    assert admin.client.get("/admin/audit").status_code == 200


def test_another_trainers_draft_is_not_found(app: FastAPI, db: Database) -> None:
    owner = person(app, db, "trainer")
    other = person(app, db, "trainer")
    page = "/train/authoring/sample-programme/edit?path=modules/welcome/module.md"
    text = owner.client.get(page)
    assert text.status_code == 200
    token = csrf_from(owner.client, page)
    source = re.search(r"<textarea[^>]*>(.*?)</textarea>", text.text, re.S)
    assert source
    import html

    response = owner.client.post(
        "/train/authoring/sample-programme/edit",
        data={
            "csrf_token": token,
            "path": "modules/welcome/module.md",
            "text": html.unescape(source.group(1)),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    draft = response.headers["location"]
    assert owner.client.get(draft).status_code == 200
    assert other.client.get(draft).status_code == 404
