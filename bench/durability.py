"""Crash test: every acknowledged progress write survives a SIGKILL of the server.

Starts a real `peerpath serve` on 127.0.0.1, registers a few trainees, and has them send
progress writes concurrently (each with its own Idempotency-Key: one second of reading time
on a lesson, and that lesson completed). Every write answered 2xx is recorded. Part-way
through, the whole server process group gets SIGKILL; the server is started again on the same
database, and the check is that every acknowledged write is there: its idempotency record with
status 200, its lesson completed, and at least as many seconds on each lesson as were
acknowledged (writes in flight at the kill may or may not have landed, and may be more).

    python -m bench.durability                    # SQLite
    python -m bench.durability --postgres         # PostgreSQL at 127.0.0.1:5432
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.harness import (
    SAMPLE_CURRICULUM,
    Server,
    Trainee,
    drop_postgres_database,
    fresh_postgres_database,
    programme_and_lessons,
    register_trainee,
)


@dataclass
class Acknowledged:
    email: str
    key: str
    module_id: str
    lesson_id: str


@dataclass
class DurabilityResult:
    database: str
    sent: int = 0
    acknowledged: list[Acknowledged] = field(default_factory=list)
    failed_or_cut: int = 0
    missing_keys: list[Acknowledged] = field(default_factory=list)
    missing_completions: list[Acknowledged] = field(default_factory=list)
    short_seconds: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    integrity: str = "not checked"
    after_restart_status: int = 0

    @property
    def lost(self) -> int:
        return len(self.missing_keys) + len(self.missing_completions) + len(self.short_seconds)

    def summary(self) -> str:
        return (
            f"{self.database}: sent {self.sent} progress writes, {len(self.acknowledged)} "
            f"acknowledged (2xx) before SIGKILL, {self.failed_or_cut} cut off or refused; after "
            f"restart {len(self.acknowledged) - len(self.missing_keys)} of "
            f"{len(self.acknowledged)} acknowledged idempotency records present, "
            f"{len(self.missing_completions)} completions missing, "
            f"{len(self.short_seconds)} lessons short of acknowledged reading time; "
            f"integrity check: {self.integrity}; server after restart: "
            f"{self.after_restart_status}; lost: {self.lost}"
        )


async def _writer(
    client: httpx.AsyncClient,
    trainee: Trainee,
    programme: str,
    lessons: list[tuple[str, str]],
    result: DurabilityResult,
    stop: asyncio.Event,
    rng: random.Random,
) -> None:
    while not stop.is_set():
        module_id, lesson_id = rng.choice(lessons)
        key = str(uuid.uuid4())
        result.sent += 1
        try:
            response = await client.post(
                f"/api/v1/enrolments/{programme}/progress",
                json={
                    "completed": [{"module_id": module_id, "lesson_id": lesson_id}],
                    "time": [{"module_id": module_id, "lesson_id": lesson_id, "seconds": 1}],
                },
                headers={**trainee.bearer, "Idempotency-Key": key},
            )
        except httpx.HTTPError:
            result.failed_or_cut += 1
            await asyncio.sleep(0.05)
            continue
        if 200 <= response.status_code < 300:
            result.acknowledged.append(Acknowledged(trainee.email, key, module_id, lesson_id))
        else:
            result.failed_or_cut += 1


async def _fire(
    server: Server,
    trainees: list[Trainee],
    programme: str,
    lessons: list[tuple[str, str]],
    result: DurabilityResult,
    *,
    writers_per_trainee: int,
    kill_after: float,
    seed: int,
) -> None:
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=len(trainees) * writers_per_trainee)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10, limits=limits) as client:
        tasks = [
            asyncio.create_task(
                _writer(client, t, programme, lessons, result, stop, random.Random(seed * 1000 + i))
            )
            for i, t in enumerate(trainees * writers_per_trainee)
        ]
        await asyncio.sleep(kill_after)
        # The crash: no warning, no shutdown hooks, writes in flight on every connection.
        await asyncio.to_thread(server.kill)
        stop.set()
        await asyncio.gather(*tasks)


def _check(database_url: str, result: DurabilityResult) -> None:
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if url.get_backend_name() == "sqlite":
                result.integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
            else:
                result.integrity = "n/a (PostgreSQL)"
            keys = {
                (email, key)
                for email, key, status in connection.execute(
                    text(
                        "SELECT u.email, k.idempotency_key, k.status_code FROM idempotency_keys k "
                        "JOIN users u ON u.id = k.user_id"
                    )
                )
                if status == 200
            }
            lessons = {
                (email, module_id, lesson_id): (seconds, completed_at)
                for email, module_id, lesson_id, seconds, completed_at in connection.execute(
                    text(
                        "SELECT u.email, p.module_id, p.lesson_id, p.seconds_spent, "
                        "p.completed_at FROM lesson_progress p "
                        "JOIN enrolments e ON e.id = p.enrolment_id "
                        "JOIN users u ON u.id = e.user_id"
                    )
                )
            }
    finally:
        engine.dispose()
    expected_seconds: Counter[tuple[str, str, str]] = Counter()
    for ack in result.acknowledged:
        lesson = (ack.email, ack.module_id, ack.lesson_id)
        expected_seconds[lesson] += 1
        if (ack.email, ack.key) not in keys:
            result.missing_keys.append(ack)
        if lesson not in lessons or lessons[lesson][1] is None:
            result.missing_completions.append(ack)
    for lesson, expected in expected_seconds.items():
        stored = lessons.get(lesson, (0, None))[0]
        if stored < expected:
            result.short_seconds.append((*lesson, expected, stored))


def run_durability(
    database_url: str,
    *,
    trainees: int = 6,
    writers_per_trainee: int = 4,
    kill_after: float = 4.0,
    workers: int = 1,
    curriculum: Path = SAMPLE_CURRICULUM,
    seed: int = 8,
) -> DurabilityResult:
    """Write, SIGKILL, restart, check; the result says what (if anything) was lost."""
    result = DurabilityResult(database=make_url(database_url).get_backend_name())
    data_dir = Path(tempfile.mkdtemp(prefix="peerpath-durability-"))
    server = Server(database_url, workers=workers, curriculum=curriculum, data_dir=data_dir)
    try:
        server.start()
        programme = _programme(server)
        people = [register_trainee(server.base_url, programme) for _ in range(trainees)]
        _, lessons = programme_and_lessons(server.base_url, people[0])
        asyncio.run(
            _fire(
                server,
                people,
                programme,
                lessons,
                result,
                writers_per_trainee=writers_per_trainee,
                kill_after=kill_after,
                seed=seed,
            )
        )
        # Restart on the same database (SQLite replays its WAL when it opens).
        server.start()
        result.after_restart_status = httpx.get(f"{server.base_url}/healthz").status_code
        server.stop()
        _check(database_url, result)
    finally:
        server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def _programme(server: Server) -> str:
    from bench.harness import first_programme

    return first_programme(server.base_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL at 127.0.0.1")
    parser.add_argument("--trainees", type=int, default=6)
    parser.add_argument("--writers-per-trainee", type=int, default=4)
    parser.add_argument("--kill-after", type=float, default=4.0, help="seconds of writing")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1, help="repeat write-kill-check")
    args = parser.parse_args()
    lost = 0
    for round_ in range(args.rounds):
        scratch = Path(tempfile.mkdtemp(prefix="peerpath-durability-db-"))
        url = fresh_postgres_database() if args.postgres else f"sqlite:///{scratch}/peerpath.db"
        started = time.monotonic()
        try:
            result = run_durability(
                url,
                trainees=args.trainees,
                writers_per_trainee=args.writers_per_trainee,
                kill_after=args.kill_after,
                workers=args.workers,
                seed=round_,
            )
        finally:
            if args.postgres:
                drop_postgres_database(url)
            shutil.rmtree(scratch, ignore_errors=True)
        print(f"round {round_ + 1}: {result.summary()} ({time.monotonic() - started:.1f}s)")
        lost += result.lost
    raise SystemExit(1 if lost else 0)


if __name__ == "__main__":
    main()
