"""Prepared statements (the hot paths' way to the database) must read and write exactly what
the ORM reads and writes, on SQLite and on PostgreSQL, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.config import Settings
from app.store import Database, connect
from app.store.accounts import User, UserSession
from app.store.prepared import Prepared, ReadOnlyError, raw_connection_of, reading, writing

SESSION_OF = Prepared(
    select(UserSession.user_id, UserSession.kind, UserSession.expires_at).where(
        UserSession.token_hash == bindparam("token_hash")
    )
)
USERS_AFTER = Prepared(
    select(User.email).where(User.created_at > bindparam("after")).order_by(User.email)
)
RENAME = Prepared(
    update(User).where(User.id == bindparam("user")).values(display_name=bindparam("name"))
)


def _insert_user(dialect: str) -> object:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(User)
        .values(
            email=bindparam("email"),
            display_name="Pat",  # a constant written into the statement
            role="trainee",
            password_hash="-",
            created_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(User.id, User.display_name)
    )


INSERT_USER = Prepared(_insert_user)  # type: ignore[arg-type]


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    found = connect(settings)
    yield found
    found.dispose()


def _user_with_session(database: Database, expires_at: datetime) -> int:
    with database.unit_of_work() as session:
        user = User(email="pat@example.org", display_name="Pat", role="trainee", password_hash="-")
        session.add(user)
        session.flush()
        session.add(
            UserSession(token_hash="t" * 64, user_id=user.id, kind="browser", expires_at=expires_at)
        )
        return user.id


def test_values_come_back_as_the_orm_reads_them(database: Database) -> None:
    expires = datetime(2031, 5, 17, 9, 30, 12, 345678, tzinfo=UTC)
    user_id = _user_with_session(database, expires)
    with database.unit_of_work(write=False) as session:
        through_orm = session.scalars(select(UserSession)).one()
        row = SESSION_OF.first(raw_connection_of(session), token_hash="t" * 64)
    assert row == (user_id, "browser", expires)
    assert row is not None and row[2] == through_orm.expires_at and row[2].tzinfo is not None


def test_time_zones_are_converted_before_comparing(database: Database) -> None:
    _user_with_session(database, datetime(2031, 1, 1, tzinfo=UTC))
    with reading(database.reader) as connection:
        created = SESSION_OF.first(connection, token_hash="t" * 64)
        assert created is not None
        # An hour from now, written as New York time: the user was created before it (compared
        # as wall-clock text, without conversion to UTC, it would be four hours ago).
        new_york = timezone(timedelta(hours=-5))
        later_elsewhere = (datetime.now(UTC) + timedelta(hours=1)).astimezone(new_york)
        assert USERS_AFTER.rows(connection, after=later_elsewhere) == []
        assert USERS_AFTER.rows(connection, after=datetime.now(UTC) - timedelta(hours=1)) == [
            ("pat@example.org",)
        ]


def test_a_missing_row_is_none_and_an_unknown_parameter_is_an_error(database: Database) -> None:
    with reading(database.reader) as connection:
        assert SESSION_OF.first(connection, token_hash="nobody") is None
        with pytest.raises(KeyError):
            SESSION_OF.first(connection, token="misspelt")


def test_writes_join_the_sessions_transaction_and_see_its_pending_changes(
    database: Database,
) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        user = User(email="sam@example.org", display_name="Sam", role="trainee", password_hash="-")
        session.add(user)  # not flushed: the prepared statement must still see the new row
        connection = raw_connection_of(session)
        assert RENAME.run(connection, user=user.id, name="Samuel") == 1
        session.expire(user)
        assert user.display_name == "Samuel"  # the ORM reads it in the same transaction
        raise RuntimeError("roll the whole unit back")
    with database.unit_of_work(write=False) as session:
        assert session.scalars(select(User).where(User.email == "sam@example.org")).first() is None


def test_insert_returning_with_a_constant_and_a_dialects_own_statement(database: Database) -> None:
    now = datetime.now(UTC)
    with database.unit_of_work() as session:
        connection = raw_connection_of(session)
        first = INSERT_USER.rows(connection, email="kim@example.org", at=now)
        again = INSERT_USER.rows(connection, email="kim@example.org", at=now)
    assert len(first) == 1 and first[0][1] == "Pat"
    assert again == []  # the conflict did nothing, and returned nothing
    with database.unit_of_work(write=False) as session:
        stored = session.scalars(select(User).where(User.email == "kim@example.org")).one()
    assert stored.id == first[0][0] and stored.created_at == now


def test_reading_refuses_a_prepared_write_and_leaves_nothing_behind(database: Database) -> None:
    user_id = _user_with_session(database, datetime(2031, 1, 1, tzinfo=UTC))
    with pytest.raises(ReadOnlyError), reading(database.reader) as connection:
        assert SESSION_OF.first(connection, token_hash="t" * 64) is not None  # reads are fine
        RENAME.run(connection, user=user_id, name="Changed while reading")
    with database.unit_of_work(write=False) as session:
        assert session.get(User, user_id).display_name == "Pat"  # type: ignore[union-attr]


def test_a_connection_lent_for_reading_goes_back_to_the_pool_transactional(
    database: Database, settings: Settings
) -> None:
    # On PostgreSQL reads run in autocommit; the connection must not keep that afterwards,
    # or a failed write would leave its first statements committed. One pooled connection,
    # so the write below gets the very connection the reads used.
    single = connect(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    try:
        user_id = _user_with_session(single, datetime(2031, 1, 1, tzinfo=UTC))
        for _ in range(2):
            with reading(single.reader) as connection:
                SESSION_OF.first(connection, token_hash="t")
            with pytest.raises(RuntimeError), writing(single.writer) as connection:
                RENAME.run(connection, user=user_id, name="Half done")
                raise RuntimeError("the request failed after its first write")
            with single.unit_of_work(write=False) as session:
                assert session.get(User, user_id).display_name == "Pat"  # type: ignore[union-attr]
    finally:
        single.dispose()


def test_writing_commits_at_the_end_and_keeps_nothing_of_a_failure(database: Database) -> None:
    user_id = _user_with_session(database, datetime(2031, 1, 1, tzinfo=UTC))
    with pytest.raises(RuntimeError), writing(database.writer) as connection:
        RENAME.run(connection, user=user_id, name="Half done")
        raise RuntimeError("the request failed after its first write")
    with database.unit_of_work(write=False) as session:
        assert session.get(User, user_id).display_name == "Pat"  # type: ignore[union-attr]
    with writing(database.writer) as connection:
        RENAME.run(connection, user=user_id, name="Renamed")
    with database.unit_of_work(write=False) as session:
        assert session.get(User, user_id).display_name == "Renamed"  # type: ignore[union-attr]


def test_a_column_default_computed_in_python_must_be_given(database: Database) -> None:
    # `created_at` defaults to "now", which only SQLAlchemy's execution machinery fills in.
    forgetful = Prepared(
        insert(User).values(email=bindparam("email"), display_name="Pat", password_hash="-")
    )
    with database.unit_of_work() as session, pytest.raises(ValueError, match="created_at"):
        forgetful.run(raw_connection_of(session), email="lee@example.org")
