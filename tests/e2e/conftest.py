"""Real-browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, installed by
.ci/run; Playwright never downloads a browser here) against `peerpath serve` on 127.0.0.1.
Skipped, with the reason, when Chromium or Playwright is missing."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench.harness import PASSWORD, PEERPATH, SAMPLE_CURRICULUM, Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
    "--no-first-run",
    "--headless",
]

try:
    from playwright.sync_api import Browser, sync_playwright
except ImportError:  # pragma: no cover - the e2e extra is not installed
    sync_playwright = None  # type: ignore[assignment]
    # The browser test modules import Playwright themselves, so without it they cannot even
    # be collected: leave them out and say so in the report header.
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config: pytest.Config) -> str | None:
    if sync_playwright is None:
        return "browser tests (tests/e2e) not collected: Playwright is not installed (pip install -e '.[e2e]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    if sync_playwright is None:
        reason = "Playwright is not installed (pip install -e '.[e2e]')"
    elif not CHROMIUM.exists():
        reason = "Debian's Chromium is not installed (apt-get install chromium; .ci/run does)"
    for item in items:
        if item.path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.e2e)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("e2e")
    running = Server(f"sqlite:///{data}/e2e.db", curriculum=SAMPLE_CURRICULUM, data_dir=data)
    running.start()
    yield running
    running.kill()
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def make_trainer(server: Server) -> Callable[[], str]:
    """Create a trainer account with `peerpath user create` (staff have no sign-up page)."""

    def _make() -> str:
        email = f"trainer-{uuid.uuid4().hex[:8]}@example.org"
        command = ["user", "create", "--email", email, "--name", "Sam Trainer", "--role", "trainer"]
        done = subprocess.run(
            [str(PEERPATH), *command, "--password-stdin"],
            input=PASSWORD + "\n",
            env=server.environment(),
            cwd=server.data_dir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"`peerpath user create` failed: {done.stderr[-300:]}"
        return email

    return _make


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()
