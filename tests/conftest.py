"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when DATABASE_URL says so),
the real app behind FastAPI's test client, and the sample curriculum."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.store import Base, Database, connect
from app.store.migrate import upgrade
from app.web import create_app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CURRICULUM = ROOT / "tests" / "data" / "sample-curriculum"
SHARED = ROOT.parent / "shared"

POSTGRES_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="needs DATABASE_URL pointing at PostgreSQL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)


def _postgres_url(schema: str) -> str:
    url = make_url(POSTGRES_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per test run: an SQLite file to copy, or a PostgreSQL schema."""
    if ON_POSTGRES:
        schema = f"pp_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(_postgres_url("public"))
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _postgres_url(schema)
        engine = create_engine(url)
        with engine.connect() as connection:
            upgrade(connection)
            connection.commit()
        engine.dispose()
        yield url
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        database = connect(Settings(database_url=f"sqlite:///{path}"))
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
        database.dispose()
        yield str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database for one test."""
    if ON_POSTGRES:
        yield migrated_template
        engine = create_engine(migrated_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    else:
        path = tmp_path / "peerpath.db"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def curriculum_path() -> Path:
    """The curriculum the test server publishes at start-up (override to use another)."""
    return SAMPLE_CURRICULUM


@pytest.fixture
def settings(database_url: str, tmp_path: Path, curriculum_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        curriculum_path=curriculum_path,
        secret_key="test-secret-key-not-for-production",
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(settings: Settings, client: TestClient) -> Iterator[Database]:
    """Direct access to the test server's database, for assertions about what was stored."""
    database = connect(settings)
    yield database
    database.dispose()
