"""Certificate benchmark: PDFs per second, a 500-certificate batch, verifications per second.

    .venv/bin/python bench/certificate_bench.py [--batch 500] [--seconds 10] [--connections 100]

1. WeasyPrint alone renders the programme's certificate template (filled once), first and
   steady state; then full issue-and-render (eligibility, signed record, caged fetcher,
   embedded-file check, stored in the database) of the same template. Target: steady state
   within 1.3x of WeasyPrint alone.
2. A batch of `--batch` certificates with `issue_batch` on every core.
3. Verification requests per second against a real uvicorn server (2 workers) on 127.0.0.1,
   loaded by `wrk` (bench/wrk/verify.lua) with a verifier key (anonymous requests are
   rate-limited): the JSON API and the HTML page /verify/<id>, each for `--seconds` after a
   short warm-up. Without wrk (apt-get install wrk) this part is skipped.

Everything runs on loopback in a temporary folder with its own SQLite database (or
PostgreSQL with --postgres), and is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.catalog import current_record, load_release, publish_release  # noqa: E402
from app.compiler import compile_curriculum  # noqa: E402
from app.config import Settings  # noqa: E402
from app.credentials.apikeys import create_api_key  # noqa: E402
from app.credentials.batch import issue_batch  # noqa: E402
from app.credentials.issuance import (  # noqa: E402
    Actor,
    issue_certificate,
    key_ring,
    plan_issue,
    template_folder,
    verify_url,
)
from app.credentials.render import PDF_VARIANT, fill_template, qr_code_data_uri  # noqa: E402
from app.store import Database, connect  # noqa: E402
from app.store.accounts import User  # noqa: E402
from app.store.learning import Enrolment  # noqa: E402
from app.store.migrate import upgrade  # noqa: E402
from bench.harness import (  # noqa: E402
    SECRET_KEY,
    Measurement,
    eligible_progress,
    free_port,
    run_wrk,
    wait_until_idle,
    wrk_path,
)

LOOPBACK = "127.0.0.1"
ACTOR = Actor(None, "certificate bench")


def make_enrolments(database: Database, count: int, start: int) -> list[int]:
    with database.unit_of_work() as session:
        release_id = current_record(session, PROGRAMME).id
        ids = []
        for n in range(start, start + count):
            user = User(
                email=f"bench{n}@example.org",
                display_name=f"Bench Trainee {n} Okafor-Ní Bhriain",
                role="trainee",
                password_hash="x",
            )
            session.add(user)
            session.flush()
            enrolment = Enrolment(user_id=user.id, programme_id=PROGRAMME, release_id=release_id)
            session.add(enrolment)
            session.flush()
            ids.append(enrolment.id)
        return ids


PROGRAMME = "peer-support-foundations"


def timed(function, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """(first, median of the rest) in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


def bench_rendering(database: Database, settings: Settings, runs: int) -> dict[str, float]:
    from weasyprint import HTML

    enrolments = iter(make_enrolments(database, runs + 1, start=0))
    with database.unit_of_work(write=False) as session:
        enrolment = session.get(Enrolment, next(enrolments))
        assert enrolment is not None
        plan = plan_issue(
            session,
            enrolment,
            eligible_progress(session, enrolment),
            settings=settings,
            keys=key_ring(settings),
        )
        folder = template_folder(load_release(session, enrolment.release_id), settings.data_dir)
    assert not isinstance(plan, type(None))
    record = plan.signed.record  # type: ignore[union-attr]
    url = verify_url(settings, record.id)
    html = fill_template(
        folder, {"certificate": record, "verify_url": url, "qr_code": qr_code_data_uri(url)}
    )
    base_url = folder.resolve().as_uri() + "/"

    def weasyprint_alone() -> None:
        HTML(string=html, base_url=base_url).write_pdf(pdf_variant=PDF_VARIANT)

    def issue_and_render() -> None:
        with database.unit_of_work() as session:
            enrolment = session.get(Enrolment, next(enrolments))
            assert enrolment is not None
            issue_certificate(
                session,
                enrolment,
                eligible_progress(session, enrolment),
                settings=settings,
                actor=ACTOR,
            )

    alone_first, alone_steady = timed(weasyprint_alone, runs)
    issue_first, issue_steady = timed(issue_and_render, runs)
    return {
        "alone_first": alone_first,
        "alone_steady": alone_steady,
        "issue_first": issue_first,
        "issue_steady": issue_steady,
    }


def bench_batch(database: Database, settings: Settings, size: int) -> tuple[float, int]:
    ids = make_enrolments(database, size, start=10_000)
    started = time.perf_counter()
    report = issue_batch(database, settings, ids, eligible_progress, actor=ACTOR)
    elapsed = time.perf_counter() - started
    assert len(report.issued) == size, report
    return elapsed, os.cpu_count() or 1


