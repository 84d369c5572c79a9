"""Prepared statements for the few hottest queries: compiled once, run on the DB-API cursor.

SQLAlchemy's per-execution machinery (execution context, result objects, ORM identity map)
costs 90–300 µs a statement here, against 10–50 µs for the query itself. The lesson page,
progress writes and verification run a handful of fixed statements thousands of times a
second, so for them a Core statement is compiled once per dialect, and each run only applies
the column types' own bind and result processors (so values match what the ORM stores and
reads, time zones included) around a plain cursor call. Everything else uses the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol, cast

from sqlalchemy import Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any] | None


class HasId(Protocol):
    """A row by its id: an ORM object or a plain value made from a prepared query."""

    @property
    def id(self) -> int: ...


@dataclass(frozen=True)
class _Constant:
    value: Any


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: tuple[str, ...] | None  # parameter names in order, for `?` paramstyles
    binds: dict[str, tuple[str | _Constant, Processor]]
    results: tuple[Processor, ...]
    writes: bool  # an INSERT, UPDATE or DELETE


@dataclass(frozen=True)
class RawConnection:
    """A DB-API connection inside a transaction, with the dialect that says how to talk to it."""

    dbapi: Any
    dialect: Dialect
    read_only: bool = False  # prepared writes are refused (see `reading`)

    @cached_property
    def cursor(self) -> Any:
        """The cursor every prepared statement of this unit of work runs on (a new psycopg
        cursor costs about 20 µs, as much as a simple query)."""
        return self.dbapi.cursor()


class ReadOnlyError(RuntimeError):
    """A prepared write was run on a connection given out for reading (a bug)."""


class Prepared:
    """A Core statement (with named `bindparam`s) compiled per dialect, run without the ORM.

    `statement` is the statement, or a function of the dialect's name giving it (for
    constructs such as `INSERT … ON CONFLICT` that each dialect builds its own way).
    """

    def __init__(self, statement: ClauseElement | Callable[[str], ClauseElement]) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = (
                self._statement(dialect.name) if callable(self._statement) else self._statement
            )
            sql = cast(SQLCompiler, statement.compile(dialect=dialect))
            if sql.insert_prefetch or sql.update_prefetch:
                # Column defaults computed in Python (such as a timestamp) are filled in by
                # SQLAlchemy's execution machinery, which this path skips.
                names = ", ".join(c.key for c in [*sql.insert_prefetch, *sql.update_prefetch])
                raise ValueError(f"give these columns a value explicitly: {names}")
            # Each parameter as the SQL names it: a value the caller passes (a `bindparam`
            # without a value), or a constant written into the statement; with its processor.
            binds: dict[str, tuple[str | _Constant, Processor]] = {
                rendered: (
                    bind.key if bind.required else _Constant(bind.effective_value),
                    bind.type._cached_bind_processor(dialect),
                )
                for bind, rendered in sql.bind_names.items()
            }
            # What a SELECT (or an INSERT/UPDATE … RETURNING) gives back.
            columns = getattr(statement, "exported_columns", ())
            results = tuple(c.type._cached_result_processor(dialect, None) for c in columns)
            positional = tuple(sql.positiontup) if sql.positional and sql.positiontup else None
            writes = bool(sql.isinsert or sql.isupdate or sql.isdelete)
            compiled = _Compiled(sql.string, positional, binds, results, writes)
            self._compiled[dialect.name] = compiled
        return compiled

    def _execute(self, connection: RawConnection, params: dict[str, Any]) -> tuple[Any, _Compiled]:
        compiled = self._for(connection.dialect)
        if compiled.writes and connection.read_only:
            raise ReadOnlyError(f"a write in a read-only unit of work: {compiled.sql}")
        values = {}
        for rendered, (source, processor) in compiled.binds.items():
            value = source.value if isinstance(source, _Constant) else params[source]
            values[rendered] = processor(value) if processor else value
        cursor = connection.cursor
        if compiled.positional is not None:
            cursor.execute(compiled.sql, tuple(values[name] for name in compiled.positional))
        else:
            cursor.execute(compiled.sql, values)
        return cursor, compiled

    def run(self, connection: RawConnection, **params: Any) -> int:
        """Execute a statement that returns no rows; the number of rows it changed."""
        cursor, _ = self._execute(connection, params)
        count: int = cursor.rowcount
        return count

    def rows(self, connection: RawConnection, **params: Any) -> list[tuple[Any, ...]]:
        """Every row, each value converted as the ORM would read it."""
        cursor, compiled = self._execute(connection, params)
        fetched: Sequence[Sequence[Any]] = cursor.fetchall()
        processors = compiled.results
        if not any(processors):
            return [tuple(row) for row in fetched]
        return [
            tuple(p(v) if p else v for p, v in zip(processors, row, strict=True)) for row in fetched
        ]

    def first(self, connection: RawConnection, **params: Any) -> tuple[Any, ...] | None:
        found = self.rows(connection, **params)
        return found[0] if found else None


Connectable = Session | RawConnection


def raw_connection_of(session: Connectable) -> RawConnection:
    """The DB-API connection behind a session, inside the session's current transaction
    (or the raw connection itself).

    Pending ORM changes are flushed first, so prepared statements see them (as ORM queries
    would, by autoflush)."""
    if isinstance(session, RawConnection):
        return session
    session.flush()
    connection = session.connection()
    return RawConnection(connection.connection.dbapi_connection, connection.dialect)


def writing(engine: Engine) -> AbstractContextManager[RawConnection]:
    """A writing transaction on a pooled DB-API connection: committed when the block ends,
    rolled back if it raises (for work that needs no ORM session)."""
    return _transaction(engine, write=True)


def reading(engine: Engine) -> AbstractContextManager[RawConnection]:
    """A pooled DB-API connection for reading: prepared writes on it are refused.

    On SQLite the reads share one transaction (one snapshot of the file). On PostgreSQL each
    statement runs on its own (autocommit): under READ COMMITTED every statement takes its
    own snapshot anyway, in a transaction or not, so a BEGIN and a ROLLBACK would only add two
    round trips to the server (for a verification, three round trips instead of one)."""
    return _transaction(engine, write=False)


@contextmanager
def _transaction(engine: Engine, *, write: bool) -> Iterator[RawConnection]:
    pooled = engine.raw_connection()
    try:
        dbapi: Any = pooled.dbapi_connection
        sqlite = engine.dialect.name == "sqlite"
        if not sqlite and not write:
            dbapi.autocommit = True
            try:
                yield RawConnection(dbapi, engine.dialect, read_only=True)
            finally:
                try:
                    dbapi.autocommit = False
                except Exception:
                    # Never give the pool a connection that would commit every statement.
                    pooled.invalidate()
                    raise
            return
        if sqlite:  # autocommit mode (see db.py): begin explicitly, a writer with the lock
            dbapi.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        keep = False
        try:
            yield RawConnection(dbapi, engine.dialect, read_only=not write)
            keep = write
        finally:
            # A reader wrote nothing, and a failed writer keeps nothing: either way a
            # rollback ends the transaction (and releases a reader's snapshot).
            if keep:
                dbapi.execute("COMMIT") if sqlite else dbapi.commit()
            else:
                dbapi.execute("ROLLBACK") if sqlite else dbapi.rollback()
    finally:
        pooled.close()  # after a failed COMMIT the pool rolls back what is left
