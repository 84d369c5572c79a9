"""A lesson page asks only whether its lesson is done and what its module waits for: the answer
must be the one the whole programme's progress gives, whatever the trainee has completed."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.catalog import load_release
from app.compiler import Release, compile_curriculum
from app.learning.progress import (
    lesson_standing,
    load_progress,
    mark_complete,
    progress_of,
    standing_of,
)
from app.store import Database
from app.store.learning import Enrolment
from tests.conftest import SAMPLE_CURRICULUM
from tests.journeys import enrol, register

AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def release() -> Release:
    built = compile_curriculum(SAMPLE_CURRICULUM).release
    assert built is not None
    return built


def _assert_same_as_progress(release: Release, rows: list[tuple[object, ...]]) -> None:
    progress = progress_of(release, rows, None)
    completed = [row[:2] for row in rows if row[2] is not None]
    for module_id, lesson_id in release.lesson_ids():
        module = release.module(module_id)
        standing = standing_of(release, module, lesson_id, completed)
        assert standing.done == ((module_id, lesson_id) in progress.completed)
        assert standing.waiting_for == progress.module_progress(module_id).waiting_for


def test_every_set_of_completed_lessons_gives_the_same_answer_as_the_full_progress(
    release: Release,
) -> None:
    lessons = release.lesson_ids()
    for size in range(len(lessons) + 1):
        for done in combinations(lessons, size):
            rows: list[tuple[object, ...]] = [(m, lesson, AT, 60) for m, lesson in done]
            # Visited but not completed, and completed in a lesson the release no longer has.
            rows += [(*lessons[-1], None, 30), ("welcome", "a-removed-lesson", AT, 0)]
            _assert_same_as_progress(release, rows)


def test_a_locked_module_names_the_modules_it_waits_for(release: Release) -> None:
    welcome = [key for key in release.lesson_ids() if key[0] == "welcome"]
    module = release.module("boundaries-basics")
    locked = standing_of(release, module, "confidentiality", welcome[:1])
    assert [m.id for m in locked.waiting_for] == ["welcome", "listening-basics"]
    still = standing_of(release, module, "confidentiality", welcome)
    assert [m.id for m in still.waiting_for] == ["listening-basics"]
    assert not still.done


def test_the_stored_standing_matches_the_stored_progress(client: TestClient, db: Database) -> None:
    register(client)
    enrol(client)
    with db.unit_of_work() as session:
        enrolment = session.scalars(select(Enrolment)).one()
        release = load_release(session, enrolment.release_id)
        for key in [*release.lesson_ids()[:2], None, *release.lesson_ids()[2:4]]:
            if key is not None:
                mark_complete(session, enrolment, *key)
            progress = load_progress(session, enrolment, release)
            for module_id, lesson_id in release.lesson_ids():
                module = release.module(module_id)
                standing = lesson_standing(session, enrolment, release, module, lesson_id)
                assert standing.done == ((module_id, lesson_id) in progress.completed)
                assert standing.waiting_for == progress.module_progress(module_id).waiting_for
