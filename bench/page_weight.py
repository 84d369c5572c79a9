"""Lesson page weight: every lesson page of a curriculum as a signed-in trainee sees it, plus
the stylesheet, gzip-compressed as a server would send them. Target: under 50 KB together.

    .venv/bin/python bench/page_weight.py [CURRICULUM_PATH]   (default: this repository)

Images are not counted (they are separate, cacheable requests, and lessons may have none).
"""

from __future__ import annotations

import gzip
import re
import statistics
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import learning  # noqa: E402
from app.catalog import load_release, programme_records  # noqa: E402
from app.config import Settings  # noqa: E402
from app.learning import ReportedProgress  # noqa: E402
from app.store import connect  # noqa: E402
from app.store.accounts import User  # noqa: E402
from app.store.migrate import upgrade  # noqa: E402
from app.web import create_app  # noqa: E402

TARGET_BYTES = 50 * 1024
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def main() -> None:
    curriculum = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{tmp}/weight.db",
            data_dir=Path(tmp) / "var",
            curriculum_path=curriculum,
            secret_key="page-weight-bench",
        )
        database = connect(settings)
        with database.writer.connect() as connection:
            upgrade(connection)
            connection.commit()
        with TestClient(create_app(settings)) as client:
            token = _CSRF.search(client.get("/register").text)
            assert token
            client.post(
                "/register",
                data={
                    "email": "weight@example.org",
                    "display_name": "Page Weight",
                    "password": "correct horse battery staple",
                    "csrf_token": token.group(1),
                },
            )
            pages: list[tuple[int, int, str]] = []
            with database.unit_of_work() as session:
                user = session.scalars(select(User)).one()
                releases = []
                for record in programme_records(session):
                    enrolment = learning.enrol(session, user, record.programme_id)
                    release = load_release(session, enrolment.release_id)
                    # Everything complete, so that no module is locked by its prerequisites.
                    learning.merge_progress(
                        session,
                        enrolment,
                        release,
                        ReportedProgress(completed=[(key, None) for key in release.lesson_ids()]),
                    )
                    releases.append(release)
            for release in releases:
                for module_id, lesson_id in release.lesson_ids():
                    path = f"/learn/{release.programme.id}/{module_id}/{lesson_id}"
                    response = client.get(path)
                    assert response.status_code == 200, (path, response.status_code)
                    assert "<script" not in response.text, f"{path} has a script"
                    pages.append((gzipped(response.content), len(response.content), path))
            css = client.get("/static/style.css").content
        database.dispose()

    css_gz = gzipped(css)
    pages.sort(reverse=True)
    sizes = [gz for gz, _, _ in pages]
    print(f"curriculum: {curriculum}")
    print(f"lesson pages: {len(pages)}; no <script> on any")
    print(f"stylesheet: {len(css):,} B raw, {css_gz:,} B gzipped")
    print(f"lesson HTML gzipped: median {statistics.median(sizes):,.0f} B, largest {sizes[0]:,} B")
    print("heaviest lessons (HTML gzipped / raw):")
    for gz, raw, path in pages[:5]:
        print(f"  {gz:>7,} B / {raw:>8,} B  {path}")
    heaviest = sizes[0] + css_gz
    typical = statistics.median(sizes) + css_gz
    verdict = "under" if heaviest < TARGET_BYTES else "OVER"
    print(
        f"lesson page + CSS, gzipped: typical {typical / 1024:.1f} KB, heaviest "
        f"{heaviest / 1024:.1f} KB ({verdict} the {TARGET_BYTES // 1024} KB target)"
    )
    if heaviest >= TARGET_BYTES:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
