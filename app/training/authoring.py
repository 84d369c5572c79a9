"""Authoring in the browser: drafts from an uploaded bundle or one edited Markdown file,
checked by the same compiler as `peerpath check`, previewed, and published with a version bump.

Drafts live in `data_dir/drafts/<id>/` (the sources, the diagnostics and, when valid, the
compiled release). Every published release keeps its sources in `data_dir/sources/<hash>/`,
so the next edit starts from exactly what trainees see.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.catalog import UnknownProgramme, current_record, publish_release
from app.compiler import Diagnostic, Release, compile_curriculum, load_release
from app.compiler.releases import RELEASE_FILE
from app.store.accounts import User
from app.store.base import utcnow
from app.store.releases import ReleaseRecord
from app.training.bundles import BundleError, copy_sources, extract_bundle

Bump = Literal["patch", "minor", "major"]
BUMPS: tuple[Bump, ...] = ("patch", "minor", "major")
MAX_MARKDOWN_BYTES = 512 * 1024
MAX_CHANGELOG_CHARS = 2000
_DRAFT_ID = re.compile(r"^[0-9a-f]{32}$")
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")
_VERSION_LINE = re.compile(r"^version:[ \t]*[^\n#]*", re.MULTILINE)
_EDITABLE = re.compile(r"^modules/[a-z0-9-]+/[A-Za-z0-9._-]+\.md$")


class AuthoringError(ValueError):
    """An authoring request that cannot be done, with a message the trainer can act on."""


class DraftNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Draft:
    id: str
    owner_id: int
    programme_id: str
    origin: str  # what it was made from, in words
    created_at: str
    diagnostics: list[Diagnostic]
    folder: Path

    @property
    def source(self) -> Path:
        return self.folder / "source"

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def publishable(self) -> bool:
        return not self.errors and (self.folder / RELEASE_FILE).is_file()

    def release(self) -> Release:
        if not self.publishable:
            raise AuthoringError("This draft has errors, so it cannot be previewed or published.")
        return load_release(self.folder / RELEASE_FILE)


def drafts_dir(data_dir: Path) -> Path:
    return data_dir / "drafts"


def sources_dir(data_dir: Path, content_hash: str) -> Path:
    return data_dir / "sources" / content_hash


# --- versions ---------------------------------------------------------------------------------


def version_tuple(version: str) -> tuple[int, int, int]:
    found = _VERSION.match(version)
    if not found:
        raise AuthoringError(f"“{version}” is not a version like 1.2.3.")
    return int(found[1]), int(found[2]), int(found[3])


def bumped(version: str, bump: Bump) -> str:
    """The next version: 1.2.3 → 1.2.4 (patch), 1.3.0 (minor), 2.0.0 (major)."""
    major, minor, patch = version_tuple(version)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


# --- where the current sources are ----------------------------------------------------------


@dataclass(frozen=True)
class CurrentSources:
    record: ReleaseRecord
    folder: Path
    stored: bool  # False: the bundled curriculum folder, which may differ from what is published


def current_sources(
    session: Session, programme_id: str, data_dir: Path, bundled: Path
) -> CurrentSources:
    """The source files of the programme's current release (or the bundled curriculum)."""
    try:
        record = current_record(session, programme_id)
    except UnknownProgramme:
        raise AuthoringError(f"There is no published programme called “{programme_id}”.") from None
    stored = sources_dir(data_dir, record.content_hash)
    if stored.is_dir():
        return CurrentSources(record, stored, True)
    if (bundled / "curriculum" / f"{programme_id}.yaml").is_file():
        return CurrentSources(record, bundled, False)
    raise AuthoringError(
        "The sources of this release are not on the server. Upload a bundle of the "
        "curriculum to start editing."
    )


def markdown_files(folder: Path) -> list[str]:
    """The module Markdown files a trainer may edit, as bundle paths."""
    root = folder / "modules"
    if not root.is_dir():
        return []
    return sorted(
        p.relative_to(folder).as_posix()
        for p in root.glob("*/*.md")
        if p.is_file() and not p.is_symlink() and _EDITABLE.match(p.relative_to(folder).as_posix())
    )


# --- making drafts ----------------------------------------------------------------------------


def draft_from_bundle(
    data: bytes, owner: User, data_dir: Path, *, programme_id: str | None = None
) -> Draft:
    """A draft from an uploaded zip (refused with BundleError before anything is written)."""
    extracted = extract_bundle(data, drafts_dir(data_dir) / ".incoming")
    return _new_draft(extracted, owner, data_dir, programme_id, origin="uploaded bundle")


def draft_from_edit(
    sources: CurrentSources, path: str, text: str, owner: User, data_dir: Path
) -> Draft:
    """A draft of the current sources with one module Markdown file replaced."""
    if path not in markdown_files(sources.folder):
        raise AuthoringError("Only an existing module Markdown file can be edited here.")
    data = text.replace("\r\n", "\n").encode("utf-8")
    if len(data) > MAX_MARKDOWN_BYTES:
        raise AuthoringError(
            f"The file is {len(data) // 1024} KB; one Markdown file can be at most "
            f"{MAX_MARKDOWN_BYTES // 1024} KB."
        )
    copied = copy_sources(sources.folder, drafts_dir(data_dir) / ".incoming")
    (copied / path).write_bytes(data)
    return _new_draft(
        copied, owner, data_dir, sources.record.programme_id, origin=f"edit of {path}"
    )


