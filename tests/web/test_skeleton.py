"""The server skeleton: health, pages rendered from the sample curriculum, helpful errors."""

from __future__ import annotations

import gc

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace

from app.config import Settings
from app.web import create_app


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


def test_every_page_carries_security_headers_without_allowing_inline_script(
    client: TestClient,
) -> None:
    for path in ("/", "/help", "/healthz", "/api/v1/nothing-here"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert "strict-transport-security" not in headers  # plain HTTP in tests


def test_hsts_is_sent_when_the_request_came_over_tls(client: TestClient) -> None:
    response = client.get("https://testserver/healthz")
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_only_trainers_and_admins_see_the_training_link(client: TestClient, db) -> None:  # type: ignore[no-untyped-def]
    from tests.assessment.conftest import set_role
    from tests.journeys import register

    register(client, "kai@example.org", name="Kai")
    assert 'href="/train"' not in client.get("/dashboard").text
    set_role(db, "kai@example.org", "trainer")
    page = client.get("/dashboard").text
    assert 'href="/train"' in page and ">Training<" in page


def test_opentelemetry_is_used_only_when_the_setting_asks_for_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PEERPATH_OPENTELEMETRY=true hands requests to the configured tracer provider (FastAPI's
    built-in telemetry); by default no request looks a provider up."""
    asked: list[str] = []

    class Recording(trace.TracerProvider):
        def get_tracer(self, name: str, *args: object, **kwargs: object) -> trace.Tracer:
            asked.append(name)
            return trace.NoOpTracer()

    monkeypatch.setattr(trace, "get_tracer_provider", Recording)
    for enabled in (False, True):
        app = create_app(settings.model_copy(update={"opentelemetry": enabled}))
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
        assert bool(asked) is enabled


def test_browsers_get_a_csrf_seed_cookie_and_bearer_api_calls_do_not(client: TestClient) -> None:
    """The seed lets pages carry CSRF tokens; a program calling the API with a bearer token is
    exempt from CSRF checks and gets no cookie (also behind HTTP basic auth, browsers do)."""
    assert "pp_csrf=" in client.get("/").headers.get("set-cookie", "")
    client.cookies.clear()
    basic = client.get("/", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert "pp_csrf=" in basic.headers.get("set-cookie", "")
    client.cookies.clear()
    api = client.get("/api/v1/programmes", headers={"Authorization": "Bearer not-a-real-token"})
    assert "set-cookie" not in api.headers


def test_a_server_process_keeps_its_start_up_heap_out_of_garbage_collection(
    settings: Settings,
) -> None:
    """Only `serving=True` (app.web.asgi, what `peerpath serve` runs) tunes the collector;
    tests and tools building an app leave it alone."""
    before = gc.get_threshold()
    try:
        with TestClient(create_app(settings)):
            assert gc.get_threshold() == before
        with TestClient(create_app(settings, serving=True)) as client:
            assert gc.get_freeze_count() > 0 and gc.get_threshold() == (20_000, 50, 100)
            assert client.get("/healthz").status_code == 200
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