def bench_verification(
    database: Database, settings: Settings, ids: list[str], seconds: float, connections: int
) -> tuple[Measurement, Measurement, dict[int, int]]:
    """wrk against the JSON API and the HTML page, then 100 anonymous requests in a row."""
    import httpx

    with database.unit_of_work() as session:
        key = create_api_key(session, "bench verifier")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEERPATH_")}
    env.update(
        DATABASE_URL=settings.database_url,
        PEERPATH_DATA_DIR=str(settings.data_dir),
        PEERPATH_CURRICULUM_PATH=str(settings.data_dir),
        PEERPATH_SECRET_KEY=SECRET_KEY,
        PEERPATH_BASE_URL=settings.base_url,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.web.asgi:app", "--host", LOOPBACK,
         "--port", str(port), "--workers", "2", "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    base_url = f"http://{LOOPBACK}:{port}"
    paths = settings.data_dir / "wrk"
    paths.mkdir(exist_ok=True)
    (paths / "api.txt").write_text("".join(f"/api/v1/certificates/{i}/verification\n" for i in ids))
    (paths / "page.txt").write_text("".join(f"/verify/{i}\n" for i in ids))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(2)  # let both workers finish starting

        def measure(name: str, file: str) -> Measurement:
            def wrk(duration: float) -> Measurement:
                measured = run_wrk(
                    name,
                    base_url,
                    "verify.lua",
                    [str(paths / file), key],
                    connections=connections,
                    seconds=duration,
                )
                wait_until_idle(server.pid)  # what wrk left in flight, answered to nobody
                return measured

            wrk(2)  # warm-up, not reported
            return wrk(seconds)

        api = measure("JSON API", "api.txt")
        page = measure("HTML page", "page.txt")
        anonymous: dict[int, int] = {}
        with httpx.Client(base_url=base_url, timeout=30) as client:
            for _ in range(100):
                status = client.get(f"/api/v1/certificates/{ids[0]}/verification").status_code
                anonymous[status] = anonymous.get(status, 0) + 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return api, page, anonymous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="renders per measurement")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10, help="wrk's time per endpoint")
    parser.add_argument("--connections", type=int, default=100, help="wrk's connections")
    parser.add_argument("--postgres", action="store_true", help="use a fresh PostgreSQL database")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="peerpath-cert-bench-"))
    database_url = f"sqlite:///{folder / 'bench.db'}"
    admin = None
    if args.postgres:
        import psycopg

        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
        name = f"peerpath_certbench_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        database_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    settings = Settings(
        database_url=database_url,
        data_dir=folder / "var",
        base_url="https://peerpath.example",
        secret_key=SECRET_KEY,
    )
    database = connect(settings)
    try:
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
        result = compile_curriculum(ROOT, cache_dir=folder / "cache")
        assert result.release is not None, [str(d) for d in result.errors]
        with database.unit_of_work() as session:
            publish_release(session, result.release)

        print(f"certificate template: certificates/{result.release.programme.certificate_template}")
        print(f"database: {'PostgreSQL' if args.postgres else 'SQLite'}, cores: {os.cpu_count()}")
        r = bench_rendering(database, settings, args.runs)
        print("\n1. one certificate at a time")
        print(
            f"   WeasyPrint alone      first {r['alone_first'] * 1000:7.1f} ms   steady {r['alone_steady'] * 1000:7.1f} ms  ({1 / r['alone_steady']:.2f} PDFs/s)"
        )
        print(
            f"   issue-and-render      first {r['issue_first'] * 1000:7.1f} ms   steady {r['issue_steady'] * 1000:7.1f} ms  ({1 / r['issue_steady']:.2f} PDFs/s)"
        )
        ratio = r["issue_steady"] / r["alone_steady"]
        print(
            f"   ratio (steady)        {ratio:.2f}x   target <= 1.30x: {'met' if ratio <= 1.3 else 'NOT met'}"
        )

        elapsed, cores = bench_batch(database, settings, args.batch)
        print(f"\n2. batch of {args.batch} with issue_batch on {cores} cores")
        print(f"   {elapsed:.1f} s, {args.batch / elapsed:.2f} certificates/s")

        with database.unit_of_work(write=False) as session:
            from sqlalchemy import select

            from app.store.certificates import Certificate

            ids = list(session.scalars(select(Certificate.public_id)))
        heading = (
            f"\n3. verification against uvicorn (2 workers) on 127.0.0.1, verifier key, "
            f"wrk with {args.connections} connections, {args.seconds:.0f} s each"
        )
        print(heading)
        if wrk_path() is None:
            print("   not measured: wrk is not installed (apt-get install wrk)")
            return
        api, page, anonymous = bench_verification(
            database, settings, ids, args.seconds, args.connections
        )
        for measured in (api, page):
            verdict = "met" if measured.throughput > 2000 and not measured.errors else "NOT met"
            print(
                f"   {measured.name:<10} {measured.requests:>7} requests  "
                f"{measured.throughput:7.0f} requests/s  p99 {measured.p99_ms:6.1f} ms  "
                f"errors {measured.errors}   target > 2000/s: {verdict}"
            )
            for sample in measured.error_samples[:3]:
                print(f"      error: {sample}")
        print(f"   100 anonymous requests from one address: {anonymous} (rate limit)")
    finally:
        database.dispose()
        shutil.rmtree(folder, ignore_errors=True)
        if admin is not None:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "peerpath_certbench_{os.getpid()}"')


if __name__ == "__main__":
    main()
