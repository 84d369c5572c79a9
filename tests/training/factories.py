"""Trainers, trainees and cohorts for the trainer-workspace tests, through the real app."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.store import Database
from app.store.accounts import User
from app.store.learning import Cohort
from tests.journeys import csrf_from, login, new_client, register

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@dataclass
class Person:
    client: TestClient
    email: str
    id: int


def person(app: FastAPI, db: Database, role: str = "trainee", name: str = "Ana") -> Person:
    """A signed-in browser of a new account with this role."""
    client = new_client(app)
    email = register(client, f"{role}-{uuid.uuid4().hex[:8]}@example.org", name=name)
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.email == email).values(role=role))
        user_id = session.scalars(select(User.id).where(User.email == email)).one()
    login(client, email)
    return Person(client, email, user_id)


def post(client: TestClient, path: str, data: dict[str, str] | None = None, *, page: str, **kw):  # type: ignore[no-untyped-def]
    """Submit a form with the CSRF token of a page the browser was shown."""
    return client.post(
        path,
        data={**(data or {}), "csrf_token": csrf_from(client, page)},
        follow_redirects=False,
        **kw,
    )


def create_cohort(
    trainer: Person, name: str = "Spring cohort", programme: str = "sample-programme"
) -> int:
    response = post(
        trainer.client, "/train/cohorts", {"name": name, "programme": programme}, page="/train"
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[3])


def join_code(db: Database, cohort_id: int) -> str:
    with db.unit_of_work(write=False) as session:
        return session.get(Cohort, cohort_id).join_code  # type: ignore[union-attr]


def join(trainee: Person, code: str) -> None:
    response = post(trainee.client, "/join", {"join_code": code}, page="/join")
    assert response.status_code == 303, response.text
