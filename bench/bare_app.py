"""The reference for bench/load.py: a bare FastAPI app that renders one lesson with Jinja2 after
one indexed SQLite query, nothing else (no sessions, no progress, no middleware).

    BARE_LESSON_HTML=lesson.html uvicorn bench.bare_app:app --workers 2
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from jinja2 import Environment

_TEMPLATE = Environment(autoescape=True).from_string(
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>{{ title }}</title></head>"
    "<body><main>{{ body | safe }}</main></body></html>"
)
_LOCAL = threading.local()


def _database() -> Path:
    path = Path(os.environ.get("BARE_DB", Path(tempfile.gettempdir()) / "peerpath-bare.db"))
    html = Path(os.environ["BARE_LESSON_HTML"]).read_text()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS lessons (module_id TEXT, lesson_id TEXT, title TEXT, "
            "body TEXT, PRIMARY KEY (module_id, lesson_id))"
        )
        connection.execute(
            "INSERT OR REPLACE INTO lessons VALUES ('m', 'l', 'A lesson', ?)", (html,)
        )
    return path


DATABASE = _database()
app = FastAPI()


def _connection() -> sqlite3.Connection:
    connection: sqlite3.Connection | None = getattr(_LOCAL, "connection", None)
    if connection is None:
        connection = _LOCAL.connection = sqlite3.connect(DATABASE)
    return connection


@app.get("/lesson/{module_id}/{lesson_id}", response_class=HTMLResponse)
def lesson(module_id: str, lesson_id: str) -> HTMLResponse:
    row = (
        _connection()
        .execute(
            "SELECT title, body FROM lessons WHERE module_id = ? AND lesson_id = ?",
            (module_id, lesson_id),
        )
        .fetchone()
    )
    return HTMLResponse(_TEMPLATE.render(title=row[0], body=row[1]))
