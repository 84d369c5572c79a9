"""PostgreSQL connections in the pool: one closed by the server while idle is replaced before
use, without a round trip for every checkout of a connection in steady use."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from app.config import Settings
from app.store import connect, db

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
