"""Load benchmark: simulated trainees against a real `peerpath serve` on 127.0.0.1, with the
two reference figures measured in the same run.

    python -m bench.load                       # everything (about 3 minutes)
    python -m bench.load --only sqlite         # one target: sqlite, postgres, nginx, bare
    python -m bench.load --duration 5 --users 50

Targets: PeerPath on SQLite (1 worker) and on PostgreSQL (2 workers); references: nginx
serving one lesson page's HTML as a static file, and a bare FastAPI app rendering the same
lesson with Jinja2 after one indexed SQLite query (1 and 2 workers). For each it prints, per
endpoint, requests, throughput, p50/p95/p99 latency and errors. Every loop is bounded by a
request count and a duration, and talks only to 127.0.0.1.

The driver (async httpx, one process) shares the machine's 2 cores with the server, so the
figures are for the whole machine; the nginx line shows the driver's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.harness import (
    LOOPBACK,
    PASSWORD,
    ROOT,
    Server,
    Trainee,
    csrf_token,
    drop_postgres_database,
    first_programme,
    free_port,
    fresh_postgres_database,
    programme_and_lessons,
    register_trainee,
)

MAX_REQUESTS_PER_PHASE = 50_000


@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def record(self, seconds: float, ok: bool, detail: str = "") -> None:
        self.latencies.append(seconds)
        if not ok:
            self.errors += 1
            if len(self.error_samples) < 3:
                self.error_samples.append(detail)

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def line(self, target: str) -> str:
        return (
            f"{target:<24} {self.name:<22} {len(self.latencies):>7} {self.throughput:>9.0f} "
            f"{self.quantile(0.50):>8.1f} {self.quantile(0.95):>8.1f} {self.quantile(0.99):>8.1f} "
            f"{self.errors:>6}"
        )


HEADER = (
    f"{'target':<24} {'endpoint':<22} {'requests':>7} {'req/s':>9} "
    f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6}"
)

Request = Callable[[httpx.AsyncClient, int], Awaitable[tuple[bool, str]]]


async def run_phase(
    name: str,
    base_url: str,
    request: Request,
    *,
    users: int,
    duration: float,
    max_requests: int = MAX_REQUESTS_PER_PHASE,
) -> Stats:
    """`users` concurrent loops sending `request` until `duration` or `max_requests`."""
    stats = Stats(name)
    budget = max_requests
    # One client (one keep-alive connection) per simulated user, made before the clock
    # starts: httpx's shared async pool slows down sharply with many connections.
    tls = ssl.create_default_context()
    clients = [httpx.AsyncClient(base_url=base_url, timeout=30, verify=tls) for _ in range(users)]

    async def user(n: int) -> None:
        nonlocal budget
        while time.monotonic() < deadline and budget > 0:
            budget -= 1
            started = time.perf_counter()
            try:
                ok, detail = await request(clients[n], n)
            except httpx.HTTPError as error:
                ok, detail = False, f"{type(error).__name__}: {error}"
            stats.record(time.perf_counter() - started, ok, detail)

    deadline = time.monotonic() + duration
    started = time.monotonic()
    await asyncio.gather(*(user(n) for n in range(users)))
    stats.elapsed = time.monotonic() - started
    for client in clients:
        await client.aclose()
    return stats


# --- what simulated people do ----------------------------------------------------------------


def _expect(response: httpx.Response, *codes: int) -> tuple[bool, str]:
    ok = response.status_code in codes
    return ok, "" if ok else f"{response.status_code}: {response.text[:200]}"


def read_lesson(path: str, trainees: list[Trainee]) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> tuple[bool, str]:
        trainee = trainees[n % len(trainees)]
        return _expect(await client.get(path, cookies=trainee.cookies), 200)

    return request


def save_progress(
    programme: str, lessons: list[tuple[str, str]], trainees: list[Trainee]
) -> Request:
    rng = random.Random(8)

    async def request(client: httpx.AsyncClient, n: int) -> tuple[bool, str]:
        trainee = trainees[n % len(trainees)]
        module_id, lesson_id = rng.choice(lessons)
        response = await client.post(
            f"/api/v1/enrolments/{programme}/progress",
            json={
                "completed": [{"module_id": module_id, "lesson_id": lesson_id}],
                "time": [{"module_id": module_id, "lesson_id": lesson_id, "seconds": 5}],
            },
            headers={**trainee.bearer, "Idempotency-Key": str(uuid.uuid4())},
        )
        return _expect(response, 200)

    return request


def verify_certificate(certificate_id: str) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> tuple[bool, str]:
        response = await client.get(f"/api/v1/certificates/{certificate_id}/verification")
        # An unknown certificate is a normal answer, and so is 429: every simulated verifier
        # shares 127.0.0.1, so they soon meet the per-address verification rate limit.
        return _expect(response, 200, 404, 429)

    return request


def get(path: str) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> tuple[bool, str]:
        return _expect(await client.get(path), 200)

    return request


async def login_all(base_url: str, emails: list[str], users: int) -> Stats:
    """Each trainee signs in through the form once (argon2id: deliberately slow)."""
    queue = list(emails)

    async def request(client: httpx.AsyncClient, n: int) -> tuple[bool, str]:
        email = queue.pop() if queue else emails[n % len(emails)]
        # A browser of its own: the CSRF seed cookie belongs to it.
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as browser:
            token = csrf_token((await browser.get("/login")).text)
            response = await browser.post(
                "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
            )
        return _expect(response, 303)

    return await run_phase(
        "POST /login", base_url, request, users=users, duration=60, max_requests=len(emails)
    )


# --- targets -----------------------------------------------------------------------------------


@dataclass
class Options:
    users: int
    duration: float
    trainees: int


def _register_many(base_url: str, programme: str, count: int) -> list[Trainee]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: register_trainee(base_url, programme), range(count)))


def bench_peerpath(label: str, database_url: str, workers: int, options: Options) -> list[str]:
    server = Server(database_url, workers=workers)
    lines = []
    try:
        server.start(timeout=300)
        programme = first_programme(server.base_url)
        trainees = _register_many(server.base_url, programme, options.trainees)
        _, lessons = programme_and_lessons(server.base_url, trainees[0])
        module_id, lesson_id = lessons[0]
        lesson_path = f"/learn/{programme}/{module_id}/{lesson_id}"
        phases: list[Stats] = [
            asyncio.run(login_all(server.base_url, [t.email for t in trainees], users=10)),
            asyncio.run(
                run_phase(
                    "GET lesson page",
                    server.base_url,
                    read_lesson(lesson_path, trainees),
                    users=options.users,
                    duration=options.duration,
                )
            ),
            asyncio.run(
                run_phase(
                    "POST progress (API)",
                    server.base_url,
                    save_progress(programme, lessons, trainees),
                    users=options.users,
                    duration=options.duration,
                )
            ),
        ]
        if httpx.get(f"{server.base_url}/verify", timeout=120).status_code == 200:
            phases.append(
                asyncio.run(
                    run_phase(
                        "GET verification (API)*",
                        server.base_url,
                        verify_certificate("PP-UNKNOWN-0000"),
                        users=min(options.users, 20),
                        duration=options.duration / 2,
                    )
                )
            )
        for stats in phases:
            lines.append(stats.line(label))
            for sample in stats.error_samples:
                lines.append(f"    error: {sample}")
        print("\n".join(lines), flush=True)
    finally:
        server.cleanup()
    return lines


def lesson_html(options: Options) -> str:
    """One logged-in lesson page's HTML, as the nginx and bare-app references serve it."""
    data = Path(tempfile.mkdtemp(prefix="peerpath-lesson-"))
    server = Server(f"sqlite:///{data}/lesson.db", data_dir=data)
    try:
        server.start(timeout=300)
        programme = first_programme(server.base_url)
        trainee = register_trainee(server.base_url, programme)
        _, lessons = programme_and_lessons(server.base_url, trainee)
        module_id, lesson_id = lessons[0]
        return httpx.get(
            f"{server.base_url}/learn/{programme}/{module_id}/{lesson_id}",
            cookies=trainee.cookies,
        ).text
    finally:
        server.cleanup()


