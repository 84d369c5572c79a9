"""50 trainees on flaky phones write progress at the same moment, to a real server on
127.0.0.1: every write lands exactly once (and a retry of each adds nothing)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from app import accounts, learning
from app.config import Settings
from app.store import Database
from app.store.learning import IdempotencyRecord, LessonProgress
from app.web import create_app
from tests.journeys import PASSWORD, PROGRAMME

TRAINEES = 50


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on 127.0.0.1, in a thread."""
    port = _free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def trainees(server: str, settings: Settings) -> Iterator[list[str]]:
    """50 enrolled trainees, each with an API token."""
    from app.store import connect

    database = connect(settings)
    tokens = []
    with database.unit_of_work() as session:
        for n in range(TRAINEES):
            user = accounts.create_user(
                session, email=f"t{n}@example.org", display_name=f"T{n}", password=PASSWORD
            )
            learning.enrol(session, user, PROGRAMME)
            tokens.append(
                accounts.start_session(session, user, kind="api", lifetime=timedelta(hours=1))
            )
    database.dispose()
    yield tokens


def test_fifty_concurrent_progress_writes_all_land_exactly_once(
    server: str, trainees: list[str], settings: Settings
) -> None:
    start = threading.Barrier(TRAINEES)
    results: dict[int, list[int]] = {}
    url = f"{server}/api/v1/enrolments/{PROGRAMME}/progress"
    body = {
        "completed": [{"module_id": "welcome", "lesson_id": "what-peer-support-is"}],
        "time": [{"module_id": "welcome", "lesson_id": "what-peer-support-is", "seconds": 90}],
    }

    def trainee(n: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        with httpx.Client(timeout=60) as http:
            start.wait()
            first = http.post(url, json=body, headers=headers)
            retry = http.post(url, json=body, headers=headers)  # the phone never saw the answer
            results[n] = [first.status_code, retry.status_code]

    threads = [threading.Thread(target=trainee, args=(n, t)) for n, t in enumerate(trainees)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(results) == list(range(TRAINEES))
    assert all(codes == [200, 200] for codes in results.values()), results
    database: Database
    from app.store import connect

    database = connect(settings)
    try:
        with database.unit_of_work(write=False) as session:
            rows = session.execute(
                select(
                    LessonProgress.enrolment_id,
                    LessonProgress.seconds_spent,
                    LessonProgress.completed_at,
                )
            ).all()
            keys = session.scalar(select(func.count()).select_from(IdempotencyRecord))
    finally:
        database.dispose()
    assert len(rows) == TRAINEES, "one progress row per trainee: none lost, none duplicated"
    assert len({r.enrolment_id for r in rows}) == TRAINEES
    assert all(r.seconds_spent == 90 and r.completed_at is not None for r in rows)
    assert keys == TRAINEES
