"""CPU per request of the hot endpoints, in process: no HTTP server, no load generator, so the
figure is the application's own cost (what `bench/load.py` measures adds uvicorn and wrk).

    .venv/bin/python -m bench.in_process [--requests 1000] [--profile lesson] [--postgres]

It builds the real app on a fresh SQLite database with the bundled curriculum, signs a
trainee in, enrols them and issues their certificate, then calls the ASGI app directly, one
request after another, and prints `time.process_time` per request for the signed-in lesson
page, a progress write through the API (bearer-less: the session cookie and CSRF header), a
verification through the API and the `/verify/<id>` page, and the bare FastAPI reference app
(bench/bare_app.py). `--profile NAME` prints cProfile's top functions for one endpoint.
`--postgres` runs PeerPath on a fresh database of the local PostgreSQL server instead (the
figure is then this process's CPU only: the database server's work is not in it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from app.config import Settings
from app.store.migrate import upgrade
from app.web import create_app
from bench.harness import (
    PASSWORD,
    ROOT,
    SECRET_KEY,
    certificate_and_verifier_key,
    csrf_token,
    drop_postgres_database,
    fresh_postgres_database,
)

Scope = dict[str, Any]


def _form(client: TestClient, page: str, action: str, data: dict[str, str]) -> None:
    token = csrf_token(client.get(page).text)
    answer = client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:300]


def _scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app: Any, scope: Scope, body: bytes = b"") -> int:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


Request = Callable[[], tuple[Scope, bytes]]


def peerpath_requests(folder: Path, url: str | None = None) -> tuple[FastAPI, dict[str, Request]]:
    url = url or f"sqlite:///{folder}/peerpath.db"
    engine = create_engine(url)
    with engine.connect() as connection:
        upgrade(connection)
        connection.commit()
    engine.dispose()
    settings = Settings(
        database_url=url,
        data_dir=folder / "var",
        curriculum_path=ROOT,
        secret_key=SECRET_KEY,
        base_url="http://testserver",
    )
    app = create_app(settings)
    email = "bench@example.org"
    with TestClient(app) as client:
        _form(
            client,
            "/register",
            "/register",
            {"email": email, "display_name": "Bench", "password": PASSWORD},
        )
        programme = client.get("/api/v1/programmes").json()[0]["id"]
        _form(client, f"/learn/{programme}", f"/learn/{programme}/enrol", {})
        outline = client.get(f"/api/v1/enrolments/{programme}/outline").json()
        module, lesson = outline["modules"][0]["id"], outline["modules"][0]["lessons"][0]["id"]
        csrf = client.get("/api/v1/me").json()["csrf_token"]
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items()).encode()
    server = types.SimpleNamespace(
        database_url=url, data_dir=settings.data_dir, curriculum=ROOT, base_url=settings.base_url
    )
    certificate, key = certificate_and_verifier_key(server, email)  # type: ignore[arg-type]
    ids = {"module_id": module, "lesson_id": lesson}
    progress = json.dumps({"completed": [ids], "time": [{**ids, "seconds": 5}]}).encode()
    keys = itertools.count()
    signed_in = [(b"cookie", cookie)]
    verifier = [(b"authorization", f"Bearer {key}".encode())]
    requests: dict[str, Request] = {
        "lesson page": lambda: (
            _scope("GET", f"/learn/{programme}/{module}/{lesson}", signed_in),
            b"",
        ),
        "progress (API)": lambda: (
            _scope(
                "POST",
                f"/api/v1/enrolments/{programme}/progress",
                [
                    *signed_in,
                    (b"x-csrf-token", csrf.encode()),
                    (b"content-type", b"application/json"),
                    (b"idempotency-key", f"bench-{os.getpid()}-{next(keys)}".encode()),
                ],
            ),
            progress,
        ),
        "verification (API)": lambda: (
            _scope("GET", f"/api/v1/certificates/{certificate}/verification", verifier),
            b"",
        ),
        "/verify/<id> page": lambda: (_scope("GET", f"/verify/{certificate}", verifier), b""),
    }
    return app, requests


def bare_requests(folder: Path) -> tuple[Any, dict[str, Request]]:
    lesson = folder / "lesson.html"
    lesson.write_text("<p>" + "A paragraph of a lesson. " * 200 + "</p>")
    os.environ["BARE_LESSON_HTML"] = str(lesson)
    os.environ["BARE_DB"] = str(folder / "bare.db")
    from bench import bare_app

    return bare_app.app, {"bare FastAPI lesson": lambda: (_scope("GET", "/lesson/m/l", []), b"")}


async def measure(app: Any, request: Request, count: int, profile: bool) -> tuple[int, float]:
    for _ in range(50):  # warm-up: caches, compiled statements, the first batch of writes
        status = await _call(app, *request())
    profiler = cProfile.Profile() if profile else None
    started = time.process_time()
    if profiler:
        profiler.enable()
    for _ in range(count):
        await _call(app, *request())
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return status, (time.process_time() - started) / count


async def run(options: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="peerpath-in-process-"))
    url = fresh_postgres_database() if options.postgres else None
    try:
        await _run(options, folder, url)
    finally:
        if url:
            drop_postgres_database(url)


async def _run(options: argparse.Namespace, folder: Path, url: str | None) -> None:
    app, requests = peerpath_requests(folder, url)
    bare, reference = bare_requests(folder)
    print(f"{'endpoint':24} {'status':>6} {'ms CPU/request':>15}")
    async with app.router.lifespan_context(app):
        for name, request in requests.items():
            status, seconds = await measure(app, request, options.requests, options.profile == name)
            print(f"{name:24} {status:>6} {seconds * 1000:>15.3f}")
    for name, request in reference.items():
        status, seconds = await measure(bare, request, options.requests, options.profile == name)
        print(f"{name:24} {status:>6} {seconds * 1000:>15.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests per endpoint")
    parser.add_argument("--profile", default="", help="an endpoint's name to profile")
    parser.add_argument("--postgres", action="store_true", help="PeerPath on PostgreSQL")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