NGINX_CONF = """
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/html;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location / {{ try_files $uri =404; }}
    }}
}}
"""


def bench_nginx(html: str, options: Options) -> list[str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        return ["nginx                    (not installed: apt-get install nginx-light)"]
    data = Path(tempfile.mkdtemp(prefix="peerpath-nginx-"))
    data.chmod(0o755)  # nginx's workers run as another user (www-data) when started as root
    (data / "www").mkdir(mode=0o755)
    (data / "www" / "lesson.html").write_text(html)
    (data / "www" / "lesson.html").chmod(0o644)
    port = free_port()
    (data / "nginx.conf").write_text(NGINX_CONF.format(dir=data, port=port))
    process = subprocess.Popen(
        [nginx, "-c", str(data / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://{LOOPBACK}:{port}/lesson.html")
        stats = asyncio.run(
            run_phase(
                "GET lesson.html",
                f"http://{LOOPBACK}:{port}",
                get("/lesson.html"),
                users=options.users,
                duration=options.duration,
            )
        )
        return [stats.line("nginx (static file)")]
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


def bench_bare(html: str, workers: int, options: Options) -> list[str]:
    data = Path(tempfile.mkdtemp(prefix="peerpath-bare-"))
    (data / "lesson.html").write_text(html)
    port = free_port()
    env = {
        **os.environ,
        "BARE_LESSON_HTML": str(data / "lesson.html"),
        "BARE_DB": str(data / "bare.db"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        _wait_for(f"http://{LOOPBACK}:{port}/lesson/m/l")
        stats = asyncio.run(
            run_phase(
                "GET lesson (Jinja2)",
                f"http://{LOOPBACK}:{port}",
                get("/lesson/m/l"),
                users=options.users,
                duration=options.duration,
            )
        )
        return [stats.line(f"bare FastAPI ({workers} wkr)")]
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)
        shutil.rmtree(data, ignore_errors=True)


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100, help="concurrent simulated users")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--trainees", type=int, default=40, help="registered trainees")
    parser.add_argument(
        "--only", choices=["sqlite", "postgres", "nginx", "bare"], action="append", default=None
    )
    args = parser.parse_args()
    options = Options(users=args.users, duration=min(args.duration, 60), trainees=args.trainees)
    chosen = set(args.only or ["sqlite", "postgres", "nginx", "bare"])
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines: list[str] = []
    if chosen & {"nginx", "bare"}:
        html = lesson_html(options)
        if "nginx" in chosen:
            lines += bench_nginx(html, options)
        if "bare" in chosen:
            lines += bench_bare(html, 1, options)
            lines += bench_bare(html, 2, options)
    if "sqlite" in chosen:
        scratch = Path(tempfile.mkdtemp(prefix="peerpath-load-"))
        try:
            lines += bench_peerpath(
                "PeerPath SQLite (1 wkr)", f"sqlite:///{scratch}/load.db", 1, options
            )
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    if "postgres" in chosen:
        url = fresh_postgres_database()
        try:
            lines += bench_peerpath("PeerPath PostgreSQL (2 wkr)", url, 2, options)
        finally:
            drop_postgres_database(url)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\n{options.users} concurrent users, {options.duration:.0f}s a phase, on "
        f"{os.cpu_count()} cores; load average before/after: {load_before} / {load}"
    )
    print(HEADER)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
