"""Authoring in the browser: a bundle upload is checked before anything is written, the same
diagnostics as `peerpath check` are shown, nothing with errors is published, and publishing
makes a new release that new enrolments use while existing ones stay pinned."""

from __future__ import annotations

import html
import io
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from app.compiler import check_curriculum
from app.config import Settings
from app.store import Database, ReleaseRecord
from app.store.audit import AuditEntry
from app.store.learning import Enrolment
from app.training import BundleError, bundles, read_bundle
from tests.conftest import SAMPLE_CURRICULUM
from tests.journeys import PROGRAMME, csrf_from, enrol
from tests.training.factories import Person, person

LESSON = "modules/welcome/01-what-peer-support-is.md"
LESSON_URL = "/learn/sample-programme/welcome/what-peer-support-is"


def sample_bundle(extra: dict[str, bytes] | None = None, *, prefix: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(SAMPLE_CURRICULUM.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + path.relative_to(SAMPLE_CURRICULUM).as_posix())
        for name, data in (extra or {}).items():
            archive.writestr(prefix + name, data)
    return out.getvalue()


def upload(trainer: Person, data: bytes):  # type: ignore[no-untyped-def]
    token = csrf_from(trainer.client, "/train/authoring")
    return trainer.client.post(
        "/train/authoring/upload",
        data={"csrf_token": token},
        files={"bundle": ("curriculum.zip", data, "application/zip")},
        follow_redirects=False,
    )


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if not p.is_dir()] if folder.exists() else []


def edit(trainer: Person, text: str, path: str = LESSON):  # type: ignore[no-untyped-def]
    page = f"/train/authoring/sample-programme/edit?path={path}"
    return trainer.client.post(
        "/train/authoring/sample-programme/edit",
        data={"csrf_token": csrf_from(trainer.client, page), "path": path, "text": text},
        follow_redirects=False,
    )


def current_source(trainer: Person, path: str = LESSON) -> str:
    page = trainer.client.get(f"/train/authoring/sample-programme/edit?path={path}")
    assert page.status_code == 200
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.text, re.S)
    assert found
    return html.unescape(found.group(1))


def publish(trainer: Person, draft_url: str, bump: str = "minor", changelog: str = "New intro"):  # type: ignore[no-untyped-def]
    return trainer.client.post(
        f"{draft_url}/publish",
        data={
            "csrf_token": csrf_from(trainer.client, draft_url),
            "bump": bump,
            "changelog": changelog,
        },
        follow_redirects=False,
    )


