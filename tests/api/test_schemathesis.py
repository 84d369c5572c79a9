"""Schemathesis fuzzes every operation of /api/v1/openapi.json against a real server on
127.0.0.1: as a signed-in trainee (bearer token) and unauthenticated. No answer may be a
server error (5xx), every answer's status code and content type must be documented (the 4xx
are RFC 9457 problems, listed per route with app.web.api.responses.problems), and every
answer's body must match its documented schema.

Bounded: a fixed seed, a few examples per operation and a time budget per run.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.harness import SAMPLE_CURRICULUM, Server, first_programme, register_trainee

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)

pytestmark = pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("schemathesis")
    running = Server(f"sqlite:///{data}/api.db", curriculum=SAMPLE_CURRICULUM, data_dir=data)
    running.start()
    yield running
    running.kill()
    shutil.rmtree(data, ignore_errors=True)


def _fuzz(server: Server, *headers: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{server.base_url}/api/v1/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        "15",
        "--seed",
        "8",
        "--max-time",
        "75",
        "--request-timeout",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
        # Deleting the account would sign the trainee out for every later case.
        "--exclude-path",
        "/api/v1/me/delete",
        "--exclude-path",
        "/api/v1/tokens/current",
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
    ]
    for header in headers:
        command += ["-H", header]
    # Run in the server's scratch folder: schemathesis keeps a .schemathesis/ cache where it runs.
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=server.data_dir
    )


def test_api_as_a_trainee_has_no_server_errors(server: Server) -> None:
    trainee = register_trainee(server.base_url, first_programme(server.base_url))
    done = _fuzz(server, f"Authorization: {trainee.bearer['Authorization']}")
    print(done.stdout[-6000:])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]


def test_api_unauthenticated_has_no_server_errors(server: Server) -> None:
    done = _fuzz(server)
    print(done.stdout[-6000:])
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