def _manifest_ids(source: Path) -> list[str]:
    folder = source / "curriculum"
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file()) if folder.is_dir() else []


def _new_draft(
    source: Path, owner: User, data_dir: Path, programme_id: str | None, *, origin: str
) -> Draft:
    try:
        manifests = _manifest_ids(source)
        if programme_id is None:
            if len(manifests) != 1:
                raise BundleError(
                    "A bundle must hold exactly one programme manifest in curriculum/ "
                    f"(found: {', '.join(manifests) or 'none'})."
                )
            programme_id = manifests[0]
        draft_id = secrets.token_hex(16)
        folder = drafts_dir(data_dir) / draft_id
        folder.mkdir(parents=True)
        source.rename(folder / "source")
    except BaseException:
        shutil.rmtree(source, ignore_errors=True)
        raise
    result = compile_curriculum(
        folder / "source",
        programme=programme_id,
        cache_dir=data_dir / "cache" / "compiler",
        workers=1,
    )
    if result.release is not None and not result.errors:
        (folder / RELEASE_FILE).write_bytes(result.release.model_dump_json().encode())
    meta = {
        "id": draft_id,
        "owner_id": owner.id,
        "programme_id": programme_id,
        "origin": origin,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "diagnostics": [asdict(d) for d in result.diagnostics],
    }
    (folder / "draft.json").write_text(json.dumps(meta))
    return load_draft(data_dir, draft_id, owner)


def load_draft(data_dir: Path, draft_id: str, user: User) -> Draft:
    """A draft its owner (or an administrator) may see."""
    if not _DRAFT_ID.match(draft_id):
        raise DraftNotFound(draft_id)
    folder = drafts_dir(data_dir) / draft_id
    try:
        meta = json.loads((folder / "draft.json").read_text())
    except (OSError, ValueError):
        raise DraftNotFound(draft_id) from None
    if meta["owner_id"] != user.id and user.role != "admin":
        raise DraftNotFound(draft_id)
    return Draft(
        id=draft_id,
        owner_id=meta["owner_id"],
        programme_id=meta["programme_id"],
        origin=meta["origin"],
        created_at=meta["created_at"],
        diagnostics=[Diagnostic(**d) for d in meta["diagnostics"]],
        folder=folder,
    )


def discard_draft(draft: Draft) -> None:
    shutil.rmtree(draft.folder, ignore_errors=True)


# --- publishing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    record: ReleaseRecord
    previous_version: str | None


class PublishRefused(AuthoringError):
    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


def publish_draft(
    session: Session,
    draft: Draft,
    actor: User,
    data_dir: Path,
    *,
    bump: str,
    changelog: str,
) -> Published:
    """Publish a draft as the programme's new release: version bumped, compiled again from
    exactly the files kept, refused if anything has an error. Recorded in the audit log.
    The caller discards the draft once the transaction has committed."""
    if bump not in BUMPS:
        raise AuthoringError("Choose patch, minor or major.")
    changelog = changelog.strip()
    if not changelog or len(changelog) > MAX_CHANGELOG_CHARS:
        raise AuthoringError(
            f"Say what changed, for trainees and trainers (up to {MAX_CHANGELOG_CHARS} characters)."
        )
    if draft.errors:
        raise PublishRefused("This draft has errors; fix them and try again.", draft.errors)
    try:
        current: ReleaseRecord | None = current_record(session, draft.programme_id)
    except UnknownProgramme:
        current = None
    staging = copy_sources(draft.source, data_dir / "sources" / ".incoming")
    try:
        manifest = staging / "curriculum" / f"{draft.programme_id}.yaml"
        text = manifest.read_text(encoding="utf-8")
        declared = _VERSION_LINE.search(text)
        if declared is None:
            raise AuthoringError("The programme manifest has no top-level “version:” line.")
        if current is not None:
            version = bumped(current.version, bump)
            if version_tuple(version) <= version_tuple(current.version):
                raise AuthoringError(f"The new version must be greater than {current.version}.")
            manifest.write_text(_VERSION_LINE.sub(f"version: {version}", text, count=1), "utf-8")
        result = compile_curriculum(
            staging,
            programme=draft.programme_id,
            cache_dir=data_dir / "cache" / "compiler",
            workers=1,
        )
        if result.release is None or result.errors:
            raise PublishRefused("The curriculum has errors; nothing was published.", result.errors)
        release = result.release
        if session.scalar(
            select(ReleaseRecord.id).where(ReleaseRecord.content_hash == release.content_hash)
        ):
            raise AuthoringError("Exactly this release is already published.")
        kept = sources_dir(data_dir, release.content_hash)
        if kept.exists():
            shutil.rmtree(staging)
        else:
            staging.rename(kept)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    record = publish_release(session, release, changelog=changelog)
    audit.record(
        session,
        actor,
        "release.published",
        "release",
        record.id,
        {
            "programme": release.programme.id,
            "version": release.version,
            "previous_version": current.version if current else None,
            "content_hash": release.content_hash,
            "changelog": changelog,
            "from": draft.origin,
        },
    )
    return Published(record, current.version if current else None)
