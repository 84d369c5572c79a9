"""Password-reset requests are rate-limited per account and per address, whether or not the
account exists, so nobody can flood an inbox with reset emails."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.journeys import post_form, register


def test_a_fourth_reset_request_for_one_account_in_quick_succession_waits(
    client: TestClient,
) -> None:
    email = register(client)
    client.cookies.clear()
    for _ in range(3):
        sent = post_form(client, "/forgot-password", {"email": email}, from_page="/forgot-password")
        assert sent.status_code == 200, sent.text
    refused = post_form(client, "/forgot-password", {"email": email}, from_page="/forgot-password")
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    other = post_form(
        client, "/forgot-password", {"email": "nobody@example.org"}, from_page="/forgot-password"
    )
    assert other.status_code == 200
