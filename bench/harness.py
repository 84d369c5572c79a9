"""A real `peerpath serve` on 127.0.0.1 for benchmarks and crash tests, the few HTTP steps
of a trainee's story (register, token, enrol) that they share, and `wrk` (Debian package
`wrk`) with the Lua scripts in bench/wrk/ to load a server from outside Python.

Everything here talks only to the loopback address: load and crash tests never leave the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from app.scoring import ProgrammeProgress
    from app.store.learning import Enrolment

ROOT = Path(__file__).resolve().parents[1]
PEERPATH = Path(sys.executable).with_name("peerpath")
SAMPLE_CURRICULUM = ROOT / "tests" / "data" / "sample-curriculum"
PASSWORD = "correct horse battery staple"
LOOPBACK = "127.0.0.1"
SECRET_KEY = "bench-secret-key-not-for-production"
WRK_SCRIPTS = ROOT / "bench" / "wrk"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def fresh_postgres_database(admin_url: str = POSTGRES_ADMIN_URL) -> str:
    """Create an empty PostgreSQL database for one run and return its URL."""
    import psycopg

    name = f"peerpath_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(url: str, admin_url: str = POSTGRES_ADMIN_URL) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    """`peerpath serve` in its own process group, so a SIGKILL reaches every worker."""

    database_url: str
    workers: int = 1
    curriculum: Path = ROOT
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="peerpath-")))
    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PEERPATH_")}
        env.update(
            DATABASE_URL=self.database_url,
            PEERPATH_DATA_DIR=str(self.data_dir),
            PEERPATH_CURRICULUM_PATH=str(self.curriculum),
            PEERPATH_SECRET_KEY=SECRET_KEY,
            PEERPATH_BASE_URL=self.base_url,
        )
        return env

    def start(self, timeout: float = 120) -> Server:
        self.log_path = self.log_path or self.data_dir / "server.log"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(PEERPATH),
                "serve",
                "--host",
                LOOPBACK,
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            env=self.environment(),
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        ready_in_a_row = 0
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    # With several workers, wait until more than one answered in a row.
                    ready_in_a_row += 1
                    if ready_in_a_row >= self.workers:
                        return
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(
            f"the server did not answer /healthz in {timeout:.0f}s:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Stop the whole process group: SIGKILL for a crash, SIGTERM for a clean stop."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


# --- a trainee's first steps, over HTTP ------------------------------------------------------


def csrf_token(page_html: str) -> str:
    found = _CSRF.search(page_html)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


@dataclass
class Trainee:
    email: str
    cookies: httpx.Cookies
    bearer: dict[str, str]


def register_trainee(base_url: str, programme: str, *, name: str = "Bench trainee") -> Trainee:
    """Register through the form, take an API token and enrol: a signed-in, enrolled trainee."""
    email = f"{uuid.uuid4().hex[:12]}@example.org"
    with httpx.Client(base_url=base_url, timeout=30) as client:
        token = csrf_token(client.get("/register").text)
        response = client.post(
            "/register",
            data={
                "email": email,
                "display_name": name,
                "password": PASSWORD,
                "csrf_token": token,
            },
        )
        if response.status_code != 303:
            raise RuntimeError(f"register: {response.status_code} {response.text[:300]}")
        issued = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
        if issued.status_code != 201:
            raise RuntimeError(f"token: {issued.status_code} {issued.text[:300]}")
        bearer = {"Authorization": f"Bearer {issued.json()['token']}"}
        enrolled = client.post(
            "/api/v1/enrolments", json={"programme_id": programme}, headers=bearer
        )
        if enrolled.status_code not in (200, 201):
            raise RuntimeError(f"enrol: {enrolled.status_code} {enrolled.text[:300]}")
        return Trainee(email=email, cookies=client.cookies, bearer=bearer)


def programme_and_lessons(base_url: str, trainee: Trainee) -> tuple[str, list[tuple[str, str]]]:
    """The trainee's first programme and its lessons in order (module id, lesson id)."""
    with httpx.Client(base_url=base_url, timeout=30, headers=trainee.bearer) as client:
        programmes = client.get("/api/v1/programmes").json()
        programme = programmes[0]["id"]
        outline = client.get(f"/api/v1/enrolments/{programme}/outline").json()
    lessons = [
        (module["id"], lesson["id"])
        for module in outline["modules"]
        for lesson in module["lessons"]
    ]
    return programme, lessons


def first_programme(base_url: str) -> str:
    """The id of the first programme on the server's front page (no sign-in needed)."""
    page = httpx.get(f"{base_url}/", timeout=30).text
    found = re.search(r'href="/learn/([a-z0-9-]+)"', page)
    if not found:
        raise RuntimeError("no programme on the front page")
    return found.group(1)


def cookie_header(trainee: Trainee) -> str:
    """The trainee's cookies as one Cookie header value (what a browser would send)."""
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in trainee.cookies.jar)


# --- certificates, straight through the capability ---------------------------------------------


