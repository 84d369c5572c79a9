"""A real `peerpath serve` on 127.0.0.1 for benchmarks and crash tests, and the few HTTP steps
of a trainee's story (register, token, enrol) that they share.

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
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PEERPATH = Path(sys.executable).with_name("peerpath")
SAMPLE_CURRICULUM = ROOT / "tests" / "data" / "sample-curriculum"
PASSWORD = "correct horse battery staple"
LOOPBACK = "127.0.0.1"
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
            PEERPATH_SECRET_KEY="bench-secret-key-not-for-production",
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