def _symlink_entry() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(SAMPLE_CURRICULUM.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(SAMPLE_CURRICULUM).as_posix())
        link = zipfile.ZipInfo("modules/welcome/passwd.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


HOSTILE = {
    "dot-dot": (sample_bundle({"../escaped.md": b"x"}), "“..”"),
    "nested dot-dot": (sample_bundle({"modules/../../escaped.md": b"x"}), "“..”"),
    "absolute": (sample_bundle({"/tmp/escaped.md": b"x"}), "absolute"),
    "drive letter": (sample_bundle({"C:/escaped.md": b"x"}), "absolute"),
    "backslash": (sample_bundle({"modules\\..\\escaped.md": b"x"}), "backslash"),
    "symlink": (_symlink_entry(), "symbolic link"),
    "not a zip": (b"this is not a zip file", "not a zip"),
    "no curriculum": (
        zipfile.ZipFile(io.BytesIO(), "w") and b"PK\x05\x06" + b"\0" * 18,
        "no curriculum/",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_bundle_is_refused_and_nothing_is_written(
    app: FastAPI, db: Database, settings: Settings, tmp_path: Path, case: str
) -> None:
    trainer = person(app, db, "trainer")
    data, message = HOSTILE[case]
    response = upload(trainer, data)
    assert response.status_code == 422
    assert "The bundle was refused; nothing was saved" in response.text
    assert message in html.unescape(response.text)
    assert files_under(settings.data_dir / "drafts") == []
    assert not (tmp_path / "escaped.md").exists()
    assert not (settings.data_dir / "escaped.md").exists()


def test_an_oversized_upload_is_refused_with_a_clear_error_and_nothing_written(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    trainer = person(app, db, "trainer")
    # Just over the bundle limit: read, measured and refused.
    just_over = sample_bundle({"modules/welcome/big.bin": os.urandom(bundles.MAX_COMPRESSED_BYTES)})
    response = upload(trainer, just_over)
    assert response.status_code == 413
    assert "The bundle was refused; nothing was saved" in response.text
    assert "a bundle can be at most 10 MB" in response.text
    # Far over it: refused from its Content-Length, before the body is even parsed.
    far_over = sample_bundle({"modules/welcome/big.bin": os.urandom(12 * 1024 * 1024)})
    response = upload(trainer, far_over)
    assert response.status_code == 413
    assert "the limit is 10 MB. Nothing was saved." in response.text
    assert files_under(settings.data_dir / "drafts") == []


def test_a_file_over_the_per_file_limit_and_a_zip_bomb_are_refused(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    trainer = person(app, db, "trainer")
    too_big = sample_bundle({"modules/welcome/huge.md": b"a" * (bundles.MAX_FILE_BYTES + 1)})
    response = upload(trainer, too_big)
    assert response.status_code == 413
    assert "each file can be at most 5 MB" in response.text
    bomb = sample_bundle({"modules/welcome/bomb.md": b"\0" * (4 * 1024 * 1024)})
    response = upload(trainer, bomb)
    assert response.status_code == 413
    assert "zip bomb" in response.text
    assert files_under(settings.data_dir / "drafts") == []


def test_limits_on_file_count_and_total_size(monkeypatch: pytest.MonkeyPatch) -> None:
    many = sample_bundle({f"modules/welcome/f{i}.txt": b"x" for i in range(30)})
    monkeypatch.setattr(bundles, "MAX_FILES", 20)
    with pytest.raises(bundles.BundleTooLarge, match="at most 20"):
        read_bundle(many)
    monkeypatch.setattr(bundles, "MAX_FILES", 2000)
    monkeypatch.setattr(bundles, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(bundles.BundleTooLarge, match="expands to more than"):
        read_bundle(sample_bundle({"modules/welcome/pad.txt": b"y" * 20_000}))


def test_an_entry_larger_than_its_header_says_is_caught_while_extracting(tmp_path: Path) -> None:
    data = bytearray(sample_bundle({"modules/welcome/liar.md": b"z" * 5000}))
    # Shrink the declared size in the central directory: the real bytes must still be counted.
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("modules/welcome/liar.md")
    central = data.rfind(
        b"PK\x01\x02", 0, data.find(b"modules/welcome/liar.md", info.header_offset + 30)
    )
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    with pytest.raises(BundleError):
        bundles.extract_bundle(bytes(data), tmp_path / "out")
    assert files_under(tmp_path / "out") == []


def test_a_valid_bundle_shows_the_cli_diagnostics_and_a_preview(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    trainer = person(app, db, "trainer")
    broken = sample_bundle(
        {"modules/welcome/03-broken.md": b"---\nid: Broken Id\ntitle: x\n---\n\nText\n"},
        prefix="my-curriculum/",
    )
    response = upload(trainer, broken)
    assert response.status_code == 303, response.text
    draft_url = response.headers["location"]
    page = trainer.client.get(draft_url)
    draft_source = next((settings.data_dir / "drafts").glob("*/source"))
    expected = [str(d) for d in check_curriculum(draft_source)]
    assert any(": error: " in line for line in expected)
    for line in expected:
        assert html.escape(line, quote=False) in page.text
    assert "modules/welcome/03-broken.md:2:" in page.text
    assert "Publish</button>" not in page.text
    before = _release_count(db)
    refused = publish(trainer, draft_url)
    assert refused.status_code == 422
    assert _release_count(db) == before


def _release_count(db: Database) -> int:
    with db.unit_of_work(write=False) as session:
        return len(session.scalars(select(ReleaseRecord.id)).all())


def test_an_edit_with_errors_is_never_published(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    response = edit(trainer, "---\nid: what-peer-support-is\ntitle: [unclosed\n---\nText\n")
    assert response.status_code == 303
    draft_url = response.headers["location"]
    page = trainer.client.get(draft_url)
    assert f"{LESSON}:" in page.text and ": error: " in page.text
    assert (
        trainer.client.get(f"{draft_url}/preview/welcome/what-peer-support-is").status_code == 409
    )
    before = _release_count(db)
    assert publish(trainer, draft_url).status_code == 422
    assert _release_count(db) == before


def test_publishing_makes_a_new_release_for_new_enrolments_and_keeps_others_pinned(
    app: FastAPI, db: Database, settings: Settings
) -> None:
    trainer = person(app, db, "trainer", name="Publishing Trainer")
    early = person(app, db, "trainee", name="Early")
    enrol(early.client)
    original = current_source(trainer)
    changed = original.replace(
        "## A different kind of help", "## A different kind of help\n\nA brand-new opening line."
    )
    response = edit(trainer, changed)
    assert response.status_code == 303
    draft_url = response.headers["location"]
    draft = trainer.client.get(draft_url)
    assert "0 error(s)" in draft.text
    assert "0.2.0" in draft.text  # the minor bump offered from 0.1.0
    preview = trainer.client.get(f"{draft_url}/preview/welcome/what-peer-support-is")
    assert preview.status_code == 200
    assert "A brand-new opening line." in preview.text
    assert "Preview of a draft" in preview.text

    assert publish(trainer, draft_url, "minor", "A clearer opening").status_code == 303

    late = person(app, db, "trainee", name="Late")
    enrol(late.client)
    with db.unit_of_work(write=False) as session:
        records = session.scalars(
            select(ReleaseRecord)
            .where(ReleaseRecord.programme_id == PROGRAMME)
            .order_by(ReleaseRecord.id)
        ).all()
        assert [r.version for r in records] == ["0.1.0", "0.2.0"]
        assert records[-1].changelog == "A clearer opening"
        pinned = {e.user_id: e.release_id for e in session.scalars(select(Enrolment)).all()}
        assert pinned[early.id] == records[0].id
        assert pinned[late.id] == records[1].id
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "release.published")
        ).one()
        assert entry.actor_id == trainer.id
        assert entry.details["version"] == "0.2.0"
        assert entry.details["previous_version"] == "0.1.0"
        kept = settings.data_dir / "sources" / records[-1].content_hash
    assert "A brand-new opening line." not in early.client.get(LESSON_URL).text
    assert "A brand-new opening line." in late.client.get(LESSON_URL).text
    assert "version: 0.2.0" in (kept / "curriculum" / "sample-programme.yaml").read_text()
    # The next edit starts from what was published, and the draft is gone.
    assert "A brand-new opening line." in current_source(trainer)
    assert trainer.client.get(draft_url).status_code == 404
    admin = person(app, db, "admin")
    log = admin.client.get("/admin/audit?action=release.published")
    assert "Publishing Trainer" in log.text and "0.2.0" in log.text


def test_a_publish_needs_a_changelog_and_a_known_bump(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    draft_url = edit(trainer, current_source(trainer) + "\nOne more line.\n").headers["location"]
    assert publish(trainer, draft_url, "patch", "   ").status_code == 422
    assert publish(trainer, draft_url, "huge", "x").status_code == 422
    assert _release_count(db) == 1
    assert publish(trainer, draft_url, "patch", "Typo").status_code == 303
    with db.unit_of_work(write=False) as session:
        versions = [
            r.version for r in session.scalars(select(ReleaseRecord).order_by(ReleaseRecord.id))
        ]
    assert versions == ["0.1.0", "0.1.1"]


def test_only_existing_module_files_can_be_edited(app: FastAPI, db: Database) -> None:
    trainer = person(app, db, "trainer")
    for path in ("../../etc/passwd", "curriculum/sample-programme.yaml", "modules/welcome/new.md"):
        assert (
            trainer.client.get(f"/train/authoring/sample-programme/edit?path={path}").status_code
            == 404
        )
        assert edit(trainer, "x", path=path).status_code == 422
