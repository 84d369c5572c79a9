"""An id beyond 64 bits (found by schemathesis) is 'not found', never a server error."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.journeys import api_token, register


def test_an_id_too_large_for_the_database_is_not_found(client: TestClient) -> None:
    headers = api_token(client, register(client))
    response = client.get("/api/v1/attempts/-18446744073709551616/review", headers=headers)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
