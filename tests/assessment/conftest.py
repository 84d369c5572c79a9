"""Fixtures for assessment stories: trainees and trainers on the real app, a curriculum with a
timed, cooled-down knowledge check, and direct database helpers."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select, update

from app.store import Database
from app.store.accounts import User
from app.store.assessment import Attempt
from tests.conftest import SAMPLE_CURRICULUM
from tests.journeys import complete, csrf_from, enrol, new_client, register

ROOT = Path(__file__).resolve().parents[2]


def post(client: TestClient, path: str, data: dict[str, Any], *, from_page: str) -> Response:
    """Submit a form as a browser does, with the CSRF token of the page it was on."""
    return client.post(
        path, data={**data, "csrf_token": csrf_from(client, from_page)}, follow_redirects=False
    )


def set_role(db: Database, email: str, role: str) -> int:
    with db.unit_of_work() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        user.role = role
        return user.id


def attempt_row(db: Database, attempt_id: int) -> Attempt:
    with db.unit_of_work(write=False) as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        session.expunge(attempt)
        return attempt


def move_clock(db: Database, attempt_id: int, **changes: Any) -> None:
    """Pretend time passed: rewrite the attempt's server-side times (never sleep)."""
    with db.unit_of_work() as session:
        session.execute(update(Attempt).where(Attempt.id == attempt_id).values(**changes))


@pytest.fixture
def trainee(client: TestClient) -> TestClient:
    """A trainee (the test client's own browser), enrolled in the programme."""
    register(client, "trainee.one@example.org", name="Tess Trainee")
    ready(client)
    return client


def ready(client: TestClient) -> None:
    """Enrol and finish the welcome module, which the listening module (and its check) needs."""
    enrol(client)
    complete(client, "welcome", "what-peer-support-is")
    complete(client, "welcome", "how-this-course-works")


@pytest.fixture
def browser(app: FastAPI) -> Callable[[], TestClient]:
    """Open another browser on the same app."""
    opened: list[TestClient] = []

    def _open() -> TestClient:
        c = new_client(app)
        opened.append(c)
        return c

    return _open


@pytest.fixture
def timed_curriculum(tmp_path: Path) -> Path:
    """The sample curriculum with its knowledge check timed (20 min), limited to two attempts
    and a 30-minute pause between them."""
    target = tmp_path / "curriculum-copy"
    shutil.copytree(SAMPLE_CURRICULUM, target)
    path = target / "assessments" / "listening-check.yaml"
    text = path.read_text().replace(
        "max_attempts: 3", "max_attempts: 2\ntime_limit_minutes: 20\ncooldown_minutes: 30"
    )
    path.write_text(text)
    return target
