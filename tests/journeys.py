"""Steps of a user's story through the real app, shared by the accounts, learning and web tests."""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

PASSWORD = "correct horse battery staple"
PROGRAMME = "sample-programme"
FIRST_LESSON = ("welcome", "what-peer-support-is")

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_from(client: TestClient, path: str = "/login") -> str:
    """The CSRF token a form on this page carries."""
    page = client.get(path)
    found = _CSRF.search(page.text)
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def post_form(
    client: TestClient, path: str, data: dict[str, str], *, from_page: str = "/account"
) -> Response:
    """Submit a form the way a browser does: with the token of a page it was shown on."""
    return client.post(
        path, data={**data, "csrf_token": csrf_from(client, from_page)}, follow_redirects=False
    )


def new_client(app: FastAPI) -> TestClient:
    """Another browser on the same running app (its own cookies)."""
    return TestClient(app, base_url="http://testserver")


def register(
    client: TestClient, email: str | None = None, name: str = "Ana", password: str = PASSWORD
) -> str:
    email = email or f"{uuid.uuid4().hex[:10]}@example.org"
    response = post_form(
        client,
        "/register",
        {"email": email, "display_name": name, "password": password},
        from_page="/register",
    )
    assert response.status_code == 303, response.text
    return email


def login(client: TestClient, email: str, password: str = PASSWORD) -> Response:
    return post_form(client, "/login", {"email": email, "password": password}, from_page="/login")


def enrol(client: TestClient, programme: str = PROGRAMME) -> None:
    response = post_form(client, f"/learn/{programme}/enrol", {}, from_page=f"/learn/{programme}")
    assert response.status_code == 303, response.text


def complete(client: TestClient, module: str, lesson: str, programme: str = PROGRAMME) -> Response:
    page = f"/learn/{programme}/{module}/{lesson}"
    return post_form(client, f"{page}/complete", {}, from_page=page)


def api_token(client: TestClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/tokens", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}
