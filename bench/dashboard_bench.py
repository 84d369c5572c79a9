"""Time the cohort dashboard page through the real app: 40 trainees × 14 modules.

The programme is the real one at the repository root. Each trainee has realistic progress
(a random point through the lessons, completed in order over the past weeks, some stalled),
a submitted knowledge-check attempt for about half of them and a rated role-play for a
quarter. The trainer's page `/train/cohorts/<id>` is requested through FastAPI's TestClient
(the full stack: middleware, session lookup, queries, template) after warm-up, and the
median and p95 of the render times are printed. Target: under 200 ms.

    .venv/bin/python bench/dashboard_bench.py                       # SQLite in a temp dir
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/dashboard_bench.py
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import assessment
from app.accounts import hash_password
from app.catalog import current_record, load_release
from app.config import Settings
from app.learning import enrol
from app.store import connect
from app.store.accounts import User
from app.store.assessment import Attempt
from app.store.base import utcnow
from app.store.learning import LessonProgress
from app.store.migrate import upgrade
from app.training import create_cohort
from app.web import create_app

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _database_url(workdir: Path) -> tuple[str, str | None]:
    """An empty database: a fresh PostgreSQL schema if DATABASE_URL says so, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = f"pp_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def _drop(schema: str | None) -> None:
    if schema is None:
        return
    url = make_url(os.environ["DATABASE_URL"]).set(drivername="postgresql+psycopg")
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _seed(settings: Settings, trainees: int, seed: int) -> tuple[str, int, int, int]:
    rng = random.Random(seed)
    database = connect(settings)
    password_hash = hash_password(PASSWORD)
    with database.unit_of_work() as session:
        trainer = User(
            email="trainer@example.org",
            display_name="Bench Trainer",
            role="trainer",
            password_hash=password_hash,
        )
        session.add(trainer)
        session.flush()
        record = current_record(session, "peer-support-foundations")
        release = load_release(session, record.id)
        cohort = create_cohort(session, trainer, "Benchmark cohort", "peer-support-foundations")
        lessons = release.lesson_ids()
        role_plays = [a for a, d in release.assessments.items() if d.kind == "role-play"]
        checks = [a for a, d in release.assessments.items() if d.kind == "knowledge-check"]
        now = utcnow()
        for n in range(trainees):
            user = User(
                email=f"trainee{n}@example.org",
                display_name=f"Trainee {n:02d} Example",
                password_hash=password_hash,
            )
            session.add(user)
            session.flush()
            enrolment = enrol(session, user, "peer-support-foundations", cohort=cohort)
            enrolment.enrolled_at = now - timedelta(days=42)
            done = rng.randint(0, len(lessons))
            stalled_days = rng.choice([0, 1, 2, 3, 5, 9, 15])
            moment = enrolment.enrolled_at
            step = timedelta(days=42 - stalled_days) / max(done, 1)
            for module_id, lesson_id in lessons[:done]:
                moment += step
                session.add(
                    LessonProgress(
                        enrolment_id=enrolment.id,
                        module_id=module_id,
                        lesson_id=lesson_id,
                        seconds_spent=rng.randint(120, 1200),
                        completed_at=moment,
                    )
                )
            if done < len(lessons):
                enrolment.position_module_id, enrolment.position_lesson_id = lessons[done]
                enrolment.position_at = moment
            if checks and rng.random() < 0.5:
                passed = rng.random() < 0.7
                session.add(
                    Attempt(
                        enrolment_id=enrolment.id,
                        release_id=record.id,
                        assessment_id=rng.choice(checks),
                        kind="knowledge-check",
                        attempt_no=1,
                        seed=n,
                        plan={},
                        started_at=moment,
                        submitted_at=moment + timedelta(minutes=10),
                        fraction=0.9 if passed else 0.4,
                        passed=passed,
                        competency_scores={},
                    )
                )
            if role_plays and rng.random() < 0.25:
                session.flush()
                rp = assessment.open_session(session, enrolment, role_plays[0], trainer)
                rubric = release.assessments[role_plays[0]].rubric  # type: ignore[union-attr]
                assessment.submit_rating(
                    session, rp, trainer, {r.id: (rng.randint(2, 4), "") for r in rubric}
                )
        cohort_id = cohort.id
    database.dispose()
    return "trainer@example.org", cohort_id, len(release.modules), len(lessons)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trainees", type=int, default=40)
    parser.add_argument("--renders", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pp-dashboard-bench-") as work:
        workdir = Path(work)
        url, schema = _database_url(workdir)
        try:
            settings = Settings(
                database_url=url,
                data_dir=workdir / "var",
                curriculum_path=ROOT,
                secret_key="bench-secret",
                base_url="http://testserver",
            )
            database = connect(settings)
            with database.writer.connect() as connection:
                upgrade(connection)
                connection.commit()
            database.dispose()
            app = create_app(settings)
            with TestClient(app) as client:  # start-up publishes the real programme
                email, cohort_id, modules, lessons = _seed(settings, args.trainees, args.seed)
                page = client.get("/login")
                token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
                signed_in = client.post(
                    "/login",
                    data={"email": email, "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False,
                )
                assert signed_in.status_code == 303, signed_in.text
                path = f"/train/cohorts/{cohort_id}"
                for _ in range(args.warmup):
                    assert client.get(path).status_code == 200
                times, cpu = [], []
                for _ in range(args.renders):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - start_cpu) * 1000)
                    assert response.status_code == 200
                assert response.text.count("data-trainee=") == args.trainees
                csv_start = time.perf_counter()
                client.get(f"{path}/export.csv")
                csv_ms = (time.perf_counter() - csv_start) * 1000
        finally:
            _drop(schema)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    engine = "PostgreSQL" if schema else "SQLite"
    print(f"dashboard: {args.trainees} trainees x {modules} modules ({lessons} lessons), {engine}")
    print(f"page size: {len(response.content) / 1024:.1f} KB")
    print(
        f"renders: {len(times)}  median {statistics.median(times):.1f} ms  p95 {p95:.1f} ms  "
        f"min {times[0]:.1f} ms  max {times[-1]:.1f} ms  (target < 200 ms)"
    )
    print(
        f"CPU time per render (this process; less sensitive to other load on the machine): "
        f"median {statistics.median(cpu):.1f} ms"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"CSV export once: {csv_ms:.1f} ms")


if __name__ == "__main__":
    main()
