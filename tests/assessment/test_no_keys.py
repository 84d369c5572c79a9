"""Answer keys, expert ratings, rationales, feedback and model answers never reach the browser
before submission: checked on the attempt page and the attempt API for every question
assessment of the sample curriculum and of the real programme."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.assessment import start_attempt
from app.catalog import load_release
from app.scoring.definitions import QuestionAssessment
from app.store import Database
from app.store.learning import Enrolment
from tests.assessment.conftest import ROOT
from tests.conftest import SAMPLE_CURRICULUM
from tests.journeys import api_token, enrol, register

PUBLIC_FIELDS = {
    "id", "type", "prompt", "statement", "scenario", "question", "mode", "min_words", "options",
}  # fmt: skip
SECRET_FIELDS = ("correct", "rating", "rationale", "feedback", "answer", "model_answer", "look_for")


def secrets_of(assessment: QuestionAssessment) -> list[str]:
    """Every text that may only be shown after submission, for the whole bank."""
    found: list[str] = []
    for item in assessment.items:
        for text in (item.feedback, getattr(item, "model_answer", None)):
            if text:
                found.append(text.strip())
        for option in getattr(item, "options", []):
            if getattr(option, "rationale", None):
                found.append(option.rationale.strip())
    return found


def walk_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in walk_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in walk_keys(v)}
    return set()


@pytest.fixture(params=["sample", "real"])
def curriculum_path(request: pytest.FixtureRequest) -> Path:
    return SAMPLE_CURRICULUM if request.param == "sample" else ROOT


def test_no_key_before_submission(client: TestClient, db: Database, curriculum_path: Path) -> None:
    programme = client.get("/").text.split('href="/learn/', 1)[1].split('"', 1)[0]
    email = register(client)
    enrol(client, programme)
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        release = load_release(session, enrolment.release_id)
        assessments = [a for a in release.assessments.values() if isinstance(a, QuestionAssessment)]
        # Started through the service so that every module's checks are reachable at once.
        attempts = {a.id: start_attempt(session, enrolment, release, a.id).id for a in assessments}
    assert assessments, "the curriculum has question assessments"
    kinds = {a.kind for a in assessments}
    if curriculum_path == ROOT:
        assert kinds == {"knowledge-check", "situational-judgement", "free-text"}
    page_client = client
    api_client = TestClient(client.app)
    auth = api_token(api_client, email)
    api_client.cookies.clear()
    checked = 0
    for assessment in assessments:
        attempt_id = attempts[assessment.id]
        page = page_client.get(f"/attempts/{attempt_id}")
        assert page.status_code == 200, page.text
        api = api_client.get(f"/api/v1/attempts/{attempt_id}", headers=auth)
        assert api.status_code == 200
        body = api.json()
        for item in body["items"]:
            assert set(item) <= PUBLIC_FIELDS, item
            for option in item.get("options", []):
                assert set(option) == {"id", "text"}
        assert not set(SECRET_FIELDS) & walk_keys(body["items"])
        page_text = html.unescape(page.text)
        api_text = json.dumps(body, ensure_ascii=False)
        for secret in secrets_of(assessment):
            assert secret not in page_text, (assessment.id, secret)
            assert json.dumps(secret, ensure_ascii=False)[1:-1] not in api_text, (
                assessment.id,
                secret,
            )
            checked += 1
        # The control: once submitted, the review shows them (so the check above can fail).
        submitted = api_client.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth)
        assert submitted.status_code == 200, submitted.text
        review = html.unescape(page_client.get(f"/attempts/{attempt_id}/review").text)
        if secrets_of(assessment):
            assert any(secret in review for secret in secrets_of(assessment)), assessment.id
    assert checked > (100 if curriculum_path == ROOT else 0)
