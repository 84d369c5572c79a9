"""PostgreSQL connections in the pool: one closed by the server while idle is replaced before
use, without a round trip for every checkout of a connection in steady use; busy requests
wait for the pool's own connections rather than open (and close) overflow ones."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from app.config import Settings
from app.store import connect, db
from app.web import create_app
from tests.journeys import PROGRAMME, api_token, enrol, register

pytestmark = pytest.mark.postgres_only


def _backend_pid(database: db.Database) -> int:
    with database.unit_of_work(write=False) as session:
        return int(session.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = connect(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    admin = connect(settings)
    try:
        pid = _backend_pid(database)
        assert _backend_pid(database) == pid  # the pool keeps its one connection
        with admin.unit_of_work() as session:  # closed by the server, as in a restart
            session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(db, "IDLE_PING_AFTER", 0.0)  # it has been idle long enough
        assert _backend_pid(database) != pid  # a fresh connection, and no error
    finally:
        admin.dispose()
        database.dispose()


def test_a_connection_in_steady_use_is_not_pinged(settings: Settings) -> None:
    database = connect(settings)
    pings: list[Any] = []
    ping = database.reader.dialect.do_ping

    def counted(connection: Any) -> bool:
        pings.append(connection)
        return ping(connection)

    database.reader.dialect.do_ping = counted  # type: ignore[method-assign,assignment]
    try:
        for _ in range(5):
            _backend_pid(database)
    finally:
        database.dispose()
    assert pings == []


def test_busy_requests_share_the_pool_without_opening_overflow_connections(
    settings: Settings,
) -> None:
    # Overflow connections are closed when given back: if requests used them, a busy server
    # would have PostgreSQL start a process for every few requests. Requests wait at the
    # gate for one of the pool's own connections instead.
    app = create_app(settings.model_copy(update={"db_pool_size": 2, "db_max_overflow": 8}))
    with TestClient(app) as client:
        email = register(client)
        enrol(client)
        auth = api_token(client, email)
        pool = app.state.database.writer.pool
        opened: list[object] = []
        event.listen(pool, "connect", lambda connection, record: opened.append(connection))
        lesson = {"module_id": "welcome", "lesson_id": "what-peer-support-is"}

        def save(n: int) -> int:
            response = client.post(
                f"/api/v1/enrolments/{PROGRAMME}/progress",
                json={"time": [{**lesson, "seconds": 1}]},
                headers={**auth, "Idempotency-Key": f"busy-{n}"},
            )
            return response.status_code

        with ThreadPoolExecutor(max_workers=24) as threads:
            statuses = list(threads.map(save, range(96)))
        assert statuses == [200] * 96
        assert len(opened) <= 2 and pool.overflow() <= 0
        seconds = client.get("/api/v1/me/export", headers=auth).json()["enrolments"][0]["lessons"]
        assert [p["seconds_spent"] for p in seconds if p["lesson_id"] == lesson["lesson_id"]] == [
            96
        ]