def eligible_progress(session: Session, enrolment: Enrolment) -> ProgrammeProgress:
    """Standing that meets every requirement of the enrolment's programme (for benchmarks:
    issuing must not depend on a trainee having worked through the whole programme)."""
    from app.catalog import load_release
    from app.scoring import CompetencyResult, ProgrammeProgress

    programme = load_release(session, enrolment.release_id).programme
    return ProgrammeProgress(
        modules_total=list(programme.modules),
        modules_completed=set(programme.modules),
        hours=programme.certification.min_hours + 2.5,
        knowledge_results={},
        required_knowledge_checks=[],
        levels={
            c.id: CompetencyResult(competency=c.id, core=c.core, level="competent", explanation=())
            for c in programme.competencies
        },
        core_competencies=[c.id for c in programme.competencies if c.core],
    )


def certificate_and_verifier_key(server: Server, email: str) -> tuple[str, str]:
    """Issue the trainee's certificate in the server's own database and key folder (as a
    trainer would once they are eligible) and create a verifier API key: (public ID, key)."""
    from sqlalchemy import select

    from app.config import Settings
    from app.credentials.apikeys import create_api_key
    from app.credentials.issuance import Actor, issue_certificate
    from app.store import connect
    from app.store.accounts import User
    from app.store.learning import Enrolment

    settings = Settings(
        database_url=server.database_url,
        data_dir=server.data_dir,
        curriculum_path=server.curriculum,
        base_url=server.base_url,
        secret_key=SECRET_KEY,
    )
    database = connect(settings)
    try:
        with database.unit_of_work() as session:
            enrolment = session.scalars(
                select(Enrolment)
                .join(User, User.id == Enrolment.user_id)
                .where(User.email == email)
            ).first()
            if enrolment is None:
                raise RuntimeError(f"{email} is not enrolled")
            certificate = issue_certificate(
                session,
                enrolment,
                eligible_progress(session, enrolment),
                settings=settings,
                actor=Actor(None, "load bench"),
            )
            key = create_api_key(session, "bench verifier")
            return certificate.public_id, key
    finally:
        database.dispose()


# --- wrk ---------------------------------------------------------------------------------------


@dataclass
class Measurement:
    """One endpoint under load: how many answers, how fast, how many went wrong."""

    name: str
    requests: int
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    error_samples: list[str] = field(default_factory=list)


def wrk_path() -> str | None:
    return shutil.which("wrk")


_REQUESTS_PER_SECOND = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_SUMMARY = re.compile(r"^peerpath-wrk (.*)$", re.M)
_SAMPLE = re.compile(r"^peerpath-wrk-sample (.*)$", re.M)


def parse_wrk(name: str, output: str) -> Measurement:
    """Read wrk's report: requests/s and socket errors from its own lines, the rest from the
    line bench/wrk/report.lua's done() hook prints (every script here loads it)."""
    found = _REQUESTS_PER_SECOND.search(output)
    summary_line = _SUMMARY.search(output)
    if not found or not summary_line:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    summary = {
        key: int(value)
        for key, value in (pair.split("=") for pair in summary_line.group(1).split())
    }
    sockets = _SOCKET_ERRORS.search(output)
    socket_errors = sum(int(n) for n in sockets.groups()) if sockets else 0
    # Scripts with a response() hook count every status but the expected one (3xx too);
    # without one, wrk's own count of answers >= 400 ("Non-2xx or 3xx responses") is it.
    bad_status = summary["unexpected"] if summary["checked"] else summary["status"]
    samples = _SAMPLE.findall(output)
    return Measurement(
        name=name,
        requests=summary["requests"],
        throughput=float(found.group(1)),
        # report.lua's exact microseconds (the --latency table rounds to three digits).
        p50_ms=summary["p50"] / 1000,
        p95_ms=summary["p95"] / 1000,
        p99_ms=summary["p99"] / 1000,
        errors=socket_errors + bad_status,
        error_samples=[
            *([f"socket errors: {sockets.group(0)}"] if socket_errors and sockets else []),
            *samples,
        ],
    )


def run_wrk(
    name: str,
    url: str,
    script: str,
    args: Sequence[str] = (),
    *,
    connections: int = 100,
    seconds: float = 10,
    threads: int = 2,
) -> Measurement:
    """`wrk` against a loopback URL for a bounded time, with one of bench/wrk/'s scripts.

    The timeout is long on purpose: a slow answer belongs in p99, not in a separate count
    of requests wrk gave up waiting for (its default is 2 s)."""
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise ValueError(f"load only loopback addresses, not {url}")
    wrk = wrk_path()
    if wrk is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    command = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(WRK_SCRIPTS / script),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse_wrk(name, done.stdout)


def _cpu_seconds(group: int) -> float:
    """CPU time used so far by every live process in a process group (Linux /proc)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces; the fields after ")" are fixed.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_idle(group: int, timeout: float = 30, interval: float = 0.5) -> bool:
    """Wait until a server's process group stops using CPU: wrk leaves up to one request per
    connection in flight when it stops, and a slow server would still be answering them
    (to nobody) while the next phase is measured. False if it never settled."""
    deadline = time.monotonic() + timeout
    before = _cpu_seconds(group)
    while time.monotonic() < deadline:
        time.sleep(interval)
        now = _cpu_seconds(group)
        if now - before < 0.05 * interval:
            return True
        before = now
    print(f"warning: the server was still busy {timeout:.0f}s after the load stopped")
    return False
