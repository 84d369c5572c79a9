"""Accounts through the real app: register, sign in and out, passwords, sessions, CSRF."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import accounts
from app.accounts.rate_limits import Limit
from app.store import Database
from app.store.accounts import User, UserSession
from tests.journeys import PASSWORD, csrf_from, login, new_client, post_form, register


def test_a_new_trainee_registers_and_lands_on_their_dashboard(
    client: TestClient, db: Database
) -> None:
    register(client, "Ana@Example.org", name="Ana")
    page = client.get("/dashboard")
    assert page.status_code == 200 and "Hello, Ana" in page.text
    with db.unit_of_work(write=False) as session:
        user = session.scalars(select(User)).one()
        assert user.email == "ana@example.org" and user.role == "trainee"
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_the_session_cookie_is_httponly_samesite_and_holds_no_user_id(client: TestClient) -> None:
    response = post_form(
        client,
        "/register",
        {"email": "b@example.org", "display_name": "B", "password": PASSWORD},
        from_page="/register",
    )
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "pp_session" in v
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_registration_problems_are_shown_next_to_the_field_and_keep_what_was_typed(
    client: TestClient,
) -> None:
    response = post_form(
        client,
        "/register",
        {"email": "carmen@example.org", "display_name": "Carmen", "password": "short"},
        from_page="/register",
    )
    assert response.status_code == 400
    assert 'aria-describedby="f-password-hint f-password-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="carmen@example.org"' in response.text


def test_sign_in_out_and_the_dashboard_needs_a_session(client: TestClient, app: FastAPI) -> None:
    email = register(client)
    post_form(client, "/logout", {}, from_page="/dashboard")
    assert (
        client.get("/dashboard", follow_redirects=False).headers["location"]
        == "/login?next=/dashboard"
    )
    wrong = login(client, email, "not the password")
    assert wrong.status_code == 401 and "do not match an account" in wrong.text
    unknown = login(client, "nobody@example.org", "whatever password")
    assert unknown.status_code == 401 and "do not match an account" in unknown.text
    right = login(client, email)
    assert right.status_code == 303 and right.headers["location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_logging_out_ends_the_session_on_the_server_not_just_the_cookie(
    client: TestClient, db: Database
) -> None:
    register(client)
    stolen = dict(client.cookies)
    post_form(client, "/logout", {}, from_page="/dashboard")
    thief = TestClient(client.app, cookies=stolen)
    assert thief.get("/dashboard", follow_redirects=False).status_code == 303
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_changing_the_password_ends_every_other_session(client: TestClient, app: FastAPI) -> None:
    email = register(client)
    other = new_client(app)
    assert login(other, email).status_code == 303
    response = post_form(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 303
    assert client.get("/account").status_code == 200  # this browser stays signed in
    assert other.get("/dashboard", follow_redirects=False).status_code == 303
    assert login(other, email, "a brand new passphrase").status_code == 303


def test_a_wrong_current_password_changes_nothing(client: TestClient) -> None:
    email = register(client)
    response = post_form(
        client,
        "/account/password",
        {"current_password": "wrong one!", "new_password": "another passphrase"},
    )
    assert response.status_code == 400 and "current password is not right" in response.text
    post_form(client, "/logout", {}, from_page="/dashboard")
    assert login(client, email).status_code == 303


@pytest.mark.parametrize(
    ("path", "data", "page"),
    [
        (
            "/register",
            {"email": "x@example.org", "display_name": "X", "password": PASSWORD},
            "/register",
        ),
        ("/login", {"email": "x@example.org", "password": PASSWORD}, "/login"),
        (
            "/account/password",
            {"current_password": PASSWORD, "new_password": "changed by attacker"},
            "/account",
        ),
        ("/account/delete", {"delete_password": PASSWORD}, "/account"),
        ("/learn/sample-programme/enrol", {}, "/account"),
        ("/logout", {}, "/account"),
    ],
)
@pytest.mark.parametrize("token", ["missing", "wrong", "from-another-browser"])
def test_forms_without_the_right_csrf_token_are_refused_and_change_nothing(
    client: TestClient,
    app: FastAPI,
    db: Database,
    path: str,
    data: dict[str, str],
    page: str,
    token: str,
) -> None:
    email = register(client, "owner@example.org")
    with db.unit_of_work(write=False) as session:
        before = session.scalars(select(User.password_hash)).one()
        sessions_before = session.scalar(select(func.count()).select_from(UserSession))
    form = dict(data)
    if token == "wrong":
        form["csrf_token"] = "0" * 64
    elif token == "from-another-browser":
        form["csrf_token"] = csrf_from(new_client(app), "/login")
    response = client.post(path, data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "nothing was changed" in response.text
    with db.unit_of_work(write=False) as session:
        assert session.scalars(select(User.password_hash)).one() == before
        assert session.scalar(select(func.count()).select_from(User)) == 1
        assert session.scalar(select(func.count()).select_from(UserSession)) == sessions_before
    assert client.get("/dashboard").status_code == 200
    assert email


def test_login_is_rate_limited_per_account_with_a_clear_message_and_retry_after(
    client: TestClient,
) -> None:
    email = register(client)
    post_form(client, "/logout", {}, from_page="/dashboard")
    for _ in range(5):
        assert login(client, email, "guessing wrong").status_code == 401
    blocked = login(client, email, "guessing wrong")
    assert blocked.status_code == 401  # the sixth failure starts the block
    refused = login(client, email)  # even the right password waits
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "too many sign-in attempts" in refused.text
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_login_is_rate_limited_per_address_across_accounts(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(accounts, "PER_ADDRESS", Limit(free=8, window=timedelta(minutes=15)))
    for n in range(8):
        assert login(client, f"spray{n}@example.org", "guess").status_code == 401
    assert login(client, "spray-last@example.org", "guess").status_code == 401
    refused = login(client, "spray-after@example.org", "guess")
    assert refused.status_code == 429 and "too many sign-in attempts" in refused.text


def test_password_reset_link_is_logged_when_no_mail_is_configured_and_works_once(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    email = register(client)
    post_form(client, "/logout", {}, from_page="/dashboard")
    with caplog.at_level(logging.WARNING, logger="peerpath.accounts"):
        known = post_form(
            client, "/forgot-password", {"email": email}, from_page="/forgot-password"
        )
        unknown = post_form(
            client, "/forgot-password", {"email": "who@example.org"}, from_page="/forgot-password"
        )
    assert known.status_code == unknown.status_code == 200
    assert "If an account uses that email" in known.text
    assert "If an account uses that email" in unknown.text
    links = re.findall(r"http://testserver(/reset-password/\S+)", caplog.text)
    assert len(links) == 1, "a link only for the account that exists"
    link = links[0]
    response = post_form(client, link, {"new_password": "my new passphrase"}, from_page=link)
    assert response.status_code == 303
    assert client.get("/dashboard").status_code == 200
    again = client.get(link)
    assert "expired or has already been used" in again.text
    post_form(client, "/logout", {}, from_page="/dashboard")
    assert login(client, email).status_code == 401
    assert login(client, email, "my new passphrase").status_code == 303


def test_a_tampered_reset_link_is_refused(client: TestClient) -> None:
    page = client.get("/reset-password/not-a-real-token")
    assert "expired or has already been used" in page.text
