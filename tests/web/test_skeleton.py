"""The server skeleton: health, pages rendered from the sample curriculum, helpful errors."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_reports_ok_with_the_database_reachable(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_api_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 404 and body["title"] == "Not Found" and body["detail"]


def test_unknown_page_is_a_helpful_html_page(client: TestClient) -> None:
    response = client.get("/learn/no-such-programme")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "no programme called" in response.text


def test_help_page_says_no_contacts_are_configured_rather_than_inventing_one(
    client: TestClient,
) -> None:
    response = client.get("/help")
    assert response.status_code == 200
    assert "has not added its local crisis contacts" in response.text
